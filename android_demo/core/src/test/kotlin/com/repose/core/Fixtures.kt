package com.repose.core

import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import kotlin.math.abs
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue

/**
 * Golden fixtures written by `tools/make_android_fixtures.py` (see its docstring). The directory
 * comes from the system property `repose.fixtures` or the environment variable
 * `REPOSE_ANDROID_FIXTURES`; tests that need it are skipped when neither is set
 * (`tests/test_android.py` always sets it).
 */
class Fixtures(val dir: File) {
    @Suppress("UNCHECKED_CAST")
    val manifest = Json.parse(File(dir, "manifest.json").readText()) as Map<String, Any?>

    val sidecarText: String get() = File(dir, manifest["sidecar"] as String).readText()

    @Suppress("UNCHECKED_CAST")
    fun entry(key: String) = manifest[key] as Map<String, Any?>

    fun int(key: String, field: String) = (entry(key)[field] as Double).toInt()

    fun shape(key: String) = (entry(key)["shape"] as List<*>).map { (it as Double).toInt() }

    fun bytes(key: String): ByteArray = File(dir, entry(key)["file"] as String).readBytes()

    fun floats(key: String): FloatArray {
        val b = ByteBuffer.wrap(bytes(key)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
        return FloatArray(b.remaining()).also { b.get(it) }
    }

    fun rgbImage(): RgbImage = RgbImage(int("image", "width"), int("image", "height"), bytes("image"))

    companion object {
        fun dirOrNull(): File? {
            val p = System.getProperty("repose.fixtures") ?: System.getenv("REPOSE_ANDROID_FIXTURES") ?: return null
            return File(p).takeIf { File(it, "manifest.json").isFile }
        }

        /** The fixtures, or a skipped test (JUnit assumption) when none were given. */
        fun load(): Fixtures {
            val dir = dirOrNull()
            assumeTrue(dir != null, "no golden fixtures: set -Drepose.fixtures=DIR (tools/make_android_fixtures.py)")
            return Fixtures(dir!!)
        }
    }
}

/** Comparisons shared by the golden tests, so the tests that prove they have teeth use the same code. */
object Golden {
    fun maxAbsDiff(a: FloatArray, b: FloatArray): Float {
        require(a.size == b.size) { "size ${a.size} != ${b.size}" }
        var m = 0f
        for (i in a.indices) m = maxOf(m, abs(a[i] - b[i]))
        return m
    }

    /** Interleaves x and y into [x0, y0, x1, y1, ...] (the fixture layout K x 2). */
    fun xy(kp: Keypoints): FloatArray = FloatArray(kp.size * 2) { if (it % 2 == 0) kp.x[it / 2] else kp.y[it / 2] }

    /** Fails (AssertionFailedError) when any coordinate differs from the golden by more than [tol]. */
    fun assertKeypointsMatch(golden: FloatArray, actual: Keypoints, tol: Float, what: String) {
        val a = xy(actual)
        val d = maxAbsDiff(golden, a)
        val worst = a.indices.maxByOrNull { abs(golden[it] - a[it]) } ?: 0
        assertTrue(
            d <= tol,
            "$what: max |diff| $d px > $tol px (keypoint ${worst / 2} ${"xy"[worst % 2]}: golden ${golden[worst]}, got ${a[worst]})"
        )
    }
}
