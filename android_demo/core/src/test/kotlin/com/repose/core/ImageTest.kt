package com.repose.core

import java.nio.ByteBuffer
import kotlin.random.Random
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** YUV -> RGB with all stride layouts, rotation, crop / letterbox resize, quantisation. */
class ImageTest {
    private fun randomImage(w: Int, h: Int, seed: Int = 1) = RgbImage(w, h, Random(seed).nextBytes(w * h * 3))

    /** Random Y/U/V samples laid out planar (I420), NV21, NV12 and with row padding: all must agree. */
    @Test
    fun yuvStridesAndLayoutsAgree() {
        val w = 13
        val h = 9
        val cw = (w + 1) / 2
        val ch = (h + 1) / 2
        val rnd = Random(7)
        val ys = rnd.nextBytes(w * h)
        val us = rnd.nextBytes(cw * ch)
        val vs = rnd.nextBytes(cw * ch)

        // Planar, tightly packed.
        fun plane(b: ByteArray, row: Int, px: Int) = YuvPlane(ByteBuffer.wrap(b), row, px)
        val ref = YuvToRgbConverter().convert(w, h, plane(ys, w, 1), plane(us, cw, 1), plane(vs, cw, 1))

        // Planar with padded rows (rowStride > width), as many camera HALs deliver.
        val pad = 16
        val yPad = ByteArray((w + pad) * h)
        for (r in 0 until h) System.arraycopy(ys, r * w, yPad, r * (w + pad), w)
        val uPad = ByteArray((cw + pad) * ch)
        val vPad = ByteArray((cw + pad) * ch)
        for (r in 0 until ch) {
            System.arraycopy(us, r * cw, uPad, r * (cw + pad), cw)
            System.arraycopy(vs, r * cw, vPad, r * (cw + pad), cw)
        }
        val padded = YuvToRgbConverter().convert(w, h, plane(yPad, w + pad, 1), plane(uPad, cw + pad, 1), plane(vPad, cw + pad, 1))
        assertArrayEquals(ref.data, padded.data)

        // Semi-planar NV21 (V first) and NV12 (U first): pixelStride 2, planes overlap, one short.
        for (vFirst in listOf(true, false)) {
            val rowStride = 2 * cw + 4
            val inter = ByteArray(rowStride * ch)
            for (r in 0 until ch) {
                for (c in 0 until cw) {
                    inter[r * rowStride + 2 * c] = if (vFirst) vs[r * cw + c] else us[r * cw + c]
                    inter[r * rowStride + 2 * c + 1] = if (vFirst) us[r * cw + c] else vs[r * cw + c]
                }
            }
            val first = ByteBuffer.wrap(inter, 0, inter.size - 1).slice()
            val second = ByteBuffer.wrap(inter, 1, inter.size - 1).slice()
            val u = YuvPlane(if (vFirst) second else first, rowStride, 2)
            val v = YuvPlane(if (vFirst) first else second, rowStride, 2)
            val out = YuvToRgbConverter().convert(w, h, plane(ys, w, 1), u, v)
            assertArrayEquals(ref.data, out.data, "vFirst=$vFirst")
        }
    }

    @Test
    fun yuvKnownColours() {
        // BT.601 video range: Y=16 black, Y=235 white, neutral chroma 128.
        fun one(y: Int, u: Int, v: Int): List<Int> {
            val p = { b: Int -> YuvPlane(ByteBuffer.wrap(byteArrayOf(b.toByte(), b.toByte(), b.toByte(), b.toByte())), 2, 1) }
            val img = YuvToRgbConverter().convert(
                2,
                2,
                p(y),
                YuvPlane(ByteBuffer.wrap(byteArrayOf(u.toByte())), 1, 1),
                YuvPlane(ByteBuffer.wrap(byteArrayOf(v.toByte())), 1, 1)
            )
            return listOf(img[1, 1, 0], img[1, 1, 1], img[1, 1, 2])
        }
        assertEquals(listOf(0, 0, 0), one(16, 128, 128))
        assertEquals(listOf(255, 255, 255), one(235, 128, 128))
        assertEquals(listOf(0, 0, 0), one(0, 128, 128))
        // Saturated red in BT.601 video range: Y=81, U=90, V=240.
        val red = one(81, 90, 240)
        assertTrue(red[0] >= 254 && red[1] <= 1 && red[2] <= 1, "red came out as $red")
    }

    @Test
    fun yuvRejectsShortPlanes() {
        val y = YuvPlane(ByteBuffer.wrap(ByteArray(10)), 4, 1)
        val c = YuvPlane(ByteBuffer.wrap(ByteArray(4)), 2, 1)
        assertThrows(IllegalArgumentException::class.java) { YuvToRgbConverter().convert(4, 4, y, c, c) }
    }

