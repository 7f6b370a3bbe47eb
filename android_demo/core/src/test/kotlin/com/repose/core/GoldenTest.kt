package com.repose.core

import java.nio.ByteBuffer
import java.nio.ByteOrder
import kotlin.math.abs
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.opentest4j.AssertionFailedError

/** The Kotlin core against the Python reference (tools/make_android_fixtures.py) on a real image. */
class GoldenTest {
    private fun pipeline(fx: Fixtures): PosePipeline {
        val sc = Sidecar.parse(fx.sidecarText)
        return PosePipeline(sc, CropMode.of(fx.manifest["crop"] as String))
    }

    @Test
    fun sidecarFromPythonParses() {
        val fx = Fixtures.load()
        val sc = Sidecar.parse(fx.sidecarText)
        assertEquals(fx.manifest["model_file"], sc.modelFile)
        assertEquals(fx.shape("input"), sc.input.shape)
        assertEquals(fx.shape("output_raw"), sc.output.shape)
        assertEquals(fx.entry("input")["dtype"], sc.input.type.jsonName)
        assertEquals(fx.entry("output_raw")["dtype"], sc.output.type.jsonName)
        assertEquals(sc.output.channels, sc.keypointNames.size)
    }

    @Test
    fun cropWindowMatches() {
        val fx = Fixtures.load()
        val img = fx.rgbImage()
        val w = SquareWindow.of(img.width, img.height, CropMode.of(fx.manifest["crop"] as String))
        val g = fx.entry("window")
        assertEquals(g["x0"] as Double, w.x0)
        assertEquals(g["y0"] as Double, w.y0)
        assertEquals(g["side"] as Double, w.side)
    }

    @Test
    fun inputPixelsMatchPythonExactly() {
        val fx = Fixtures.load()
        val p = pipeline(fx)
        p.prepare(fx.rgbImage(), 0, false)
        val golden = fx.floats("input_pixels")
        assertEquals(golden.size, p.inputPixels.size)
        val d = Golden.maxAbsDiff(golden, p.inputPixels)
        assertTrue(d <= 1e-4f, "input pixels differ from Python by up to $d")
    }

    @Test
    fun inputTensorMatchesPythonWithinOneLsb() {
        val fx = Fixtures.load()
        val p = pipeline(fx)
        p.prepare(fx.rgbImage(), 0, false)
        val golden = fx.bytes("input")
        val spec = p.sidecar.input
        assertEquals(spec.byteCount, golden.size)
        val gb = ByteBuffer.wrap(golden).order(ByteOrder.LITTLE_ENDIAN)
        val kb = p.inputBuffer.duplicate().order(p.inputBuffer.order())
        var maxDiff = 0.0
        var differing = 0
        for (i in 0 until spec.elementCount) {
            val d =
                when (spec.type) {
                    TensorType.FLOAT32 -> abs(gb.getFloat(i * 4) - kb.getFloat(i * 4)).toDouble()
                    TensorType.UINT8 -> abs((gb.get(i).toInt() and 0xFF) - (kb.get(i).toInt() and 0xFF)).toDouble()
                    TensorType.INT8 -> abs(gb.get(i).toInt() - kb.get(i).toInt()).toDouble()
                }
            if (d > 0) differing++
            maxDiff = maxOf(maxDiff, d)
        }
        val tol = if (spec.type == TensorType.FLOAT32) 1e-3 else 1.0
        assertTrue(maxDiff <= tol, "input tensor: max diff $maxDiff > $tol ($differing elements differ)")
    }

    @Test
    fun yuvToRgbMatchesOpenCv() {
        val fx = Fixtures.load()
        val w = fx.int("nv21", "width")
        val h = fx.int("nv21", "height")
        val (y, u, v) = YuvToRgbConverter.nv21Planes(fx.bytes("nv21"), w, h)
        val rgb = YuvToRgbConverter().convert(w, h, y, u, v)
        val cv = fx.bytes("rgb_from_nv21")
        assertEquals(cv.size, w * h * 3)
        var maxDiff = 0
        for (i in cv.indices) maxDiff = maxOf(maxDiff, abs((cv[i].toInt() and 0xFF) - (rgb.data[i].toInt() and 0xFF)))
        assertTrue(maxDiff <= 1, "YUV->RGB differs from OpenCV by up to $maxDiff")
    }

