package com.repose.core

import java.nio.ByteBuffer

/**
 * One plane of a YUV_420_888 image as Android's `ImageProxy.PlaneProxy` hands it over: the
 * buffer (read from index 0, position and limit ignored except that the limit bounds it), the
 * distance in bytes between rows, and between neighbouring pixels of a row (1 planar, 2 for
 * the interleaved NV21/NV12 layouts).
 */
class YuvPlane(val buffer: ByteBuffer, val rowStride: Int, val pixelStride: Int)

/** A packed 8-bit RGB image: `data[(y * width + x) * 3 + c]`, c = 0 R, 1 G, 2 B. */
class RgbImage(val width: Int, val height: Int, val data: ByteArray = ByteArray(width * height * 3)) {
    init {
        require(width > 0 && height > 0) { "image size must be positive, got ${width}x$height" }
        require(data.size >= width * height * 3) { "data holds ${data.size} bytes, need ${width * height * 3}" }
    }

    /** Channel [c] of pixel ([x], [y]) as 0..255. */
    operator fun get(x: Int, y: Int, c: Int): Int = data[(y * width + x) * 3 + c].toInt() and 0xFF
}

/**
 * YUV_420_888 -> RGB, full-frame, BT.601 "video range" (Y 16..235), the conversion Android
 * cameras use. The arithmetic is OpenCV's fixed-point `COLOR_YUV2RGB_NV21` (20-bit coefficients,
 * each 2x2 block shares one chroma sample, no chroma interpolation), so a frame converted here
 * matches OpenCV to the last bit.
 */
class YuvToRgbConverter {
    private var yBytes = ByteArray(0)
    private var uBytes = ByteArray(0)
    private var vBytes = ByteArray(0)

    /** Converts into [out] (reused when it has the right size) and returns it. */
    fun convert(width: Int, height: Int, y: YuvPlane, u: YuvPlane, v: YuvPlane, out: RgbImage? = null): RgbImage {
        val dst = if (out != null && out.width == width && out.height == height) out else RgbImage(width, height)
        yBytes = copyPlane(y.buffer, yBytes)
        uBytes = copyPlane(u.buffer, uBytes)
        vBytes = copyPlane(v.buffer, vBytes)
        val rgb = dst.data
        val cw = (width + 1) / 2
        val ch = (height + 1) / 2
        checkPlane("Y", yBytes.size, y, width, height)
        checkPlane("U", uBytes.size, u, cw, ch)
        checkPlane("V", vBytes.size, v, cw, ch)
        for (row in 0 until height) {
            val yRow = row * y.rowStride
            val uRow = (row shr 1) * u.rowStride
            val vRow = (row shr 1) * v.rowStride
            var o = row * width * 3
            for (col in 0 until width) {
                val cx = col shr 1
                val uu = (uBytes[uRow + cx * u.pixelStride].toInt() and 0xFF) - 128
                val vv = (vBytes[vRow + cx * v.pixelStride].toInt() and 0xFF) - 128
                val yy = maxOf(0, (yBytes[yRow + col * y.pixelStride].toInt() and 0xFF) - 16) * CY
                rgb[o] = clamp8((yy + HALF + CVR * vv) shr SHIFT)
                rgb[o + 1] = clamp8((yy + HALF + CVG * vv + CUG * uu) shr SHIFT)
                rgb[o + 2] = clamp8((yy + HALF + CUB * uu) shr SHIFT)
                o += 3
            }
        }
        return dst
    }

    private fun checkPlane(name: String, size: Int, p: YuvPlane, w: Int, h: Int) {
        require(p.rowStride > 0 && p.pixelStride > 0) { "$name plane: strides must be positive" }
        val last = (h - 1) * p.rowStride + (w - 1) * p.pixelStride
        require(last < size) { "$name plane holds $size bytes, needs ${last + 1} for ${w}x$h" }
    }

    private fun copyPlane(buf: ByteBuffer, reuse: ByteArray): ByteArray {
        val d = buf.duplicate()
        d.rewind()
        val n = d.remaining()
        val arr = if (reuse.size == n) reuse else ByteArray(n)
        d.get(arr, 0, n)
        return arr
    }

