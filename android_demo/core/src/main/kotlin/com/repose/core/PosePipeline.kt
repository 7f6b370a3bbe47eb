package com.repose.core

import java.nio.ByteBuffer

/** What [PosePipeline.prepare] did to one frame: enough to map keypoints back. */
data class PreparedFrame(val geometry: FrameGeometry, val window: SquareWindow, val inputSize: Int)

/**
 * One decoded pose: [input] in model-input pixels, [upright] in pixels of the upright frame
 * (the frame rotated by `rotationDegrees`, before any mirroring).
 */
class Pose(val input: Keypoints, val upright: Keypoints, val frame: PreparedFrame) {
    /** Keypoints in the raw analysis frame (sensor orientation, as the YUV planes are laid out). */
    fun inFrame(): Keypoints = upright.map { frame.geometry.uprightToFrame(it) }
}

/** Maps upright-frame keypoints (possibly smoothed) to view coordinates of a FILL_CENTER preview. */
object PoseMapping {
    fun uprightToView(upright: Keypoints, geometry: FrameGeometry, viewWidth: Int, viewHeight: Int): Keypoints {
        val fc = FillCenter(viewWidth, viewHeight, geometry.uprightWidth, geometry.uprightHeight)
        return upright.map { fc.map(geometry.uprightToDisplay(it)) }
    }
}

/**
 * Everything between a camera frame and keypoints, without Android: YUV_420_888 -> RGB ->
 * upright -> square crop/letterbox -> model input buffer; model output buffer -> heatmaps ->
 * keypoints in input and frame coordinates. Buffers are reused between frames; not thread-safe
 * (use one per analysis thread).
 */
class PosePipeline(val sidecar: Sidecar, var crop: CropMode = sidecar.crop) {
    val inputSize = sidecar.input.width

    /**
     * The tracking crop (null: off): when set, each frame is cropped around the previous frame's
     * confident keypoints ([TrackingCrop]) instead of the fixed [crop] window; [decode] feeds it.
     */
    var tracking: TrackingCrop? = null

    init {
        require(sidecar.input.height == inputSize) { "model input must be square, got ${sidecar.input.shape}" }
    }

    /** Fill with [prepare], hand to `Interpreter.run(inputBuffer, outputBuffer)`, then [decode]. */
    val inputBuffer: ByteBuffer = TensorIO.allocate(sidecar.input)
    val outputBuffer: ByteBuffer = TensorIO.allocate(sidecar.output)

    /** The last model input as RGB floats 0..255 (before quantisation), NHWC. */
    val inputPixels = FloatArray(inputSize * inputSize * 3)

    /** The last dequantised heatmaps, H x W x K. */
    val heatmaps = FloatArray(sidecar.output.elementCount)

    private val converter = YuvToRgbConverter()
    private val resizer = SquareResizer(inputSize)
    private var frameRgb: RgbImage? = null
    private var uprightRgb: RgbImage? = null

    /** Converts a YUV_420_888 frame and prepares the model input from it. */
    fun prepare(width: Int, height: Int, y: YuvPlane, u: YuvPlane, v: YuvPlane, rotationDegrees: Int, mirror: Boolean): PreparedFrame {
        val rgb = converter.convert(width, height, y, u, v, frameRgb)
        frameRgb = rgb
        return prepare(rgb, rotationDegrees, mirror)
    }

    /** Prepares the model input from an RGB frame in sensor orientation. */
    fun prepare(frame: RgbImage, rotationDegrees: Int, mirror: Boolean): PreparedFrame {
        val rot = Rotation.normalize(rotationDegrees)
        val upright =
            if (rot == 0) {
                frame
            } else {
                Rotation.rotate(frame, rot, uprightRgb).also { uprightRgb = it }
            }
        val window = tracking?.window(upright.width, upright.height, crop) ?: SquareWindow.of(upright.width, upright.height, crop)
        resizer.resize(upright, window, inputPixels)
        TensorIO.writeInput(inputPixels, sidecar.input, inputBuffer)
        outputBuffer.rewind()
        return PreparedFrame(FrameGeometry(frame.width, frame.height, rot, mirror), window, inputSize)
    }

    /** Decodes [outputBuffer] (filled by the interpreter) for the frame [prepare] returned. */
    fun decode(frame: PreparedFrame): Pose {
        outputBuffer.rewind()
        TensorIO.readOutput(outputBuffer, sidecar.output, heatmaps)
        val out = sidecar.output
        val input = HeatmapDecoder.decode(heatmaps, out.height, out.width, out.channels, sidecar.stride)
        val upright = input.map { frame.window.inputToSource(it.x, it.y, frame.inputSize) }
        tracking?.update(upright, frame.geometry.uprightWidth, frame.geometry.uprightHeight)
        return Pose(input, upright, frame)
    }
}
