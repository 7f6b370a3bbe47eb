plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
}

android {
    namespace = "com.repose.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "com.repose.demo"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    // Models are memory-mapped straight from the APK: they must be stored uncompressed.
    androidResources {
        noCompress += "tflite"
    }
}

kotlin {
    jvmToolchain(17)
}

// Copies the exported models and their sidecars from the repo's models/ dir into the app's
// assets (assets/models/<stem>.tflite + <stem>.json). Runs before every build; a missing model
// only warns, and the app then says which file it could not find. A release commits the int8
// model; the float16 one is derived (python tools/ship_model.py --regenerate makes it).
val reposeModels =
    listOf("repose_lsp14_float16", "repose_lsp14_int8").flatMap { listOf("$it.tflite", "$it.json") }
val reposeModelsDir = rootProject.file(providers.gradleProperty("reposeModelsDir").getOrElse("../models"))

val copyReposeModels by tasks.registering(Copy::class) {
    group = "repose"
    description = "Copies the exported RePose models + sidecars from $reposeModelsDir into app assets."
    from(reposeModelsDir) { include(reposeModels) }
    into(layout.projectDirectory.dir("src/main/assets/models"))
    doLast {
        val missing = reposeModels.filterNot { File(reposeModelsDir, it).isFile }
        if (missing.isNotEmpty()) {
            logger.warn(
                "copyReposeModels: not found in $reposeModelsDir: ${missing.joinToString()} " +
                    "(the float16 one is derived: python tools/ship_model.py --regenerate)"
            )
        }
    }
}

tasks.named("preBuild") { dependsOn(copyReposeModels) }

dependencies {
    implementation(project(":core"))
    implementation(libs.gson) // the core's sidecar JSON reader (Json.kt)
    implementation(libs.androidx.core.ktx)
    implementation(libs.androidx.activity)
    implementation(libs.camera.core)
    implementation(libs.camera.camera2)
    implementation(libs.camera.lifecycle)
    implementation(libs.camera.view)
    implementation(libs.litert)
    implementation(libs.litert.gpu)
    implementation(libs.litert.gpu.api)
}
