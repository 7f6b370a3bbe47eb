package com.repose.demo

import android.Manifest
import android.content.pm.PackageManager
import android.os.Bundle
import android.os.SystemClock
import android.util.Log
import android.view.Surface
import android.view.View
import android.widget.AdapterView
import android.widget.Button
import android.widget.Spinner
import android.widget.Switch
import android.widget.TextView
import androidx.activity.ComponentActivity
import androidx.activity.result.contract.ActivityResultContracts
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import androidx.camera.core.Preview
import androidx.camera.core.resolutionselector.AspectRatioStrategy
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.core.resolutionselector.ResolutionStrategy
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import com.repose.core.FpsMeter
import com.repose.core.PosePipeline
import com.repose.core.PoseSmoother
import com.repose.core.RollingMean
import com.repose.core.SmoothingKind
import com.repose.core.TrackingCrop
import com.repose.core.YuvPlane
import java.io.FileNotFoundException
import java.util.Locale
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * Camera preview with the RePose skeleton on top. CameraX delivers YUV_420_888 frames to an
 * ImageAnalysis use case (KEEP_ONLY_LATEST: a slow model drops frames instead of queueing them);
 * `com.repose.core.PosePipeline` turns each frame into the model input and the heatmaps back into
 * keypoints; [PoseEstimator] runs LiteRT on the chosen accelerator. Everything that touches the
 * estimator runs on [analysisExecutor], one thread, so switching models never races a frame.
 */
class MainActivity : ComponentActivity() {
    private data class EngineConfig(val stem: String, val accelerator: Accelerator, val threads: Int)

    private class Engine(val config: EngineConfig, val estimator: PoseEstimator, val pipeline: PosePipeline, val smoother: PoseSmoother)

    private lateinit var previewView: PreviewView
    private lateinit var overlay: SkeletonOverlayView
    private lateinit var hud: TextView
    private lateinit var int8Switch: Switch
    private lateinit var smoothSwitch: Switch
    private lateinit var trackSwitch: Switch
    private lateinit var delegateSpinner: Spinner
    private lateinit var threadsSpinner: Spinner

    private lateinit var analysisExecutor: ExecutorService
    private var cameraProvider: ProcessCameraProvider? = null
    private var useFrontCamera = false

    @Volatile private var smoothing = true

    @Volatile private var tracking = true

    // Only touched on analysisExecutor.
    private var engine: Engine? = null
    private val inferMs = RollingMean(30)
    private val preMs = RollingMean(30)
    private val postMs = RollingMean(30)
    private val fps = FpsMeter(30)