    companion object {
        // ITU-R BT.601 in 20-bit fixed point (OpenCV's ITUR_BT_601_* constants).
        private const val SHIFT = 20
        private const val HALF = 1 shl (SHIFT - 1)
        private const val CY = 1220542
        private const val CUB = 2116026
        private const val CUG = -409993
        private const val CVG = -852492
        private const val CVR = 1673527

        private fun clamp8(v: Int): Byte = (
            if (v < 0) {
                0
            } else if (v > 255) {
                255
            } else {
                v
            }
            ).toByte()

        /** Wraps an NV21 byte array (Y plane, then interleaved V/U) as the three planes a camera gives. */
        fun nv21Planes(nv21: ByteArray, width: Int, height: Int): Triple<YuvPlane, YuvPlane, YuvPlane> {
            val ySize = width * height
            val cSize = nv21.size - ySize
            val y = YuvPlane(ByteBuffer.wrap(nv21, 0, ySize).slice(), width, 1)
            val v = YuvPlane(ByteBuffer.wrap(nv21, ySize, cSize).slice(), 2 * ((width + 1) / 2), 2)
            val u = YuvPlane(ByteBuffer.wrap(nv21, ySize + 1, cSize - 1).slice(), 2 * ((width + 1) / 2), 2)
            return Triple(y, u, v)
        }
    }
}

/** Rotations by multiples of 90 degrees, clockwise, as CameraX's `rotationDegrees` asks for. */
object Rotation {
    fun normalize(degrees: Int): Int {
        val d = ((degrees % 360) + 360) % 360
        require(d % 90 == 0) { "rotation must be a multiple of 90 degrees, got $degrees" }
        return d
    }

    /** Size (w, h) of an image of size ([width], [height]) after rotating it. */
    fun rotatedSize(width: Int, height: Int, degrees: Int): Pair<Int, Int> =
        if (normalize(degrees) % 180 == 0) width to height else height to width

    /** [src] rotated clockwise by [degrees] (0/90/180/270) into [out] (reused when it fits). */
    fun rotate(src: RgbImage, degrees: Int, out: RgbImage? = null): RgbImage {
        val d = normalize(degrees)
        if (d == 0 && out == null) return src
        val (w, h) = rotatedSize(src.width, src.height, d)
        val dst = if (out != null && out.width == w && out.height == h && out !== src) out else RgbImage(w, h)
        val s = src.data
        val o = dst.data
        val sw = src.width
        val sh = src.height
        for (sy in 0 until sh) {
            for (sx in 0 until sw) {
                val di =
                    when (d) {
                        0 -> sy * w + sx
                        90 -> sx * w + (sh - 1 - sy)
                        180 -> (sh - 1 - sy) * w + (sw - 1 - sx)
                        else -> (sw - 1 - sx) * w + sy
                    } * 3
                val si = (sy * sw + sx) * 3
                o[di] = s[si]
                o[di + 1] = s[si + 1]
                o[di + 2] = s[si + 2]
            }
        }
        return dst
    }

    /**
     * Where pixel-centre point ([x], [y]) of an image of size ([width], [height]) lands after the
     * image is rotated clockwise by [degrees]: the same mapping [rotate] applies to pixels.
     */
    fun rotatePoint(x: Float, y: Float, width: Int, height: Int, degrees: Int): PointF = when (normalize(degrees)) {
        0 -> PointF(x, y)
        90 -> PointF(height - 1 - y, x)
        180 -> PointF(width - 1 - x, height - 1 - y)
        else -> PointF(y, width - 1 - x)
    }

    /** Inverse of [rotatePoint]: ([width], [height]) is the size *before* rotation. */
    fun unrotatePoint(x: Float, y: Float, width: Int, height: Int, degrees: Int): PointF {
        val d = normalize(degrees)
        val (rw, rh) = rotatedSize(width, height, d)
        return rotatePoint(x, y, rw, rh, (360 - d) % 360)
    }
}
