package com.repose.core

import kotlin.math.max
import kotlin.math.min

/**
 * The MoveNet-style tracking crop: each frame is cropped around the previous frame's confident
 * keypoints instead of the fixed centre square, so a person off-centre stays whole and large.
 * The same rules, with the same defaults, as the web demo's `TrackingCrop` (web_demo/src/pose.js):
 *
 *  1. confident = score >= [minScore]; fewer than [minKeypoints] -> reset: the next frame uses the
 *     sidecar's default window (the full-frame centre square).
 *  2. target centre = centre of the confident keypoints' bounding box; target side = [margin] x
 *     its longer side, clamped to [[minSideFraction] x min(w, h), max(w, h)].
 *  3. smoothing: state = target on the first lock, else state + [smoothing] x (target - state),
 *     for centre x, centre y and side.
 *  4. the window is the state's square, shifted to lie inside the frame along each axis where it
 *     fits (centred on an axis where it is longer than the frame); samples outside the frame are
 *     padding ([CropMode.LETTERBOX] sampling).
 *
 * Keypoints and windows are in upright-frame pixels. Not thread-safe (one per analysis thread).
 */
class TrackingCrop(
    val minScore: Float = 0.1f,
    val minKeypoints: Int = 3,
    val margin: Double = 2.0,
    val minSideFraction: Double = 1.0,
    val smoothing: Double = 0.5
) {
    private var cx = 0.0
    private var cy = 0.0
    private var side = 0.0
    private var frameW = 0
    private var frameH = 0

    /** True while the crop follows a person (false: the default window is used). */
    var locked = false
        private set

    fun reset() {
        locked = false
    }

    private fun checkFrame(width: Int, height: Int) {
        if (width != frameW || height != frameH) {
            frameW = width
            frameH = height
            locked = false
        }
    }

    /** The window for the next frame of [width] x [height]; [crop] is the sidecar's default. */
    fun window(width: Int, height: Int, crop: CropMode = CropMode.CENTER_SQUARE): SquareWindow {
        checkFrame(width, height)
        if (!locked) return SquareWindow.of(width, height, crop)
        fun place(c: Double, extent: Int): Double = if (side >= extent) {
            (extent - side) / 2.0
        } else {
            (c - (side - 1) / 2.0).coerceIn(0.0, extent - side)
        }
        return SquareWindow(place(cx, width), place(cy, height), side, CropMode.LETTERBOX)
    }

    /** Feeds the keypoints (upright-frame pixels, with scores) found in a [width] x [height] frame. */
    fun update(kp: Keypoints, width: Int, height: Int) {
        checkFrame(width, height)
        var n = 0
        var x0 = Double.POSITIVE_INFINITY
        var y0 = Double.POSITIVE_INFINITY
        var x1 = Double.NEGATIVE_INFINITY
        var y1 = Double.NEGATIVE_INFINITY
        for (i in 0 until kp.size) {
            val x = kp.x[i].toDouble()
            val y = kp.y[i].toDouble()
            if (!(kp.score[i] >= minScore) || !x.isFinite() || !y.isFinite()) continue
            n++
            x0 = min(x0, x)
            x1 = max(x1, x)
            y0 = min(y0, y)
            y1 = max(y1, y)
        }
        if (n < minKeypoints) {
            locked = false
            return
        }
        val lo = minSideFraction * min(width, height)
        val hi = max(width, height).toDouble()
        val targetSide = (margin * max(x1 - x0, y1 - y0)).coerceIn(lo, hi)
        val tx = (x0 + x1) / 2.0
        val ty = (y0 + y1) / 2.0
        if (!locked) {
            cx = tx
            cy = ty
            side = targetSide
            locked = true
        } else {
            cx += smoothing * (tx - cx)
            cy += smoothing * (ty - cy)
            side += smoothing * (targetSide - side)
        }
    }

    /** The current state (centre x, centre y, side), for tests and the HUD; null when not locked. */
    fun state(): Triple<Double, Double, Double>? = if (locked) Triple(cx, cy, side) else null
}
