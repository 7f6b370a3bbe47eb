package com.repose.core

import kotlin.math.abs
import kotlin.math.sin
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class GeometryAndSmoothingTest {
    private fun assertPoint(expected: PointF, actual: PointF, tol: Float = 1e-4f) {
        assertEquals(expected.x, actual.x, tol, "x of $actual")
        assertEquals(expected.y, actual.y, tol, "y of $actual")
    }

    @Test
    fun fillCenterCoversTheView() {
        // 480x640 upright content in a 1080x1920 view: scale = max(2.25, 3) = 3, 1440 wide, 180 cut each side.
        val fc = FillCenter(1080, 1920, 480, 640)
        assertEquals(3.0, fc.scale)
        assertEquals(-180.0, fc.offsetX)
        assertEquals(0.0, fc.offsetY)
        // The content's outer edges (pixel-centre -0.5) land on the view's edges / outside it.
        assertPoint(PointF(-180f, 0f), fc.map(PointF(-0.5f, -0.5f)))
        assertPoint(PointF(1260f, 1920f), fc.map(PointF(479.5f, 639.5f)))
        assertPoint(PointF(540f, 960f), fc.map(PointF(239.5f, 319.5f)))
        assertPoint(PointF(12.25f, 7.75f), fc.unmap(fc.map(PointF(12.25f, 7.75f))))
    }

    @Test
    fun backCameraPortraitMapping() {
        // A 640x480 sensor frame, rotation 90 -> 480x640 upright; the frame's top-left pixel is
        // the upright top-right one, shown at the right of the view (nothing mirrored).
        val g = FrameGeometry(640, 480, 90, mirror = false)
        assertEquals(480, g.uprightWidth)
        assertEquals(640, g.uprightHeight)
        val upright = g.frameToUpright(PointF(0f, 0f))
        assertPoint(PointF(479f, 0f), upright)
        assertPoint(PointF(0f, 0f), g.uprightToFrame(upright))
        val kp = Keypoints(floatArrayOf(upright.x), floatArrayOf(upright.y), floatArrayOf(1f))
        val v = PoseMapping.uprightToView(kp, g, 1080, 1920)
        assertPoint(FillCenter(1080, 1920, 480, 640).map(PointF(479f, 0f)), v[0])
        assertTrue(v.x[0] > 1080f)
    }

    @Test
    fun frontCameraIsMirrored() {
        // Front camera: rotation 270 on most phones, preview mirrored left-right.
        val g = FrameGeometry(640, 480, 270, mirror = true)
        val leftOfPerson = PointF(100f, 300f) // upright, unmirrored (as the camera sees it)
        val shown = g.uprightToDisplay(leftOfPerson)
        assertPoint(PointF(379f, 300f), shown)
        val kp = Keypoints(floatArrayOf(leftOfPerson.x), floatArrayOf(leftOfPerson.y), floatArrayOf(1f))
        val fc = FillCenter(720, 960, 480, 640)
        assertPoint(fc.map(shown), PoseMapping.uprightToView(kp, g, 720, 960)[0])
        // Round trip through every rotation.
        for (deg in listOf(0, 90, 180, 270)) {
            val gg = FrameGeometry(640, 480, deg, mirror = true)
            val p = PointF(123.25f, 45.75f)
            assertPoint(p, gg.uprightToFrame(gg.frameToUpright(p)))
        }
    }

    @Test
    fun pipelineMapsRotatedFramesBack() {
        // A bright 3x3 blob in a sensor-oriented frame; decoded on a synthetic "model" output that
        // puts the peak where the blob lands in the model input: it must map back onto the blob.
        val sc =
            Sidecar.parse(
                """{"format": "repose-tflite-sidecar/1", "model_file": "m.tflite",
                "model": {"name": "RePose", "preset": "p", "params": 1, "gflops": 0.1},
                "keypoint_set": "one", "keypoint_names": ["blob"], "skeleton": [], "flip_pairs": [],
                "input": {"name": "i", "index": 0, "shape": [1, 64, 64, 3], "layout": "NHWC", "color": "RGB",
                 "dtype": "float32", "value_range": [0, 255], "quantization": null},
                "output": {"name": "o", "index": 1, "shape": [1, 64, 64, 1], "layout": "NHWC", "kind": "heatmaps",
                 "stride": 1, "dtype": "float32", "quantization": null, "sigma": 2.5},
                "decode": {"method": "argmax_quarter_offset", "coordinates": "input_pixels"},
                "preprocess": {"crop": "center_square", "resize": "bilinear"}, "quantize": "none",
                "source": {"keras": null, "exported_by": "test"}}"""
            )
        val fw = 160
        val fh = 128
        val bx = 90
        val by = 40
        val frame = RgbImage(fw, fh)
        for (y in by - 1..by + 1) for (x in bx - 1..bx + 1) for (c in 0 until 3) frame.data[(y * fw + x) * 3 + c] = 255.toByte()
        for (deg in listOf(0, 90, 180, 270)) {
            val p = PosePipeline(sc)
            val prepared = p.prepare(frame, deg, mirror = false)
            // The "model": heatmap = the green channel of its own input.
            for (i in 0 until 64 * 64) p.outputBuffer.putFloat(i * 4, p.inputPixels[i * 3 + 1])
            val pose = p.decode(prepared)
            val inFrame = pose.inFrame()
            assertEquals(bx.toFloat(), inFrame.x[0], 1.0f, "x, rotation $deg")
            assertEquals(by.toFloat(), inFrame.y[0], 1.0f, "y, rotation $deg")
        }
    }

    @Test
    fun oneEuroSmoothsJitterButFollowsMotion() {
        val f = OneEuroFilter(minCutoff = 1.0, beta = 0.05)
        // Still target with +-2 px jitter at 30 fps: output jitter must shrink a lot.
        var maxDev = 0.0
        for (i in 0 until 120) {
            val noisy = 100.0 + if (i % 2 == 0) 2.0 else -2.0
            val out = f.filter(noisy, i / 30.0)
            if (i > 30) maxDev = maxOf(maxDev, abs(out - 100.0))
        }
        assertTrue(maxDev < 0.6, "jitter not reduced: $maxDev")
        // A fast move: the output must catch up within a few frames.
        var out = 0.0
        for (i in 120 until 135) out = f.filter(300.0, i / 30.0)
        assertTrue(abs(out - 300.0) < 5.0, "lags behind: $out")
    }

    @Test
    fun emaAndSmootherBehave() {
        val e = EmaFilter(0.1)
        assertEquals(5.0, e.filter(5.0, 0.0))
        val v = e.filter(10.0, 0.1)
        assertEquals(5.0 + 5.0 * (1 - kotlin.math.exp(-1.0)), v, 1e-9)
        val s = PoseSmoother(2, SmoothingKind.ONE_EURO, minScore = 0.2f)
        val kp = Keypoints(floatArrayOf(1f, 2f), floatArrayOf(3f, 4f), floatArrayOf(0.9f, 0.1f))
        s.smooth(kp, 0.0)
        val moved = Keypoints(floatArrayOf(11f, 12f), floatArrayOf(13f, 14f), floatArrayOf(0.9f, 0.1f))
        val out = s.smooth(moved, 1.0 / 30)
        assertTrue(out.x[0] in 1f..11f && out.x[0] != 11f, "joint 0 should be smoothed: ${out.x[0]}")
        assertEquals(12f, out.x[1], "a low-score joint passes through")
        val none = PoseSmoother(2, SmoothingKind.NONE)
        assertEquals(moved, none.smooth(moved, 0.0))
        // A sine wave is tracked without much lag.
        val f = OneEuroFilter()
        var err = 0.0
        for (i in 0 until 300) {
            val t = i / 30.0
            val out = f.filter(50 * sin(t), t)
            if (i > 60) err = maxOf(err, abs(out - 50 * sin(t)))
        }
        assertTrue(err < 10.0, "sine tracking error $err")
    }
}
