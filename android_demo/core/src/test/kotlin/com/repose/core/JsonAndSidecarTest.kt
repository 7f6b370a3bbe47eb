package com.repose.core

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class JsonAndSidecarTest {
    @Test
    fun parsesJsonValues() {
        val v = Json.parse("""{"a": [1, -2.5e1, 0.125, true, false, null], "s": "x\"\\\n\u00e9\/", "o": {}}""")

        @Suppress("UNCHECKED_CAST")
        val m = v as Map<String, Any?>
        assertEquals(listOf(1.0, -25.0, 0.125, true, false, null), m["a"])
        assertEquals("x\"\\\n\u00e9/", m["s"])
        assertEquals(emptyMap<String, Any?>(), m["o"])
        assertEquals(listOf<Any?>(), Json.parse(" [ ] "))
    }

    @Test
    fun rejectsMalformedJson() {
        for (bad in listOf("{", "[1,]", "{\"a\" 1}", "01", "1.", "\"abc", "[1] x", "tru", "{\"a\":1,}")) {
            assertThrows(JsonException::class.java, { Json.parse(bad) }, bad)
        }
    }

    private fun sidecar(
        inputDtype: String = "uint8",
        inputQuant: String = """{"scale": 0.5, "zero_point": 3}""",
        format: String = Sidecar.FORMAT,
        outChannels: Int = 3,
        outputDtype: String = "float32",
        outputQuant: String = "null"
    ) = """
        {"format": "$format", "model_file": "m.tflite",
         "model": {"name": "RePose", "preset": "p", "params": 1234, "gflops": 0.5},
         "keypoint_set": "tiny", "keypoint_names": ["a", "b", "c"],
         "skeleton": [[0, 1], [1, 2]], "flip_pairs": [[0, 2]],
         "input": {"name": "in", "index": 0, "shape": [1, 8, 8, 3], "layout": "NHWC", "color": "RGB",
                   "dtype": "$inputDtype", "value_range": [0, 255], "quantization": $inputQuant},
         "output": {"name": "out", "index": 7, "shape": [1, 8, 8, $outChannels], "layout": "NHWC",
                    "kind": "heatmaps", "stride": 1, "dtype": "$outputDtype", "quantization": $outputQuant,
                    "sigma": 5.0},
         "decode": {"method": "argmax_quarter_offset", "coordinates": "input_pixels"},
         "preprocess": {"crop": "letterbox", "resize": "bilinear"},
         "quantize": "int8", "source": {"keras": null, "exported_by": "repose_tf 0.1.0"}}
    """.trimIndent()

    @Test
    fun parsesASidecar() {
        val sc = Sidecar.parse(sidecar())
        assertEquals("m.tflite", sc.modelFile)
        assertEquals(1234L, sc.params)
        assertEquals(listOf("a", "b", "c"), sc.keypointNames)
        assertEquals(listOf(0 to 1, 1 to 2), sc.skeleton)
        assertEquals(TensorType.UINT8, sc.input.type)
        assertEquals(Quantization(0.5, 3), sc.input.quantization)
        assertEquals(7, sc.output.index)
        assertNull(sc.output.quantization)
        assertEquals(CropMode.LETTERBOX, sc.crop)
        assertEquals(8 * 8 * 3, sc.input.byteCount)
        assertEquals(8 * 8 * 3 * 4, sc.output.byteCount)
    }

    @Test
    fun rejectsBadSidecarsWithTheFieldName() {
        fun msg(text: String) = assertThrows(JsonException::class.java) { Sidecar.parse(text) }.message!!
        assertTrue(msg(sidecar(format = "other/1")).contains("format"))
        assertTrue(msg(sidecar(inputQuant = "null")).contains("input.quantization"))
        assertTrue(msg(sidecar(outChannels = 4)).contains("output.shape"))
        assertTrue(msg(sidecar(inputDtype = "float64")).contains("float64"))
        assertTrue(msg(sidecar(outputDtype = "int8")).contains("output.quantization"))
        assertTrue(msg(sidecar().replace("\"sigma\": 5.0", "\"sigmaX\": 5.0")).contains("sigma"))
    }

    @Test
    fun quantisedOutputIsDequantised() {
        val sc = Sidecar.parse(sidecar(outputDtype = "int8", outputQuant = """{"scale": 0.25, "zero_point": -10}"""))
        val buf = TensorIO.allocate(sc.output)
        buf.put(0, (-10).toByte())
        buf.put(1, 30.toByte())
        buf.put(2, (-128).toByte())
        val hm = TensorIO.readOutput(buf, sc.output)
        assertEquals(0f, hm[0])
        assertEquals(10f, hm[1])
        assertEquals(-29.5f, hm[2])
    }
}
