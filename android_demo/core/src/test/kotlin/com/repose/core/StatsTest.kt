package com.repose.core

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class StatsTest {
    @Test
    fun rollingMeanForgetsOldSamples() {
        val m = RollingMean(3)
        assertEquals(0.0, m.mean)
        m.add(1.0)
        m.add(2.0)
        assertEquals(1.5, m.mean)
        m.add(3.0)
        m.add(10.0)
        assertEquals(5.0, m.mean, 1e-12)
    }

    @Test
    fun fpsFromTimestamps() {
        val f = FpsMeter(10)
        assertEquals(0.0, f.fps)
        for (i in 0 until 50) f.tick(i * 33_333_333L)
        assertEquals(30.0, f.fps, 1e-3)
        f.reset()
        f.tick(0)
        f.tick(100_000_000L)
        assertEquals(10.0, f.fps, 1e-9)
    }
}
