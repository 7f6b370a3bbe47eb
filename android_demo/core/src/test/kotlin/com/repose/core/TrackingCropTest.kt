package com.repose.core

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The tracking crop's rules; the web demo's web_demo/test/pose.test.mjs checks the same cases. */
class TrackingCropTest {
    // A person (6 keypoints) whose box is x 300..360, y 40..200 in a 426 x 240 frame: the centre
    // square (x 93..333) cuts it.
    private val xs = floatArrayOf(300f, 360f, 310f, 350f, 330f, 330f)
    private val ys = floatArrayOf(40f, 40f, 120f, 120f, 200f, 200f)

    private val sidecarJson = """
        {"format": "repose-tflite-sidecar/1", "model_file": "m.tflite",
         "model": {"name": "RePose", "preset": "p", "params": 1, "gflops": 0.5},
         "keypoint_set": "six", "keypoint_names": ["a", "b", "c", "d", "e", "f"],
         "skeleton": [[0, 1]], "flip_pairs": [],
         "input": {"name": "in", "index": 0, "shape": [1, 16, 16, 3], "layout": "NHWC", "color": "RGB",
                   "dtype": "float32", "value_range": [0, 255], "quantization": null},
         "output": {"name": "out", "index": 1, "shape": [1, 16, 16, 6], "layout": "NHWC", "kind": "heatmaps",
                    "stride": 1, "dtype": "float32", "quantization": null, "sigma": 1.0},
         "decode": {"method": "argmax_quarter_offset", "coordinates": "input_pixels"},
         "preprocess": {"crop": "center_square", "resize": "bilinear"},
         "quantize": "none", "source": {"keras": null, "exported_by": "test"}}
    """.trimIndent()

    private fun person(score: Float, dx: Float = 0f) = Keypoints(FloatArray(6) { xs[it] + dx }, ys.copyOf(), FloatArray(6) { score })

    @Test
    fun fallsBackToTheCentreSquareWithoutConfidentKeypoints() {
        val t = TrackingCrop()
        assertEquals(SquareWindow.of(426, 240, CropMode.CENTER_SQUARE), t.window(426, 240))
        val kp = person(0.01f)
        kp.score[0] = 0.5f
        kp.score[1] = 0.5f
        t.update(kp, 426, 240)
        assertFalse(t.locked)
        assertEquals(SquareWindow.of(426, 240, CropMode.CENTER_SQUARE), t.window(426, 240))
    }

    @Test
    fun locksOntoAnOffCentrePersonAndCoversItsKeypoints() {
        val t = TrackingCrop()
        t.update(person(0.3f), 426, 240)
        assertTrue(t.locked)
        val w = t.window(426, 240)
        assertEquals(320.0, w.side) // margin 2 x 160, between 240 and 426
        assertEquals(426.0 - 320.0, w.x0) // shifted inside the frame in x
        assertEquals((240.0 - 320.0) / 2, w.y0) // centred in y: the square is taller than the frame
        assertEquals(CropMode.LETTERBOX, w.mode)
        for (i in 0 until 6) {
            assertTrue(xs[i] >= w.x0 && xs[i] <= w.x0 + w.side && ys[i] >= w.y0 && ys[i] <= w.y0 + w.side, "keypoint $i")
        }
        val centre = SquareWindow.of(426, 240, CropMode.CENTER_SQUARE)
        assertTrue(xs.max() > centre.x0 + centre.side, "the centre square would cut this person")
    }

    @Test
    fun smoothsTheWindowAndKeepsAMinimumSide() {
        val t = TrackingCrop()
        t.update(person(0.3f), 426, 240)
        t.update(person(0.3f, dx = -100f), 426, 240)
        assertEquals(330.0 + 0.5 * (230.0 - 330.0), t.state()!!.first, 1e-9)
        val tiny = TrackingCrop()
        tiny.update(Keypoints(floatArrayOf(200f, 210f, 205f), floatArrayOf(100f, 110f, 105f), floatArrayOf(0.3f, 0.3f, 0.3f)), 426, 240)
        assertEquals(240.0, tiny.state()!!.third) // at least minSideFraction x the shorter side
    }

    @Test
    fun resetsWhenConfidenceDropsOrTheFrameSizeChanges() {
        val t = TrackingCrop()
        t.update(person(0.3f), 426, 240)
        t.update(person(0.05f), 426, 240)
        assertFalse(t.locked)
        t.update(person(0.3f), 426, 240)
        assertEquals(SquareWindow.of(640, 480, CropMode.CENTER_SQUARE), t.window(640, 480))
    }

    @Test
    fun pipelineFollowsAPersonOffCentre() {
        // The pure-Kotlin pipeline with tracking on: a synthetic frame whose "person" keypoints
        // sit right of the centre square; after one update the model input covers them.
        val sc = Sidecar.parse(sidecarJson)
        val p = PosePipeline(sc)
        p.tracking = TrackingCrop()
        val frame = RgbImage(426, 240, ByteArray(426 * 240 * 3))
        val first = p.prepare(frame, 0, mirror = false)
        assertEquals(SquareWindow.of(426, 240, CropMode.CENTER_SQUARE), first.window)
        p.tracking!!.update(person(0.3f), 426, 240)
        val second = p.prepare(frame, 0, mirror = false)
        assertEquals(106.0, second.window.x0)
        for (i in 0 until 6) {
            val u = second.window.sourceToInput(xs[i], ys[i], p.inputSize)
            assertTrue(u.x >= -0.5f && u.x <= p.inputSize - 0.5f && u.y >= -0.5f && u.y <= p.inputSize - 0.5f)
        }
    }
}
