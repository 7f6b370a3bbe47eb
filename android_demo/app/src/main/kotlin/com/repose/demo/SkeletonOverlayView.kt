package com.repose.demo

import android.content.Context
import android.graphics.Canvas
import android.graphics.Paint
import android.util.AttributeSet
import android.view.View
import com.repose.core.FrameGeometry
import com.repose.core.Keypoints
import com.repose.core.PoseMapping

/**
 * Draws the skeleton over a PreviewView of exactly the same bounds (scale type FILL_CENTER).
 * Keypoints come in upright-frame pixels; the mapping to this view (front-camera mirror,
 * FILL_CENTER scale and crop) is done here with the view's current size, in `com.repose.core`.
 */
class SkeletonOverlayView @JvmOverloads constructor(context: Context, attrs: AttributeSet? = null, defStyleAttr: Int = 0) :
    View(context, attrs, defStyleAttr) {
    private val density = resources.displayMetrics.density
    private val linePaint =
        Paint(Paint.ANTI_ALIAS_FLAG).apply {
            color = context.getColor(R.color.skeleton_line)
            style = Paint.Style.STROKE
            strokeWidth = 4f * density
            strokeCap = Paint.Cap.ROUND
        }
    private val jointPaint =
        Paint(Paint.ANTI_ALIAS_FLAG).apply {
            color = context.getColor(R.color.skeleton_joint)
            style = Paint.Style.FILL
        }

    private var keypoints: Keypoints? = null
    private var geometry: FrameGeometry? = null
    private var skeleton: List<Pair<Int, Int>> = emptyList()

    /** Joints scoring below this (heatmap peak value) are not drawn. */
    var minScore = 0.2f

    /** Call on the UI thread; null clears the overlay. */
    fun setPose(upright: Keypoints?, frame: FrameGeometry?, edges: List<Pair<Int, Int>>) {
        keypoints = upright
        geometry = frame
        skeleton = edges
        invalidate()
    }

    override fun onDraw(canvas: Canvas) {
        super.onDraw(canvas)
        val kp = keypoints ?: return
        val g = geometry ?: return
        if (width == 0 || height == 0) return
        val v = PoseMapping.uprightToView(kp, g, width, height)
        for ((a, b) in skeleton) {
            if (v.score[a] >= minScore && v.score[b] >= minScore) {
                canvas.drawLine(v.x[a], v.y[a], v.x[b], v.y[b], linePaint)
            }
        }
        val r = 5f * density
        for (i in 0 until v.size) {
            if (v.score[i] >= minScore) canvas.drawCircle(v.x[i], v.y[i], r, jointPaint)
        }
    }
}
