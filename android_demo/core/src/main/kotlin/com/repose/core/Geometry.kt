package com.repose.core

import kotlin.math.floor
import kotlin.math.max
import kotlin.math.min

/**
 * A 2-D point. Image coordinates in this module are 0-based pixels with pixel *centres* at
 * integer coordinates (pixel (i, j) covers [j - 0.5, j + 0.5] x [i - 0.5, i + 0.5]), the
 * convention of `repose_tf.codec`. View coordinates are Android canvas coordinates (pixel i
 * covers [i, i + 1]).
 */
data class PointF(val x: Float, val y: Float)

/**
 * The square region of the upright source image that the model input covers: the model input
 * pixel u samples source x = x0 + (u + 0.5) * side / size - 0.5 (half-pixel centres, as
 * OpenCV's and TF's bilinear resize), and likewise in y.
 */
data class SquareWindow(val x0: Double, val y0: Double, val side: Double, val mode: CropMode) {
    /** Model-input pixel coordinate ([u], [v]) of an input of [size] -> source pixel coordinate. */
    fun inputToSource(u: Float, v: Float, size: Int): PointF {
        val s = side / size
        return PointF((x0 + (u.toDouble() + 0.5) * s - 0.5).toFloat(), (y0 + (v.toDouble() + 0.5) * s - 0.5).toFloat())
    }

    /** Inverse of [inputToSource]. */
    fun sourceToInput(x: Float, y: Float, size: Int): PointF {
        val s = size / side
        return PointF(((x.toDouble() + 0.5 - x0) * s - 0.5).toFloat(), ((y.toDouble() + 0.5 - y0) * s - 0.5).toFloat())
    }

    companion object {
        /** The window for an upright image of [width] x [height]. */
        fun of(width: Int, height: Int, mode: CropMode): SquareWindow = when (mode) {
            CropMode.CENTER_SQUARE -> {
                val side = min(width, height)
                SquareWindow(((width - side) / 2).toDouble(), ((height - side) / 2).toDouble(), side.toDouble(), mode)
            }

            CropMode.LETTERBOX -> {
                val side = max(width, height)
                SquareWindow((width - side) / 2.0, (height - side) / 2.0, side.toDouble(), mode)
            }
        }
    }
}

/**
 * How a camera frame relates to what the user sees: the analysis frame ([frameWidth] x
 * [frameHeight], sensor orientation) is rotated clockwise by [rotationDegrees] to be upright
 * (CameraX `ImageInfo.rotationDegrees`), and for the front camera the preview shows the
 * upright image mirrored left-right ([mirror]).
 */
data class FrameGeometry(val frameWidth: Int, val frameHeight: Int, val rotationDegrees: Int, val mirror: Boolean) {
    val rotation = Rotation.normalize(rotationDegrees)
    val uprightWidth get() = Rotation.rotatedSize(frameWidth, frameHeight, rotation).first
    val uprightHeight get() = Rotation.rotatedSize(frameWidth, frameHeight, rotation).second

    /** Upright-image point -> the same point in the raw (sensor-oriented) frame. */
    fun uprightToFrame(p: PointF): PointF = Rotation.unrotatePoint(p.x, p.y, frameWidth, frameHeight, rotation)

    /** Raw-frame point -> upright-image point. */
    fun frameToUpright(p: PointF): PointF = Rotation.rotatePoint(p.x, p.y, frameWidth, frameHeight, rotation)

    /** Upright-image point -> the point of the image as displayed (mirrored for the front camera). */
    fun uprightToDisplay(p: PointF): PointF = if (mirror) PointF(uprightWidth - 1 - p.x, p.y) else p
}

/**
 * PreviewView's `FILL_CENTER`: the content is scaled uniformly to cover the whole view and
 * centred; what sticks out is cropped. Maps content pixel coordinates to view coordinates.
 */
data class FillCenter(val viewWidth: Int, val viewHeight: Int, val contentWidth: Int, val contentHeight: Int) {
    val scale = max(viewWidth.toDouble() / contentWidth, viewHeight.toDouble() / contentHeight)
    val offsetX = (viewWidth - contentWidth * scale) / 2.0
    val offsetY = (viewHeight - contentHeight * scale) / 2.0

    /** Content pixel-centre coordinates -> view (canvas) coordinates. */
    fun map(p: PointF): PointF = PointF(((p.x + 0.5) * scale + offsetX).toFloat(), ((p.y + 0.5) * scale + offsetY).toFloat())

    /** View (canvas) coordinates -> content pixel-centre coordinates. */
    fun unmap(p: PointF): PointF = PointF(((p.x - offsetX) / scale - 0.5).toFloat(), ((p.y - offsetY) / scale - 0.5).toFloat())
}

internal fun floorInt(v: Double): Int = floor(v).toInt()
