package com.repose.core

/** Element types a RePose model's input / output tensor may have. */
enum class TensorType(val jsonName: String, val bytes: Int, val minValue: Int, val maxValue: Int) {
    FLOAT32("float32", 4, 0, 0),
    UINT8("uint8", 1, 0, 255),
    INT8("int8", 1, -128, 127)
    ;

    val isInteger get() = this != FLOAT32

    companion object {
        fun of(name: String): TensorType = entries.firstOrNull { it.jsonName == name }
            ?: throw JsonException("unsupported dtype '$name' (known: ${entries.joinToString { it.jsonName }})")
    }
}

/** Affine quantisation: real = (q - zeroPoint) * scale. */
data class Quantization(val scale: Double, val zeroPoint: Int)

/** One model tensor as the sidecar describes it (always NHWC, batch 1). */
data class TensorSpec(val name: String, val index: Int, val shape: List<Int>, val type: TensorType, val quantization: Quantization?) {
    val height get() = shape[1]
    val width get() = shape[2]
    val channels get() = shape[3]
    val elementCount get() = shape.fold(1) { a, b -> a * b }
    val byteCount get() = elementCount * type.bytes
}

/** How the camera frame is cut to the square model input. */
enum class CropMode(val jsonName: String) {
    /** The largest centred square; the sides of a landscape/portrait frame are cut off. */
    CENTER_SQUARE("center_square"),

    /** The whole frame, centred in a square of side max(w, h), zero padding outside. */
    LETTERBOX("letterbox")
    ;

    companion object {
        fun of(name: String): CropMode = entries.firstOrNull { it.jsonName == name } ?: throw JsonException("unsupported crop '$name'")
    }
}

/**
 * The model sidecar (`repose-tflite-sidecar/1`, written by `repose_tf/sidecar.py`, which
 * documents the format): everything needed to feed the model and decode its heatmaps.
 */
data class Sidecar(
    val modelFile: String,
    val modelName: String,
    val preset: String,
    val params: Long,
    val gflops: Double,
    val keypointSet: String,
    val keypointNames: List<String>,
    val skeleton: List<Pair<Int, Int>>,
    val flipPairs: List<Pair<Int, Int>>,
    val input: TensorSpec,
    val valueRange: Pair<Double, Double>,
    val output: TensorSpec,
    val stride: Int,
    val sigma: Double,
    val decodeMethod: String,
    val crop: CropMode,
    val quantize: String,
    val exportedBy: String
) {
    val numKeypoints get() = keypointNames.size
    val inputSize get() = input.width

    companion object {
        const val FORMAT = "repose-tflite-sidecar/1"

        /** Parses and validates a sidecar; throws [JsonException] naming the offending field. */
        fun parse(text: String): Sidecar {
            val root = Json.parse(text).asObj("(top level)")
            val format = root.str("format")
            if (format != FORMAT) throw JsonException("sidecar: unsupported format '$format', expected '$FORMAT'")
            val model = root.obj("model")
            val names = root.list("keypoint_names").mapIndexed { i, v -> v as? String ?: bad("keypoint_names[$i]", "a string") }
            if (names.isEmpty() || names.toSet().size != names.size) bad("keypoint_names", "unique names")
            val k = names.size
            val inObj = root.obj("input")
            val outObj = root.obj("output")
            val input = tensor(inObj, "input")
            val output = tensor(outObj, "output")
            if (input.channels != 3) bad("input.shape", "3 channels")
            if (inObj.str("color") != "RGB") bad("input.color", "'RGB'")
            if (output.channels != k) bad("output.shape", "$k channels (one per keypoint name)")
            if (outObj.str("kind") != "heatmaps") bad("output.kind", "'heatmaps'")
            val stride = outObj.int("stride")
            if (stride < 1 || output.height * stride != input.height || output.width * stride != input.width) {
                bad("output.stride", "output size * stride == input size")
            }
            val range = inObj.list("value_range").map { (it as? Double) ?: bad("input.value_range", "numbers") }
            if (range.size != 2 || range[0] >= range[1]) bad("input.value_range", "[lo, hi]")
            val decode = root.obj("decode")
            val method = decode.str("method")
            if (method != "argmax_quarter_offset") bad("decode.method", "'argmax_quarter_offset'")
            if (decode.str("coordinates") != "input_pixels") bad("decode.coordinates", "'input_pixels'")
            val pre = root.obj("preprocess")
            if (pre.str("resize") != "bilinear") bad("preprocess.resize", "'bilinear'")
            return Sidecar(
                modelFile = root.str("model_file"),
                modelName = model.str("name"),
                preset = model.str("preset"),
                params = model.num("params").toLong(),
                gflops = model.num("gflops"),
                keypointSet = root.str("keypoint_set"),
                keypointNames = names,
                skeleton = pairs(root, "skeleton", k),
                flipPairs = pairs(root, "flip_pairs", k),
                input = input,
                valueRange = range[0] to range[1],
                output = output,
                stride = stride,
                sigma = outObj.num("sigma"),
                decodeMethod = method,
                crop = CropMode.of(pre.str("crop")),
                quantize = root.str("quantize"),
                exportedBy = root.obj("source").str("exported_by")
            )
        }

        private fun bad(field: String, expected: String): Nothing = throw JsonException("sidecar: '$field' must be $expected")

        @Suppress("UNCHECKED_CAST")
        private fun Any?.asObj(field: String): Map<String, Any?> = this as? Map<String, Any?> ?: bad(field, "an object")

        private fun Map<String, Any?>.req(key: String): Any? {
            if (!containsKey(key)) throw JsonException("sidecar: missing '$key'")
            return this[key]
        }

        private fun Map<String, Any?>.obj(key: String) = req(key).asObj(key)

        private fun Map<String, Any?>.str(key: String) = req(key) as? String ?: bad(key, "a string")

        private fun Map<String, Any?>.num(key: String) = req(key) as? Double ?: bad(key, "a number")

        private fun Map<String, Any?>.int(key: String): Int {
            val d = num(key)
            if (d != Math.rint(d)) bad(key, "an integer")
            return d.toInt()
        }

        private fun Map<String, Any?>.list(key: String) = req(key) as? List<*> ?: bad(key, "an array")

        private fun pairs(root: Map<String, Any?>, key: String, k: Int): List<Pair<Int, Int>> = root.list(key).map { e ->
            val p = (e as? List<*>)?.map { (it as? Double)?.toInt() ?: -1 } ?: emptyList()
            if (p.size != 2 || p.any { it !in 0 until k }) bad(key, "pairs of keypoint indices in 0..${k - 1}")
            p[0] to p[1]
        }

        private fun tensor(o: Map<String, Any?>, field: String): TensorSpec {
            val shape = o.list("shape").map { (it as? Double)?.toInt() ?: bad("$field.shape", "integers") }
            if (shape.size != 4 || shape[0] != 1 || shape.any { it <= 0 }) bad("$field.shape", "[1, H, W, C]")
            if (o.str("layout") != "NHWC") bad("$field.layout", "'NHWC'")
            val type = TensorType.of(o.str("dtype"))
            val q = o.req("quantization")
            val quant =
                if (q == null) {
                    null
                } else {
                    val qo = q.asObj("$field.quantization")
                    Quantization(qo.num("scale"), qo.int("zero_point"))
                }
            if (type.isInteger && quant == null) bad("$field.quantization", "present for a ${type.jsonName} tensor")
            if (quant != null && quant.scale <= 0.0) bad("$field.quantization.scale", "> 0")
            return TensorSpec(o.str("name"), o.int("index"), shape, type, if (type.isInteger) quant else null)
        }
    }
}
