package com.repose.core

import java.nio.ByteBuffer
import kotlin.math.floor

/**
 * Cuts the [SquareWindow] out of an upright RGB image and resizes it bilinearly to the model's
 * [size] x [size] input: float RGB values 0..255, NHWC, row-major.
 *
 * Sampling (mirrored exactly by `tools/make_android_fixtures.py`): input pixel u samples the
 * source at sx = x0 + (u + 0.5) * side / size - 0.5; with CENTER_SQUARE sx is clamped to
 * [0, w - 1]; with LETTERBOX a sample whose sx or sy falls outside [-0.5, w - 0.5] gets
 * [padValue], the others are clamped. Then x0i = floor(sx), x1i = min(x0i + 1, w - 1),
 * fx = sx - x0i, and value = (1 - fy) * ((1 - fx) * p00 + fx * p01) + fy * ((1 - fx) * p10 + fx * p11)
 * in double precision, stored as float.
 */
class SquareResizer(val size: Int, val padValue: Float = 0f) {
    private val x0i = IntArray(size)
    private val x1i = IntArray(size)
    private val fx = DoubleArray(size)
    private val inX = BooleanArray(size)
    private val y0i = IntArray(size)
    private val y1i = IntArray(size)
    private val fy = DoubleArray(size)
    private val inY = BooleanArray(size)

    /** Resizes into [out] (size * size * 3 floats, allocated when null) and returns it. */
    fun resize(img: RgbImage, window: SquareWindow, out: FloatArray? = null): FloatArray {
        val dst = out ?: FloatArray(size * size * 3)
        require(dst.size >= size * size * 3) { "output holds ${dst.size} floats, need ${size * size * 3}" }
        val clampOnly = window.mode == CropMode.CENTER_SQUARE
        axis(window.x0, window.side, img.width, clampOnly, x0i, x1i, fx, inX)
        axis(window.y0, window.side, img.height, clampOnly, y0i, y1i, fy, inY)
        val d = img.data
        val w = img.width
        var o = 0
        for (v in 0 until size) {
            val r0 = y0i[v] * w
            val r1 = y1i[v] * w
            val wy = fy[v]
            for (u in 0 until size) {
                if (!inX[u] || !inY[v]) {
                    dst[o] = padValue
                    dst[o + 1] = padValue
                    dst[o + 2] = padValue
                    o += 3
                    continue
                }
                val wx = fx[u]
                val i00 = (r0 + x0i[u]) * 3
                val i01 = (r0 + x1i[u]) * 3
                val i10 = (r1 + x0i[u]) * 3
                val i11 = (r1 + x1i[u]) * 3
                for (c in 0 until 3) {
                    val p00 = (d[i00 + c].toInt() and 0xFF).toDouble()
                    val p01 = (d[i01 + c].toInt() and 0xFF).toDouble()
                    val p10 = (d[i10 + c].toInt() and 0xFF).toDouble()
                    val p11 = (d[i11 + c].toInt() and 0xFF).toDouble()
                    val top = (1.0 - wx) * p00 + wx * p01
                    val bottom = (1.0 - wx) * p10 + wx * p11
                    dst[o + c] = ((1.0 - wy) * top + wy * bottom).toFloat()
                }
                o += 3
            }
        }
        return dst
    }

    private fun axis(
        origin: Double,
        side: Double,
        extent: Int,
        clampOnly: Boolean,
        i0: IntArray,
        i1: IntArray,
        f: DoubleArray,
        inside: BooleanArray
    ) {
        val scale = side / size
        for (u in 0 until size) {
            val s = origin + (u + 0.5) * scale - 0.5
            inside[u] = clampOnly || (s >= -0.5 && s <= extent - 0.5)
            val c = s.coerceIn(0.0, (extent - 1).toDouble())
            val a = floor(c).toInt()
            i0[u] = a
            i1[u] = minOf(a + 1, extent - 1)
            f[u] = c - a
        }
    }
}

/** Packs model inputs and unpacks model outputs as the sidecar's tensor specs say. */
object TensorIO {
    /** Real value -> quantised integer: floor(v / scale + 0.5) + zeroPoint, clipped to [type]. */
    fun quantize(v: Float, q: Quantization, type: TensorType): Int {
        val r = floor(v.toDouble() / q.scale + 0.5).toInt() + q.zeroPoint
        return r.coerceIn(type.minValue, type.maxValue)
    }

    /** Quantised integer -> real value: (q - zeroPoint) * scale. */
    fun dequantize(q: Int, quant: Quantization): Float = ((q - quant.zeroPoint) * quant.scale).toFloat()

    /**
     * Writes [pixels] (RGB 0..255 floats, NHWC) into [buf] from index 0 as [spec] says (float32,
     * or quantised uint8/int8), with absolute puts in the buffer's byte order. The interpreter
     * needs a direct buffer in native order (see [allocate]).
     */
    fun writeInput(pixels: FloatArray, spec: TensorSpec, buf: ByteBuffer) {
        val n = spec.elementCount
        require(pixels.size >= n) { "have ${pixels.size} values, input needs $n" }
        require(buf.capacity() >= spec.byteCount) { "buffer holds ${buf.capacity()} bytes, input needs ${spec.byteCount}" }
        when (spec.type) {
            TensorType.FLOAT32 -> for (i in 0 until n) buf.putFloat(i * 4, pixels[i])

            else -> {
                val q = spec.quantization ?: error("${spec.type.jsonName} input without quantization")
                for (i in 0 until n) buf.put(i, quantize(pixels[i], q, spec.type).toByte())
            }
        }
        buf.rewind()
    }

    /** Reads the heatmap output in [buf] (index 0 on) into real values, dequantising integers. */
    fun readOutput(buf: ByteBuffer, spec: TensorSpec, out: FloatArray? = null): FloatArray {
        val n = spec.elementCount
        val dst = out ?: FloatArray(n)
        require(dst.size >= n) { "output array holds ${dst.size} floats, need $n" }
        when (spec.type) {
            TensorType.FLOAT32 -> for (i in 0 until n) dst[i] = buf.getFloat(i * 4)

            TensorType.UINT8 -> {
                val q = spec.quantization ?: error("uint8 output without quantization")
                for (i in 0 until n) dst[i] = dequantize(buf.get(i).toInt() and 0xFF, q)
            }

            TensorType.INT8 -> {
                val q = spec.quantization ?: error("int8 output without quantization")
                for (i in 0 until n) dst[i] = dequantize(buf.get(i).toInt(), q)
            }
        }
        return dst
    }

    /** A direct buffer in native byte order, the kind LiteRT's `Interpreter.run` wants. */
    fun allocate(spec: TensorSpec): ByteBuffer = ByteBuffer.allocateDirect(spec.byteCount).order(java.nio.ByteOrder.nativeOrder())
}
