package com.repose.core

import kotlin.math.PI
import kotlin.math.abs
import kotlin.math.exp

/**
 * The One-Euro filter (Casiez, Roussel, Vogel, CHI 2012): a low-pass filter whose cut-off rises
 * with the speed of the signal, so a still joint stops jittering and a moving one does not lag.
 * [minCutoff] (Hz) sets the smoothing at rest; [beta] how quickly it opens up with speed
 * (units of the signal per second); [derivativeCutoff] (Hz) smooths the speed estimate.
 */
class OneEuroFilter(var minCutoff: Double = 1.0, var beta: Double = 0.05, var derivativeCutoff: Double = 1.0) {
    private var prevX = 0.0
    private var prevDx = 0.0
    private var prevT = 0.0
    private var initialised = false

    fun reset() {
        initialised = false
    }

    /** Filters sample [x] taken at time [tSeconds] (strictly increasing; equal times return the last output). */
    fun filter(x: Double, tSeconds: Double): Double {
        if (!initialised) {
            prevX = x
            prevDx = 0.0
            prevT = tSeconds
            initialised = true
            return x
        }
        val dt = tSeconds - prevT
        if (dt <= 0.0) return prevX
        val dx = (x - prevX) / dt
        val edx = prevDx + alpha(derivativeCutoff, dt) * (dx - prevDx)
        val cutoff = minCutoff + beta * abs(edx)
        val ex = prevX + alpha(cutoff, dt) * (x - prevX)
        prevX = ex
        prevDx = edx
        prevT = tSeconds
        return ex
    }

    private fun alpha(cutoff: Double, dt: Double): Double {
        val tau = 1.0 / (2.0 * PI * cutoff)
        return 1.0 / (1.0 + tau / dt)
    }
}

/** Exponential moving average with a time constant, so it behaves the same at any frame rate. */
class EmaFilter(var timeConstantSeconds: Double = 0.1) {
    private var value = 0.0
    private var prevT = 0.0
    private var initialised = false

    fun reset() {
        initialised = false
    }

    fun filter(x: Double, tSeconds: Double): Double {
        if (!initialised || timeConstantSeconds <= 0.0) {
            value = x
            prevT = tSeconds
            initialised = true
            return x
        }
        val dt = tSeconds - prevT
        if (dt <= 0.0) return value
        val a = 1.0 - exp(-dt / timeConstantSeconds)
        value += a * (x - value)
        prevT = tSeconds
        return value
    }
}

/** Which temporal smoothing [PoseSmoother] applies. */
enum class SmoothingKind { NONE, EMA, ONE_EURO }

/**
 * Smooths a stream of poses joint by joint. A joint whose score drops below [minScore] is passed
 * through and its filter restarted, so a lost-then-found joint does not glide in from where it
 * was. Smooth in a frame-independent space (upright source pixels), then map to the view.
 */
class PoseSmoother(
    val numKeypoints: Int,
    val kind: SmoothingKind = SmoothingKind.ONE_EURO,
    val minScore: Float = Float.NEGATIVE_INFINITY,
    minCutoff: Double = 1.0,
    beta: Double = 0.05,
    emaTimeConstant: Double = 0.1
) {
    private val oneEuro = List(2 * numKeypoints) { OneEuroFilter(minCutoff, beta) }
    private val ema = List(2 * numKeypoints) { EmaFilter(emaTimeConstant) }

    fun reset() {
        oneEuro.forEach { it.reset() }
        ema.forEach { it.reset() }
    }

    fun smooth(kp: Keypoints, tSeconds: Double): Keypoints {
        require(kp.size == numKeypoints) { "expected $numKeypoints keypoints, got ${kp.size}" }
        if (kind == SmoothingKind.NONE) return kp
        val out = kp.copy()
        for (i in 0 until numKeypoints) {
            if (kp.score[i] < minScore) {
                oneEuro[2 * i].reset()
                oneEuro[2 * i + 1].reset()
                ema[2 * i].reset()
                ema[2 * i + 1].reset()
                continue
            }
            when (kind) {
                SmoothingKind.ONE_EURO -> {
                    out.x[i] = oneEuro[2 * i].filter(kp.x[i].toDouble(), tSeconds).toFloat()
                    out.y[i] = oneEuro[2 * i + 1].filter(kp.y[i].toDouble(), tSeconds).toFloat()
                }

                SmoothingKind.EMA -> {
                    out.x[i] = ema[2 * i].filter(kp.x[i].toDouble(), tSeconds).toFloat()
                    out.y[i] = ema[2 * i + 1].filter(kp.y[i].toDouble(), tSeconds).toFloat()
                }

                SmoothingKind.NONE -> Unit
            }
        }
        return out
    }
}
