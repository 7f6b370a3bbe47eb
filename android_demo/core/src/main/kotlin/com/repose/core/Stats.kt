package com.repose.core

/** Mean of the last [window] samples (e.g. inference milliseconds for the HUD). */
class RollingMean(val window: Int = 30) {
    private val values = DoubleArray(window)
    private var count = 0
    private var next = 0
    private var sum = 0.0

    init {
        require(window > 0) { "window must be positive" }
    }

    fun add(v: Double) {
        if (count == window) sum -= values[next] else count++
        values[next] = v
        sum += v
        next = (next + 1) % window
    }

    val mean: Double get() = if (count == 0) 0.0 else sum / count

    fun reset() {
        count = 0
        next = 0
        sum = 0.0
    }
}

/** Frames per second over the last [window] frame timestamps (nanoseconds, monotonic). */
class FpsMeter(val window: Int = 30) {
    private val stamps = LongArray(window + 1)
    private var count = 0
    private var next = 0

    fun tick(nanos: Long) {
        stamps[next] = nanos
        next = (next + 1) % stamps.size
        if (count < stamps.size) count++
    }

    val fps: Double
        get() {
            if (count < 2) return 0.0
            val newest = stamps[(next - 1 + stamps.size) % stamps.size]
            val oldest = stamps[(next - count + stamps.size) % stamps.size]
            val span = newest - oldest
            return if (span <= 0) 0.0 else (count - 1) * 1e9 / span
        }

    fun reset() {
        count = 0
        next = 0
    }
}
