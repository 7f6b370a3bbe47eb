package com.repose.demo

import android.content.Context
import com.repose.core.Sidecar
import com.repose.core.TensorIO
import com.repose.core.TensorType
import java.io.Closeable
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.MappedByteBuffer
import java.nio.channels.FileChannel
import org.tensorflow.lite.DataType
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.CompatibilityList
import org.tensorflow.lite.gpu.GpuDelegate
import org.tensorflow.lite.nnapi.NnApiDelegate

/** Where the interpreter runs the model. */
enum class Accelerator { CPU, GPU, NNAPI }

/**
 * The LiteRT interpreter for one exported RePose model from the app's assets
 * (`assets/models/<stem>.tflite` with its sidecar `<stem>.json`).
 *
 * CPU uses XNNPACK with [threads] threads. GPU and NNAPI are tried first when asked for; if the
 * delegate cannot be created, cannot take the graph or fails its first run, the estimator falls
 * back to CPU and says why in [fallbackReason]. Not thread-safe: use it from one thread.
 */
class PoseEstimator private constructor(
    val sidecar: Sidecar,
    private val interpreter: Interpreter,
    private val delegate: AutoCloseable?,
    val accelerator: Accelerator,
    val threads: Int,
    val fallbackReason: String?
) : Closeable {
    private val outputOrdinal: Int = findOutput(interpreter, sidecar)

    init {
        checkInput(interpreter, sidecar)
    }

    /** Runs the model: [input] and [output] as [com.repose.core.PosePipeline] allocates them. */
    fun run(input: ByteBuffer, output: ByteBuffer) {
        input.rewind()
        output.rewind()
        interpreter.runForMultipleInputsOutputs(arrayOf<Any>(input), mapOf<Int, Any>(outputOrdinal to output))
        output.rewind()
    }

    override fun close() {
        interpreter.close()
        delegate?.close()
    }

    companion object {
        const val ASSET_DIR = "models"

        /** Loads `models/<stem>.json` and the model it names; throws FileNotFoundException when absent. */
        fun create(context: Context, stem: String, requested: Accelerator, threads: Int): PoseEstimator {
            val sidecar =
                context.assets.open("$ASSET_DIR/$stem.json").bufferedReader().use { Sidecar.parse(it.readText()) }
            val model = mapAsset(context, "$ASSET_DIR/${sidecar.modelFile}")
            var reason: String? = null
            if (requested == Accelerator.GPU) {
                var gpu: GpuDelegate? = null
                try {
                    val compat = CompatibilityList()
                    val options =
                        try {
                            if (!compat.isDelegateSupportedOnThisDevice) {
                                throw UnsupportedOperationException("not supported on this device")
                            }
                            compat.bestOptionsForThisDevice
                        } finally {
                            compat.close()
                        }
                    gpu = GpuDelegate(options)
                    val interp = Interpreter(model, Interpreter.Options().setNumThreads(threads).addDelegate(gpu))
                    return warmUp(PoseEstimator(sidecar, interp, gpu, Accelerator.GPU, threads, null))
                } catch (e: Throwable) {
                    gpu?.close()
                    reason = "GPU failed (${e.message ?: e.javaClass.simpleName}), using CPU"
                }
            }
            if (requested == Accelerator.NNAPI) {
                var nnapi: NnApiDelegate? = null
                try {
                    nnapi = NnApiDelegate()
                    val interp = Interpreter(model, Interpreter.Options().setNumThreads(threads).addDelegate(nnapi))
                    return warmUp(PoseEstimator(sidecar, interp, nnapi, Accelerator.NNAPI, threads, null))
                } catch (e: Throwable) {
                    nnapi?.close()
                    reason = "NNAPI failed (${e.message ?: e.javaClass.simpleName}), using CPU"
                }
            }
            val options = Interpreter.Options().setNumThreads(threads).setUseXNNPACK(true)
            return PoseEstimator(sidecar, Interpreter(model, options), null, Accelerator.CPU, threads, reason)
        }

        /** One run on zeros, so a delegate that fails only at run time fails here (and falls back). */
        private fun warmUp(est: PoseEstimator): PoseEstimator {
            try {
                est.run(TensorIO.allocate(est.sidecar.input), TensorIO.allocate(est.sidecar.output))
            } catch (e: Throwable) {
                est.close()
                throw e
            }
            return est
        }

        private fun mapAsset(context: Context, path: String): MappedByteBuffer = context.assets.openFd(path).use { fd ->
            FileInputStream(fd.fileDescriptor).use { stream ->
                stream.channel.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength)
            }
        }

        private fun checkInput(interpreter: Interpreter, sidecar: Sidecar) {
            val t = interpreter.getInputTensor(0)
            val expected =
                when (sidecar.input.type) {
                    TensorType.FLOAT32 -> DataType.FLOAT32
                    TensorType.UINT8 -> DataType.UINT8
                    TensorType.INT8 -> DataType.INT8
                }
            check(t.dataType() == expected) { "model input is ${t.dataType()}, sidecar says ${sidecar.input.type.jsonName}" }
            check(t.shape().toList() == sidecar.input.shape) {
                "model input shape ${t.shape().toList()} != sidecar ${sidecar.input.shape}"
            }
        }

        /** The output ordinal of the heatmap tensor: by the sidecar's tensor name, else the only 4-D output. */
        private fun findOutput(interpreter: Interpreter, sidecar: Sidecar): Int {
            val n = interpreter.outputTensorCount
            (0 until n).firstOrNull { interpreter.getOutputTensor(it).name() == sidecar.output.name }?.let { return it }
            return (0 until n).singleOrNull { interpreter.getOutputTensor(it).shape().size == 4 }
                ?: error("cannot find output '${sidecar.output.name}' among $n model outputs")
        }
    }
}