    @Test
    fun rotationMovesPixelsWherePointMappingSays() {
        val img = randomImage(7, 4)
        for (deg in listOf(0, 90, 180, 270)) {
            val r = Rotation.rotate(img, deg, RgbImage(1, 1))
            assertEquals(Rotation.rotatedSize(7, 4, deg), r.width to r.height)
            for (y in 0 until 4) {
                for (x in 0 until 7) {
                    val p = Rotation.rotatePoint(x.toFloat(), y.toFloat(), 7, 4, deg)
                    for (c in 0 until 3) assertEquals(img[x, y, c], r[p.x.toInt(), p.y.toInt(), c], "deg=$deg")
                    val back = Rotation.unrotatePoint(p.x, p.y, 7, 4, deg)
                    assertEquals(PointF(x.toFloat(), y.toFloat()), back)
                }
            }
        }
        // 90 clockwise: the top-left corner goes to the top-right.
        assertEquals(PointF(3f, 0f), Rotation.rotatePoint(0f, 0f, 7, 4, 90))
        assertEquals(PointF(0f, 6f), Rotation.rotatePoint(0f, 0f, 7, 4, 270))
        val four = (1..4).fold(img) { acc, _ -> Rotation.rotate(acc, 90, RgbImage(1, 1)) }
        assertArrayEquals(img.data, four.data)
        assertThrows(IllegalArgumentException::class.java) { Rotation.normalize(45) }
        assertEquals(270, Rotation.normalize(-90))
    }

    @Test
    fun centreSquareWindows() {
        assertEquals(SquareWindow(80.0, 0.0, 480.0, CropMode.CENTER_SQUARE), SquareWindow.of(640, 480, CropMode.CENTER_SQUARE))
        assertEquals(SquareWindow(0.0, 55.0, 500.0, CropMode.CENTER_SQUARE), SquareWindow.of(500, 610, CropMode.CENTER_SQUARE))
        // Odd margin: floor, as Python's //.
        assertEquals(SquareWindow(0.0, 2.0, 5.0, CropMode.CENTER_SQUARE), SquareWindow.of(5, 10, CropMode.CENTER_SQUARE))
        assertEquals(SquareWindow(0.0, -80.0, 640.0, CropMode.LETTERBOX), SquareWindow.of(640, 480, CropMode.LETTERBOX))
    }

    @Test
    fun resizeAtScaleOneIsACrop() {
        val img = randomImage(12, 8)
        val win = SquareWindow.of(12, 8, CropMode.CENTER_SQUARE)
        val out = SquareResizer(8).resize(img, win)
        for (y in 0 until 8) {
            for (x in 0 until 8) {
                for (c in 0 until 3) assertEquals(img[x + 2, y, c].toFloat(), out[(y * 8 + x) * 3 + c])
            }
        }
    }

    @Test
    fun resizeHalvesByAveragingPairs() {
        // side 8 -> 4: sample at 2u + 0.5, the mean of pixels 2u and 2u + 1 in x and in y.
        val img = randomImage(8, 8, seed = 3)
        val out = SquareResizer(4).resize(img, SquareWindow.of(8, 8, CropMode.CENTER_SQUARE))
        for (v in 0 until 4) {
            for (u in 0 until 4) {
                val mean = (img[2 * u, 2 * v, 1] + img[2 * u + 1, 2 * v, 1] + img[2 * u, 2 * v + 1, 1] + img[2 * u + 1, 2 * v + 1, 1]) / 4f
                assertEquals(mean, out[(v * 4 + u) * 3 + 1], 1e-4f)
            }
        }
    }

    @Test
    fun letterboxPadsOutsideTheImage() {
        val img = RgbImage(8, 4, ByteArray(8 * 4 * 3) { 200.toByte() })
        val out = SquareResizer(8, padValue = 0f).resize(img, SquareWindow.of(8, 4, CropMode.LETTERBOX))
        for (v in 0 until 8) {
            val expected = if (v in 2..5) 200f else 0f
            for (u in 0 until 8) assertEquals(expected, out[(v * 8 + u) * 3], "row $v")
        }
    }

    @Test
    fun windowMappingRoundTrips() {
        for (mode in CropMode.entries) {
            val win = SquareWindow.of(640, 480, mode)
            val p = win.inputToSource(31.25f, 100.75f, 128)
            val q = win.sourceToInput(p.x, p.y, 128)
            assertEquals(31.25f, q.x, 1e-3f)
            assertEquals(100.75f, q.y, 1e-3f)
        }
        // Centre of the input is the centre of the frame.
        val c = SquareWindow.of(640, 480, CropMode.CENTER_SQUARE).inputToSource(63.5f, 63.5f, 128)
        assertEquals(PointF(319.5f, 239.5f), c)
    }

    @Test
    fun quantisationRoundsHalfUpAndClips() {
        val q = Quantization(0.5, 10)
        assertEquals(10, TensorIO.quantize(0f, q, TensorType.UINT8))
        assertEquals(11, TensorIO.quantize(0.25f, q, TensorType.UINT8))
        assertEquals(10, TensorIO.quantize(0.24f, q, TensorType.UINT8))
        assertEquals(255, TensorIO.quantize(1000f, q, TensorType.UINT8))
        assertEquals(0, TensorIO.quantize(-1000f, q, TensorType.UINT8))
        assertEquals(127, TensorIO.quantize(1000f, Quantization(1.0, -128), TensorType.INT8))
        assertEquals(-128, TensorIO.quantize(0f, Quantization(1.0, -128), TensorType.INT8))
        assertEquals(-1, TensorIO.quantize(127f, Quantization(1.0, -128), TensorType.INT8))
        assertEquals(2.5f, TensorIO.dequantize(15, q))
    }
}
