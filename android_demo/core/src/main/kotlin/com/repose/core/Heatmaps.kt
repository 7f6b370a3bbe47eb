package com.repose.core

/** K keypoints: x, y (pixel-centre coordinates of some image) and a score each. */
class Keypoints(val x: FloatArray, val y: FloatArray, val score: FloatArray) {
    constructor(k: Int) : this(FloatArray(k), FloatArray(k), FloatArray(k))

    init {
        require(x.size == y.size && y.size == score.size) { "x, y and score must have the same length" }
    }

    val size get() = x.size

    operator fun get(i: Int) = PointF(x[i], y[i])

    /** A copy with every point mapped by [f] (scores kept). */
    fun map(f: (PointF) -> PointF): Keypoints {
        val out = Keypoints(size)
        for (i in 0 until size) {
            val p = f(get(i))
            out.x[i] = p.x
            out.y[i] = p.y
            out.score[i] = score[i]
        }
        return out
    }

    fun copy() = Keypoints(x.copyOf(), y.copyOf(), score.copyOf())
}

/**
 * Heatmap decoding, `argmax_quarter_offset` (the same as `repose_tf.codec.decode`): per channel
 * the first maximum in row-major order; then, away from the border, a 0.25 px step toward the
 * higher of the two neighbours, in x and in y separately (none when they are equal); the score
 * is the maximum value. Coordinates are model-input pixels: heatmap pixel h maps to
 * (h + 0.5) * [stride] - 0.5 (identity for stride 1).
 */
object HeatmapDecoder {
    /** [heatmaps] is H x W x K, channels last (the NHWC output without its batch axis). */
    fun decode(heatmaps: FloatArray, height: Int, width: Int, channels: Int, stride: Int = 1, out: Keypoints? = null): Keypoints {
        require(heatmaps.size >= height * width * channels) { "heatmaps hold ${heatmaps.size}, need ${height * width * channels}" }
        val kp = if (out != null && out.size == channels) out else Keypoints(channels)
        for (k in 0 until channels) {
            var best = Float.NEGATIVE_INFINITY
            var bx = 0
            var by = 0
            var found = false
            for (y in 0 until height) {
                var i = y * width * channels + k
                for (x in 0 until width) {
                    val v = heatmaps[i]
                    if (!found || v > best) {
                        best = v
                        bx = x
                        by = y
                        found = true
                    }
                    i += channels
                }
            }
            fun at(x: Int, y: Int) = heatmaps[(y * width + x) * channels + k]
            var fx = bx.toFloat()
            var fy = by.toFloat()
            if (bx > 0 && bx < width - 1) fx += step(at(bx + 1, by), at(bx - 1, by))
            if (by > 0 && by < height - 1) fy += step(at(bx, by + 1), at(bx, by - 1))
            kp.x[k] = if (stride == 1) fx else (fx + 0.5f) * stride - 0.5f
            kp.y[k] = if (stride == 1) fy else (fy + 0.5f) * stride - 0.5f
            kp.score[k] = best
        }
        return kp
    }

    private fun step(next: Float, prev: Float): Float = when {
        next > prev -> 0.25f
        next < prev -> -0.25f
        else -> 0f
    }
}