    @Test
    fun yuvPathFeedsTheSameInputAsOpenCvRgb() {
        val fx = Fixtures.load()
        val w = fx.int("nv21", "width")
        val h = fx.int("nv21", "height")
        val (y, u, v) = YuvToRgbConverter.nv21Planes(fx.bytes("nv21"), w, h)
        val fromYuv = pipeline(fx).also { it.prepare(w, h, y, u, v, 0, false) }.inputPixels
        val fromCv = pipeline(fx).also { it.prepare(RgbImage(w, h, fx.bytes("rgb_from_nv21")), 0, false) }.inputPixels
        assertTrue(Golden.maxAbsDiff(fromCv, fromYuv) <= 1.0f, "YUV path input differs from OpenCV RGB path")
    }

    @Test
    fun heatmapDecodingMatchesPythonCodec() {
        val fx = Fixtures.load()
        val (h, w, k) = fx.shape("heatmaps")
        val kp = HeatmapDecoder.decode(fx.floats("heatmaps"), h, w, k)
        Golden.assertKeypointsMatch(fx.floats("keypoints_input"), kp, 1e-4f, "decoded keypoints")
        val d = Golden.maxAbsDiff(fx.floats("scores"), kp.score)
        assertTrue(d <= 1e-6f, "scores differ by $d")
    }

    @Test
    fun fullPipelineMatchesPython() {
        val fx = Fixtures.load()
        val p = pipeline(fx)
        val frame = p.prepare(fx.rgbImage(), 0, false)
        val raw = fx.bytes("output_raw")
        assertEquals(p.sidecar.output.byteCount, raw.size)
        val ob = p.outputBuffer
        val src = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN)
        if (p.sidecar.output.type == TensorType.FLOAT32) {
            for (i in 0 until raw.size / 4) ob.putFloat(i * 4, src.getFloat(i * 4))
        } else {
            for (i in raw.indices) ob.put(i, raw[i])
        }
        val pose = p.decode(frame)
        assertTrue(Golden.maxAbsDiff(fx.floats("heatmaps"), p.heatmaps) <= 1e-6f, "dequantised heatmaps differ")
        Golden.assertKeypointsMatch(fx.floats("keypoints_input"), pose.input, 1e-4f, "keypoints (input px)")
        Golden.assertKeypointsMatch(fx.floats("keypoints_source"), pose.upright, 1e-3f, "keypoints (image px)")
        // Rotation 0, no mirror: frame coordinates are the upright ones.
        Golden.assertKeypointsMatch(fx.floats("keypoints_source"), pose.inFrame(), 1e-3f, "keypoints (frame px)")
    }

    /** The golden comparison has teeth: a heatmap whose peaks moved 1 px must fail it. */
    @Test
    fun shiftedHeatmapIsCaughtByTheGoldenComparison() {
        val fx = Fixtures.load()
        val (h, w, k) = fx.shape("heatmaps")
        val hm = fx.floats("heatmaps")
        // Move every channel 1 px to the right (x + 1); column 0 becomes very low.
        val shifted = FloatArray(hm.size) { -Float.MAX_VALUE }
        for (y in 0 until h) {
            for (x in 0 until w - 1) {
                for (c in 0 until k) shifted[(y * w + x + 1) * k + c] = hm[(y * w + x) * k + c]
            }
        }
        val golden = fx.floats("keypoints_input")
        val kp = HeatmapDecoder.decode(shifted, h, w, k)
        var moved = 0
        for (i in 0 until k) {
            if (golden[2 * i] < w - 2 && golden[2 * i] > 1) {
                assertEquals(golden[2 * i] + 1f, kp.x[i], 1e-4f, "keypoint $i did not move by 1 px")
                moved++
            }
        }
        assertTrue(moved > 0, "no keypoint away from the border to check")
        assertThrows(AssertionFailedError::class.java) {
            Golden.assertKeypointsMatch(golden, kp, 1e-4f, "shifted")
        }
    }
}
