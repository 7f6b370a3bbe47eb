package com.repose.core

import kotlin.math.exp
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Test

class HeatmapDecoderTest {
    private val h = 32
    private val w = 40

    /** K channels, each an unnormalised Gaussian (sigma 2) at the given sub-pixel centre. */
    private fun gaussians(vararg centres: Pair<Double, Double>): FloatArray {
        val k = centres.size
        val hm = FloatArray(h * w * k)
        for (y in 0 until h) {
            for (x in 0 until w) {
                for ((c, p) in centres.withIndex()) {
                    val d2 = (x - p.first) * (x - p.first) + (y - p.second) * (y - p.second)
                    hm[(y * w + x) * k + c] = exp(-d2 / 8.0).toFloat()
                }
            }
        }
        return hm
    }

    @Test
    fun quarterStepTowardsTheHigherNeighbour() {
        val kp = HeatmapDecoder.decode(gaussians(10.3 to 20.8, 25.7 to 5.2, 12.0 to 12.0), h, w, 3)
        assertEquals(10.25f, kp.x[0])
        assertEquals(20.75f, kp.y[0])
        assertEquals(25.75f, kp.x[1])
        assertEquals(5.25f, kp.y[1])
        // Exactly on a pixel: both neighbours equal, no step.
        assertEquals(12f, kp.x[2])
        assertEquals(12f, kp.y[2])
        assertEquals(1f, kp.score[2])
    }

    @Test
    fun noStepOnTheBorder() {
        val kp = HeatmapDecoder.decode(gaussians(-3.0 to 10.4, 50.0 to -2.0), h, w, 2)
        assertEquals(0f, kp.x[0])
        assertEquals(10.25f, kp.y[0])
        assertEquals((w - 1).toFloat(), kp.x[1])
        assertEquals(0f, kp.y[1])
    }

    @Test
    fun tiesTakeTheFirstMaximumInRowMajorOrder() {
        val hm = FloatArray(h * w)
        hm[5 * w + 30] = 1f
        hm[5 * w + 7] = 1f
        hm[9 * w + 2] = 1f
        val kp = HeatmapDecoder.decode(hm, h, w, 1)
        assertEquals(7f, kp.x[0])
        assertEquals(5f, kp.y[0])
    }

    @Test
    fun allEqualHeatmapGivesTheOrigin() {
        val kp = HeatmapDecoder.decode(FloatArray(h * w) { -0.5f }, h, w, 1)
        assertEquals(0f, kp.x[0])
        assertEquals(0f, kp.y[0])
        assertEquals(-0.5f, kp.score[0])
    }

    /** Decoding must notice a 1 px move of the peak: the keypoint moves by exactly 1 px. */
    @Test
    fun shiftedPeakMovesTheKeypoint() {
        val a = HeatmapDecoder.decode(gaussians(17.2 to 9.6), h, w, 1)
        val b = HeatmapDecoder.decode(gaussians(18.2 to 9.6), h, w, 1)
        val c = HeatmapDecoder.decode(gaussians(17.2 to 10.6), h, w, 1)
        assertEquals(a.x[0] + 1f, b.x[0])
        assertEquals(a.y[0], b.y[0])
        assertEquals(a.y[0] + 1f, c.y[0])
        assertNotEquals(a.x[0], b.x[0])
    }

    @Test
    fun strideMapsHeatmapPixelsToInputPixels() {
        val kp = HeatmapDecoder.decode(gaussians(10.0 to 4.0), h, w, 1, stride = 4)
        assertEquals((10f + 0.5f) * 4 - 0.5f, kp.x[0])
        assertEquals((4f + 0.5f) * 4 - 0.5f, kp.y[0])
    }

    @Test
    fun outputIsReused() {
        val out = Keypoints(2)
        val kp = HeatmapDecoder.decode(gaussians(3.0 to 3.0, 6.0 to 6.0), h, w, 2, out = out)
        assertEquals(out, kp)
    }
}