    private val requestPermission =
        registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
            if (granted) startCamera() else hud.setText(R.string.camera_permission_denied)
        }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        previewView = findViewById(R.id.preview)
        overlay = findViewById(R.id.overlay)
        hud = findViewById(R.id.hud)
        int8Switch = findViewById(R.id.int8_switch)
        smoothSwitch = findViewById(R.id.smooth_switch)
        trackSwitch = findViewById(R.id.track_switch)
        delegateSpinner = findViewById(R.id.delegate_spinner)
        threadsSpinner = findViewById(R.id.threads_spinner)
        previewView.scaleType = PreviewView.ScaleType.FILL_CENTER

        analysisExecutor = Executors.newSingleThreadExecutor()

        threadsSpinner.setSelection(THREAD_CHOICES.indexOf(DEFAULT_THREADS))
        val rebuild =
            object : AdapterView.OnItemSelectedListener {
                override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) = requestEngine()

                override fun onNothingSelected(parent: AdapterView<*>?) = Unit
            }
        delegateSpinner.onItemSelectedListener = rebuild
        threadsSpinner.onItemSelectedListener = rebuild
        int8Switch.setOnCheckedChangeListener { _, _ -> requestEngine() }
        smoothSwitch.setOnCheckedChangeListener { _, checked -> smoothing = checked }
        trackSwitch.setOnCheckedChangeListener { _, checked -> tracking = checked }
        findViewById<Button>(R.id.switch_camera).setOnClickListener {
            useFrontCamera = !useFrontCamera
            analysisExecutor.execute { engine?.smoother?.reset() }
            bindCamera()
        }

        requestEngine()
        if (ContextCompat.checkSelfPermission(this, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) {
            startCamera()
        } else {
            requestPermission.launch(Manifest.permission.CAMERA)
        }
    }

    override fun onDestroy() {
        super.onDestroy()
        analysisExecutor.execute {
            engine?.estimator?.close()
            engine = null
        }
        analysisExecutor.shutdown()
    }

    private fun requestEngine() {
        val config =
            EngineConfig(
                stem = if (int8Switch.isChecked) MODEL_INT8 else MODEL_FLOAT16,
                accelerator = Accelerator.entries[delegateSpinner.selectedItemPosition.coerceAtLeast(0)],
                threads = THREAD_CHOICES[threadsSpinner.selectedItemPosition.coerceAtLeast(0)]
            )
        analysisExecutor.execute { rebuildEngine(config) }
    }

    /** On analysisExecutor: replace the estimator (closing the old one first). */
    private fun rebuildEngine(config: EngineConfig) {
        if (engine?.config == config) return
        engine?.estimator?.close()
        engine = null
        val status =
            try {
                val est = PoseEstimator.create(this, config.stem, config.accelerator, config.threads)
                val smoother = PoseSmoother(est.sidecar.numKeypoints, SmoothingKind.ONE_EURO, minScore = 0.1f)
                engine = Engine(config, est, PosePipeline(est.sidecar), smoother)
                listOf(inferMs, preMs, postMs).forEach { it.reset() }
                fps.reset()
                est.fallbackReason
            } catch (e: FileNotFoundException) {
                getString(R.string.model_missing, config.stem)
            } catch (e: Exception) {
                Log.e(TAG, "cannot load ${config.stem}", e)
                "Cannot load ${config.stem}: ${e.message}"
            }
        val text = status ?: "${config.stem} loaded on ${engine?.estimator?.accelerator}"
        runOnUiThread {
            hud.text = text
            overlay.setPose(null, null, emptyList())
        }
    }

    private fun startCamera() {
        val future = ProcessCameraProvider.getInstance(this)
        future.addListener({
            cameraProvider = future.get()
            previewView.post { bindCamera() }
        }, ContextCompat.getMainExecutor(this))
    }

    private fun bindCamera() {
        val provider = cameraProvider ?: return
        var front = useFrontCamera
        if (front && !provider.hasCamera(CameraSelector.DEFAULT_FRONT_CAMERA)) front = false
        if (!front && !provider.hasCamera(CameraSelector.DEFAULT_BACK_CAMERA)) front = true
        useFrontCamera = front
        val selector = if (front) CameraSelector.DEFAULT_FRONT_CAMERA else CameraSelector.DEFAULT_BACK_CAMERA
        val rotation = previewView.display?.rotation ?: Surface.ROTATION_0

        // Preview and analysis share one aspect ratio (4:3), so they see the same field of view
        // and the analysis frame maps onto the view with the preview's FILL_CENTER geometry.
        val aspect = AspectRatioStrategy.RATIO_4_3_FALLBACK_AUTO_STRATEGY
        val preview =
            Preview.Builder()
                .setResolutionSelector(ResolutionSelector.Builder().setAspectRatioStrategy(aspect).build())
                .setTargetRotation(rotation)
                .build()
        preview.setSurfaceProvider(previewView.surfaceProvider)
        val analysisResolution =
            ResolutionSelector.Builder()
                .setAspectRatioStrategy(aspect)
                .setResolutionStrategy(
                    ResolutionStrategy(
                        android.util.Size(640, 480),
                        ResolutionStrategy.FALLBACK_RULE_CLOSEST_HIGHER_THEN_LOWER
                    )
                )
                .build()
        val analysis =
            ImageAnalysis.Builder()
                .setResolutionSelector(analysisResolution)
                .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
                .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_YUV_420_888)
                .setTargetRotation(rotation)
                .build()
        analysis.setAnalyzer(analysisExecutor) { image -> analyze(image, front) }

        provider.unbindAll()
        try {
            provider.bindToLifecycle(this, selector, preview, analysis)
        } catch (e: Exception) {
            Log.e(TAG, "camera bind failed", e)
            hud.text = "Camera failed: ${e.message}"
        }
    }

    /** On analysisExecutor, once per frame. */
    private fun analyze(image: ImageProxy, front: Boolean) {
        try {
            val eng = engine ?: return
            // The tracking crop (com.repose.core.TrackingCrop): toggled from the UI thread, applied here.
            if (tracking != (eng.pipeline.tracking != null)) eng.pipeline.tracking = if (tracking) TrackingCrop() else null
            val t0 = SystemClock.elapsedRealtimeNanos()
            val planes = image.planes
            val frame =
                eng.pipeline.prepare(
                    image.width,
                    image.height,
                    YuvPlane(planes[0].buffer, planes[0].rowStride, planes[0].pixelStride),
                    YuvPlane(planes[1].buffer, planes[1].rowStride, planes[1].pixelStride),
                    YuvPlane(planes[2].buffer, planes[2].rowStride, planes[2].pixelStride),
                    image.imageInfo.rotationDegrees,
                    mirror = front
                )
            val t1 = SystemClock.elapsedRealtimeNanos()
            eng.estimator.run(eng.pipeline.inputBuffer, eng.pipeline.outputBuffer)
            val t2 = SystemClock.elapsedRealtimeNanos()
            val pose = eng.pipeline.decode(frame)
            val upright = if (smoothing) eng.smoother.smooth(pose.upright, image.imageInfo.timestamp / 1e9) else pose.upright
            val t3 = SystemClock.elapsedRealtimeNanos()

            preMs.add((t1 - t0) / 1e6)
            inferMs.add((t2 - t1) / 1e6)
            postMs.add((t3 - t2) / 1e6)
            fps.tick(t3)
            val est = eng.estimator
            val text =
                String.format(
                    Locale.US,
                    "%s · %s · %d thr%s\ninference %.1f ms  (pre %.1f, post %.1f)\nFPS %.1f  %dx%d rot %d° %s\ncrop %s",
                    eng.config.stem.removePrefix("repose_lsp14_"),
                    est.accelerator,
                    est.threads,
                    est.fallbackReason?.let { "\n$it" } ?: "",
                    inferMs.mean,
                    preMs.mean,
                    postMs.mean,
                    fps.fps,
                    image.width,
                    image.height,
                    frame.geometry.rotation,
                    if (front) "front" else "back",
                    when {
                        eng.pipeline.tracking == null -> "centre square"
                        eng.pipeline.tracking!!.locked -> "tracking"
                        else -> "centre (searching)"
                    }
                )
            val skeleton = est.sidecar.skeleton
            runOnUiThread {
                overlay.setPose(upright, frame.geometry, skeleton)
                hud.text = text
            }
        } catch (e: Exception) {
            Log.e(TAG, "frame failed", e)
            runOnUiThread { hud.text = "Inference failed: ${e.message}" }
        } finally {
            image.close()
        }
    }

    private companion object {
        const val TAG = "RePose"
        const val MODEL_INT8 = "repose_lsp14_int8"
        const val MODEL_FLOAT16 = "repose_lsp14_float16"
        val THREAD_CHOICES = listOf(1, 2, 4)
        const val DEFAULT_THREADS = 4
    }
}
