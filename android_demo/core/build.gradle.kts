// Pure Kotlin/JVM: no Android dependencies, so the camera-frame-to-keypoints code is unit-tested
// on the JVM (here with Gradle, and in the Python repo's CI with plain kotlinc + JUnit).
plugins {
    alias(libs.plugins.kotlin.jvm)
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // The sidecar JSON (Json.kt): Gson, maintained and Android-ready; the Python repo's JVM tests
    // use Debian's libgoogle-gson-java jar of the same major version.
    implementation(libs.gson)
    testImplementation(libs.junit.jupiter)
    testRuntimeOnly(libs.junit.platform.launcher)
}

tasks.test {
    useJUnitPlatform()
    // Golden tests need fixtures from tools/make_android_fixtures.py; without them they are skipped:
    //   ./gradlew :core:test -PreposeFixtures=/abs/path/to/fixtures
    providers.gradleProperty("reposeFixtures").orNull?.let { systemProperty("repose.fixtures", it) }
}
