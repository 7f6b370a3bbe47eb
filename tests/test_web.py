"""The browser demo (``web_demo/``, served by ``python -m repose_tf.serve``) in a real Chromium (issue 13).

Chromium and chromedriver come from Debian (``apt-get install chromium chromium-driver``), the
LiteRT.js runtime from npm (``cd web_demo && npm ci``), selenium from PyPI (requirements-dev.txt);
``.ci/run`` installs all three. Without them these tests skip with the reason, unless
``REPOSE_REQUIRE_BROWSER_TOOLS=1`` (CI), where they fail.

The fake camera plays a Y4M clip built here from the real photo ``data/images/squat.bmp``: the
person centred, then sliding right, then held off-centre (partly outside the centre square).
The page exposes, through ``window.repose.capture()``, the exact RGBA frame it grabbed from the
video, its square window and the float input it fed the model. The Python side takes that frame
and runs the project's own pipeline on it (``repose_tf.data.prepare_image`` for the window,
``repose_tf.runtime`` for the model, ``repose_tf.codec.decode``): the keypoints must agree within
1 px at the model's input scale. The page's crop is OpenCV's warpAffine bit for bit
(``web_demo/src/warp.js``, checked against cv2 golden arrays in ``test_js_unit_tests``), so the model
inputs are identical, checked too: a grey level of difference moves argmaxes on the int8 model's
flat heatmaps.

Speed (issue 36): the server sends the cross-origin isolation headers (checked over real HTTP), so
the page runs LiteRT.js's threaded wasm build; without them it falls back to one thread and says
why; ``tools/benchmark_web.py`` (page against native LiteRT, and the README screenshot) runs here
on a couple of frames.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "web_demo"
MODELS = REPO / "models"
VARIANTS = ("float16", "int8")
REQUIRE_ENV = "REPOSE_REQUIRE_BROWSER_TOOLS"
FRAME_W, FRAME_H, FPS = 426, 240, 5
N_CENTRED, N_MOVING, N_HOLD = 10, 10, 40  # frames of the clip (5 fps: 2 s, 2 s, 8 s)


def _missing(what: str, fix: str) -> None:
    msg = f"{what} not found ({fix})"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(msg)
    pytest.skip(msg)


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module", autouse=True)
def _release_files(shipped_models):
    """The page serves models/'s float16 model too, which a fresh clone makes from the release."""


@pytest.fixture(scope="session")
def browser_tools() -> tuple[str, str]:
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium or not driver:
        _missing("chromium / chromedriver", "apt-get install chromium chromium-driver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        _missing("selenium", "pip install -r requirements-dev.txt")
    if not (WEB / "vendor/litertjs/wasm").is_dir():
        _missing("web_demo/vendor/litertjs (the LiteRT.js runtime)", "cd web_demo && npm ci")
    return chromium, driver


@pytest.fixture(scope="session")
def squat_rgb(data_dir: Path) -> np.ndarray:
    import cv2

    bgr = cv2.imread(str(data_dir / "images/squat.bmp"))
    assert bgr is not None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _person_sprite(squat_rgb: np.ndarray) -> np.ndarray:
    import cv2

    h, w = squat_rgb.shape[:2]
    return cv2.resize(squat_rgb, (round(w * FRAME_H / h), FRAME_H), interpolation=cv2.INTER_AREA)


def _frame(sprite: np.ndarray, x: int) -> np.ndarray:
    bg = sprite.reshape(-1, 3).mean(0).astype(np.uint8)
    f = np.empty((FRAME_H, FRAME_W, 3), np.uint8)
    f[:] = bg
    f[:, x : x + sprite.shape[1]] = sprite
    return f


@pytest.fixture(scope="session")
def clip(squat_rgb, tmp_path_factory) -> dict:
    """The fake camera's Y4M file, and the centred / off-centre frames (RGB) it holds."""
    import cv2

    sprite = _person_sprite(squat_rgb)
    x_centre, x_right = (FRAME_W - sprite.shape[1]) // 2, FRAME_W - sprite.shape[1]
    xs = [x_centre] * N_CENTRED + list(np.linspace(x_centre, x_right, N_MOVING).round().astype(int))
    xs += [x_right] * N_HOLD
    path = tmp_path_factory.mktemp("fake_camera") / "person.y4m"
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{FRAME_W} H{FRAME_H} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for x in xs:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(_frame(sprite, int(x)), cv2.COLOR_RGB2YUV_I420).tobytes())
    return {"path": path, "centred": _frame(sprite, x_centre), "right": _frame(sprite, x_right)}


@pytest.fixture(scope="session")
def predictors():
    from repose_tf.runtime import Predictor

    return {v: Predictor.load(MODELS / f"repose_lsp14_{v}.tflite", num_threads=1) for v in VARIANTS}


class Server:
    def __init__(self, models_dir: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "repose_tf.serve", "--port", "0", "--models", str(models_dir)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        deadline = time.time() + 30
        self.url = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if m := re.search(r"(http://127\.0\.0\.1:\d+/)", line):
                self.url = m.group(1)
                break
        if not self.url:
            self.stop()
            pytest.fail("repose_tf.serve printed no URL:\n" + "".join(lines))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="session")
def server(browser_tools):
    s = Server(MODELS)
    yield s.url
    s.stop()


ERROR_HOOK = """
window.__pageErrors = [];
window.addEventListener('error', e => window.__pageErrors.push('error: ' + (e.message || e)));
window.addEventListener('unhandledrejection', e => window.__pageErrors.push(
  'rejection: ' + (e.reason && e.reason.message || e.reason)));
"""


def _browser(browser_tools, video: Path | None = None, camera: str = "allow"):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = browser_tools
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1100,800",
        "--autoplay-policy=no-user-gesture-required",
        "--no-first-run",
        "--disable-extensions",
    ):
        opts.add_argument(a)
    if camera == "allow":
        opts.add_argument("--use-fake-ui-for-media-stream")
        opts.add_argument("--use-fake-device-for-media-stream")
        if video is not None:
            opts.add_argument(f"--use-file-for-fake-video-capture={video}")
    else:  # a camera exists, but the user (profile) blocks it
        opts.add_argument("--use-fake-device-for-media-stream")
        block = {"profile.default_content_setting_values.media_stream_camera": 2}
        opts.add_experimental_option("prefs", block)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=opts, service=Service(driver))
    d.set_script_timeout(60)
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ERROR_HOOK})
    return d


def _wait(driver, js: str, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = driver.execute_script(f"return {js}")
        if v:
            return v
        time.sleep(0.2)
    state = driver.execute_script(
        "return window.repose && {message: repose.state.message, ready: repose.state.ready, "
        "frames: repose.state.frames, errors: repose.state.errors}"
    )
    console = _console(driver)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; page state {state}; console {console}")


def _console(driver) -> list[dict]:
    try:
        return driver.get_log("browser")
    except Exception:  # noqa: BLE001 - a dead session has no log
        return []


def _assert_no_page_errors(driver, allow_404: bool = False):
    errors = driver.execute_script("return window.__pageErrors") or []
    assert not errors, f"uncaught page errors: {errors}"
    # LiteRT's wasm prints its own INFO / WARNING lines through console.error: not page errors.
    litert_log = re.compile(r'litert_wasm\w*\.js \d+:\d+ "(INFO|WARNING): ')
    severe = [e for e in _console(driver) if e.get("level") == "SEVERE"]
    severe = [e for e in severe if not litert_log.search(e["message"])]
    if allow_404:
        severe = [e for e in severe if "404" not in e.get("message", "")]
    assert not severe, f"console errors: {severe}"


def _capture(driver) -> dict:
    c = driver.execute_script("return window.repose.capture()")
    w, h, n = c["width"], c["height"], c["inputSize"]
    c["rgb"] = np.frombuffer(base64.b64decode(c.pop("rgba")), np.uint8).reshape(h, w, 4)[..., :3]
    c["pixels"] = np.frombuffer(base64.b64decode(c.pop("pixels")), "<f4").reshape(n, n, 3)
    c["input"] = np.asarray(c["input"], np.float32)
    c["source"] = np.asarray(c["source"], np.float64)
    c["score"] = np.asarray(c["score"], np.float32)
    return c


def _python_on_capture(c: dict, predictor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Python pipeline on the frame the page grabbed, with the page's window."""
    from repose_tf.data import prepare_image

    win, n = c["window"], c["inputSize"]
    centre = np.array([win["x0"] + (win["side"] - 1) / 2, win["y0"] + (win["side"] - 1) / 2])
    crop, _ = prepare_image(np.ascontiguousarray(c["rgb"]), n, centre, win["side"])
    kp, sc = predictor.predict(crop[None])
    return kp[0], sc[0], crop


def _check_agreement(c: dict, predictor) -> float:
    kp, sc, crop = _python_on_capture(c, predictor)
    # The page's model input is Python's crop of the same pixels, to the bit.
    n_diff = int((c["pixels"] != crop).sum())
    assert n_diff == 0, f"{n_diff} model-input values differ from prepare_image's crop"
    diff = float(np.abs(c["input"] - kp).max())
    assert diff <= 1.0, f"page keypoints differ from Python by {diff:.2f} px:\n{c['input']}\n{kp}"
    np.testing.assert_allclose(c["score"], sc, atol=0.02)
    # And on the page's exact input tensor the runtime decodes the same keypoints.
    kp_same, _ = predictor.predict(c["pixels"][None])
    return max(diff, float(np.abs(c["input"] - kp_same[0]).max()))


# --------------------------------------------------------------------------------------- tests


def test_serve_help_and_setup_errors(tmp_path):
    def serve(*args):
        return subprocess.run(
            [sys.executable, "-m", "repose_tf.serve", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )

    r = serve("--help")
    assert r.returncode == 0 and "npm ci" in r.stdout and "--port" in r.stdout and "127.0.0.1" in r.stdout
    r = serve("--models", str(tmp_path / "empty"), "--port", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "model missing" in lines[0] and "tools/ship_model.py" in lines[0], r.stderr
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html>")
    r = serve("--web", str(web), "--port", "0")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert "npm ci" in lines[0] and "node_modules" in lines[0], r.stderr


# (alpha, p01 - p00, p00) with a*d + p within a float32 ulp of k + 0.5 (found by search).
FMA_TIES = ((0.7385322, 109, 128), (0.6692307, -65, 110), (0.63861394, -101, 202), (0.9444445, -153, 168))


def _warp_golden(path: Path) -> int:
    """Golden crops from the installed cv2 for web_demo/test/warp.test.mjs; returns the case count.

    Synthetic noise images (any difference in sampling or rounding shows), the windows the page
    uses (upload letterbox, camera centre square, tracking windows off the frame, upsampling) with
    the affine and crop Python makes for them (``crop_affine`` / ``prepare_image``, as
    ``_python_on_capture`` and ``repose_tf.predict``), and general affines: rotation, scale, flip,
    translation mostly off the image, non-square and odd-width outputs.
    """
    import cv2

    from repose_tf.data import prepare_image
    from repose_tf.data.transforms import crop_affine, whole_image_box

    rng = np.random.default_rng(13)
    dims = {"upload": (610, 500), "odd": (200, 301), "camera": (FRAME_H, FRAME_W), "small": (37, 53)}
    images = {k: rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for k, (h, w) in dims.items()}
    b64 = lambda a: base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()  # noqa: E731
    cases = []

    def window(name, image, win, n=128):
        img = images[image]
        if win.get("whole"):  # the upload path: predict's prepare_image without a box
            h, w = img.shape[:2]
            side = max(h, w)
            win = {"x0": (w - side) / 2, "y0": (h - side) / 2, "side": side, "pad": True}
            m = crop_affine(*whole_image_box(h, w), n)
            crop, _ = prepare_image(img, n)
        else:
            centre = np.array([win["x0"] + (win["side"] - 1) / 2, win["y0"] + (win["side"] - 1) / 2])
            m = crop_affine(centre, win["side"], n)
            crop, _ = prepare_image(img, n, centre, win["side"])
        cases.append(
            {
                "name": name,
                "image": image,
                "window": win,
                "size": n,
                "matrix": m.ravel().tolist(),
                "expected": b64(crop.astype("<f4")),
            }
        )

    window("upload 500x610 letterbox", "upload", {"whole": True})
    window("upload 301x200 letterbox (half-pixel offset)", "odd", {"whole": True})
    centre_x0 = (FRAME_W - FRAME_H) // 2
    window("camera centre square", "camera", {"x0": centre_x0, "y0": 0, "side": FRAME_H, "pad": False})
    window(
        "tracking window past the right edge",
        "camera",
        {"x0": 231.37, "y0": -3.25, "side": 250.6, "pad": True},
    )
    window(
        "tracking window wider than the frame",
        "camera",
        {"x0": -2.0, "y0": -95.5, "side": 430.0, "pad": True},
    )
    window("upsampling a small image", "small", {"x0": 3.7, "y0": -1.2, "side": 41.3, "pad": True})

    def general(name, image, m, width, height):
        out = cv2.warpAffine(
            images[image],
            m,
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        cases.append(
            {
                "name": name,
                "image": image,
                "matrix": np.asarray(m, np.float64).ravel().tolist(),
                "width": width,
                "height": height,
                "expected": b64(out.astype("<f4")),
            }
        )

    general("rotation 30 deg, scale 1.3", "odd", crop_affine([150.2, 99.7], 180.0, 128, 1.3, 30.0), 128, 128)
    general(
        "rotation -75 deg, flipped",
        "upload",
        crop_affine([240.5, 330.25], 400.0, 64, 0.8, -75.0, True),
        64,
        64,
    )
    general(
        "training-style augment", "camera", crop_affine([300.0, 120.0], 200.0, 96, 1.17, 12.5, True), 96, 96
    )
    general(
        "translation mostly off the image", "small", np.array([[1.7, 0.3, 40.6], [-0.2, 2.1, -30.3]]), 64, 32
    )
    general("non-square, odd width", "odd", np.array([[0.61, -0.05, -3.3], [0.04, 0.66, 1.7]]), 77, 45)
    # Halfway points where fma(a, d, p) and round(round(a * d) + p) give different integers: the
    # kernel's fused multiply-adds, in x (alpha) and in y (beta).
    for i, (a, d, p) in enumerate(FMA_TIES):
        tie = np.zeros((2, 2, 3), np.uint8)
        tie[0, 0], tie[0, 1] = p, p + d
        images[f"tie{i}"], images[f"tie{i}t"] = tie, np.ascontiguousarray(tie.transpose(1, 0, 2))
        general(f"fma tie {i} in x", f"tie{i}", np.array([[1.0, 0.0, -a], [0.0, 1.0, 0.0]]), 32, 1)
        general(f"fma tie {i} in y", f"tie{i}t", np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -a]]), 1, 32)
    for i in range(6):
        m = np.concatenate(
            [rng.normal(size=(2, 2)) * rng.uniform(0.2, 3.0), rng.uniform(-150, 150, (2, 1))], 1
        )
        general(f"random affine {i}", "odd", m, 32 * int(rng.integers(1, 4)), int(rng.integers(8, 70)))
    imgs = {k: {"width": v.shape[1], "height": v.shape[0], "rgb": b64(v)} for k, v in images.items()}
    path.write_text(json.dumps({"opencv": cv2.__version__, "images": imgs, "cases": cases}))
    return len(cases)


def test_js_unit_tests(tmp_path):
    """web_demo/test/*.test.mjs (node --test): decoding, the crop (bit-exact against cv2 golden arrays
    written here), quantisation, tracking rules."""
    node = shutil.which("node")
    if not node:
        _missing("node", "apt-get install nodejs")
    golden = tmp_path / "warp_golden.json"
    n_cases = _warp_golden(golden)
    r = subprocess.run(
        [node, "--test", *sorted(str(p) for p in (WEB / "test").glob("*.test.mjs"))],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "REPOSE_WARP_GOLDEN": str(golden)},
    )
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-3000:]
    passed = int(re.search(r"# pass (\d+)", r.stdout).group(1))
    assert passed >= 10, r.stdout[-2000:]
    assert re.search(r"# skipped 0\b", r.stdout), r.stdout[-2000:]  # the golden comparison ran
    assert re.search(r"^ok \d+ - warpAffine .* bit for bit", r.stdout, re.M), r.stdout[-2000:]
    print(f"\npage crop == cv2.warpAffine on {n_cases} golden cases")


@pytest.mark.parametrize("variant", VARIANTS)
def test_camera_keypoints_match_python(browser_tools, server, clip, predictors, variant):
    d = _browser(browser_tools, clip["path"])
    try:
        d.get(f"{server}?model={variant}&tracking=off&backend=wasm")
        _wait(d, "window.repose && repose.state.frames >= 2", 90, "two camera frames")
        worst = 0.0
        for _ in range(2):
            c = _capture(d)
            assert c["mode"] == "camera" and c["variant"] == variant and not c["tracking"]
            assert c["window"] == {"x0": (FRAME_W - FRAME_H) // 2, "y0": 0, "side": FRAME_H, "pad": False}
            worst = max(worst, _check_agreement(c, predictors[variant]))
            time.sleep(0.5)
        ids = "['hud-backend', 'hud-model', 'hud-ms', 'hud-fps']"
        hud = d.execute_script(f"return {ids}.map(i => document.getElementById(i).textContent)")
        assert hud[0].startswith("wasm") and hud[1].startswith(variant) and hud[2].endswith("ms"), hud
        _assert_no_page_errors(d)
        print(f"\n{variant}: page vs Python max keypoint difference {worst:.3f} px (input scale)")
    finally:
        d.quit()


def _reference_keypoints(frame: np.ndarray, predictor, x_box: tuple[int, int]) -> np.ndarray:
    """The person's keypoints in a clip frame: Python on a crop around where the person was put."""
    from repose_tf.data import inverse_map, prepare_image

    x0, x1 = x_box
    centre = np.array([(x0 + x1 - 1) / 2, (FRAME_H - 1) / 2])
    crop, affine = prepare_image(frame, predictor.input_size, centre, float(max(x1 - x0, FRAME_H)))
    kp, _ = predictor.predict(crop[None])
    return inverse_map(kp[0], affine)


def test_tracking_crop_follows_offcentre_person(browser_tools, server, clip, predictors, squat_rgb, tmp_path):
    """With the tracking crop on, the off-centre frames are cropped around the person."""
    variant = "int8"
    width = _person_sprite(squat_rgb).shape[1]
    ref_right = _reference_keypoints(clip["right"], predictors[variant], (FRAME_W - width, FRAME_W))
    centre_sq = (FRAME_W - FRAME_H) // 2
    # The test is meaningful: the centre square cuts the off-centre person.
    assert ref_right[:, 0].max() > centre_sq + FRAME_H
    d = _browser(browser_tools, clip["path"])
    try:
        d.get(f"{server}?model={variant}&tracking=on&backend=wasm")
        _wait(d, "window.repose && repose.state.frames >= 1", 90, "the first camera frame")
        off_centre, worst, deadline = [], 0.0, time.time() + 100
        while len(off_centre) < 3 and time.time() < deadline:
            c = _capture(d)
            dist = {k: float(np.abs(c["rgb"].astype(int) - clip[k]).mean()) for k in ("centred", "right")}
            held = dist["right"] < 3 and c["tracking"] and c["window"]["pad"]  # off-centre, tracked
            if held and (not off_centre or c["frame"] != off_centre[-1]["frame"]):
                off_centre.append(c)
                worst = max(worst, _check_agreement(c, predictors[variant]))
            time.sleep(0.4)
        assert len(off_centre) >= 3, f"only {len(off_centre)} tracked off-centre frames captured"
        for c in off_centre[1:]:
            w = c["window"]
            x0, y0, side = w["x0"], w["y0"], w["side"]
            inside = (ref_right[:, 0] >= x0 - 0.5) & (ref_right[:, 0] <= x0 + side - 0.5)
            inside &= (ref_right[:, 1] >= y0 - 0.5) & (ref_right[:, 1] <= y0 + side - 0.5)
            assert inside.all(), f"crop {w} misses keypoints {ref_right[~inside]}"
            # The whole person (the sprite's columns, known from the clip) stays in view, which the
            # centre square does not give. Where the box sits inside the frame depends on which of
            # the model's keypoints pass the score threshold (a model with stray confident points
            # widens it), so it is not asserted beyond that.
            assert x0 <= FRAME_W - width + 0.5 and x0 + side >= FRAME_W - 0.5, f"crop {w} cuts the person"
            assert (round(x0), round(side)) != (centre_sq, FRAME_H), f"crop {w} is still the centre square"
        shot = tmp_path / "web_demo_tracking.png"
        d.save_screenshot(str(shot))
        out = os.environ.get("REPOSE_WEB_SCREENSHOT_DIR")
        if out:
            Path(out).mkdir(parents=True, exist_ok=True)
            shutil.copy2(shot, Path(out) / shot.name)
        assert shot.stat().st_size > 10_000
        _assert_no_page_errors(d)
        windows = [c["window"] for c in off_centre]
        print(
            f"\ntracking: {len(off_centre)} off-centre frames, windows {windows}, max diff {worst:.3f} px",
            shot,
        )
    finally:
        d.quit()


@pytest.fixture(scope="session")
def predict_cli(data_dir, tmp_path_factory) -> dict:
    """``python -m repose_tf.predict`` on squat.bmp with each TFLite file."""
    out = {}
    for v in VARIANTS:
        od = tmp_path_factory.mktemp(f"predict_{v}")
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "repose_tf.predict",
                "--model",
                str(MODELS / f"repose_lsp14_{v}.tflite"),
                "--input",
                str(data_dir / "images/squat.bmp"),
                "--output_dir",
                str(od),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        assert r.returncode == 0, r.stderr[-3000:]
        out[v] = json.loads((od / "keypoints.json").read_text())
    return out


def test_image_upload_matches_predict(browser_tools, server, data_dir, squat_rgb, predict_cli, predictors):
    """The page's keypoints for an uploaded photo equal ``repose_tf.predict``'s within 1 px (input
    scale), for the float16 and the int8 file. The page decodes the same RGB as OpenCV and crops it
    bit for bit as ``prepare_image``: this early checkpoint's int8 heatmaps are flat (peaks
    0.05-0.14, quantised to a few levels, many ties), so one grey level would move argmaxes."""
    from repose_tf.data import prepare_image

    d = _browser(browser_tools, camera="allow")
    try:
        for v in VARIANTS:
            d.get(f"{server}?model={v}&camera=off&backend=wasm")
            _wait(d, "window.repose && repose.state.ready", 60, f"the {v} model")
            d.find_element("id", "file-input").send_keys(str(data_dir / "images/squat.bmp"))
            last_is_image = "repose.state.records.length && repose.state.records.at(-1).mode === 'image'"
            _wait(d, last_is_image, 60, "the image")
            c = _capture(d)
            assert c["window"]["pad"] and c["window"]["side"] == 610  # the whole photo, padded to a square
            assert np.array_equal(c["rgb"], squat_rgb), "the page decoded other pixels than OpenCV"
            crop, _ = prepare_image(squat_rgb, c["inputSize"])
            assert np.array_equal(c["pixels"], crop), "the page's model input differs from predict's crop"
            (pred,) = predict_cli[v]["predictions"]
            names = d.execute_script("return repose.state.sidecar.keypoint_names")
            py = np.array([[pred["keypoints"][n]["x"], pred["keypoints"][n]["y"]] for n in names], np.float64)
            diff = float(np.abs(c["source"] - py).max()) / (c["window"]["side"] / c["inputSize"])
            kp_same, _ = predictors[v].predict(c["pixels"][None])
            assert float(np.abs(c["input"] - kp_same[0]).max()) <= 1.0
            print(f"\n{v}: image upload vs repose_tf.predict max difference {diff:.3f} px (input scale)")
            assert diff <= 1.0, f"{v}: page vs predict differ by {diff:.2f} px at input scale"
        _assert_no_page_errors(d)
    finally:
        d.quit()


def test_camera_denied_shows_message(browser_tools, server):
    d = _browser(browser_tools, camera="deny")
    try:
        d.get(f"{server}?backend=wasm")
        kind = _wait(d, "window.repose && repose.state.messageKind", 60, "a message")
        assert kind == "camera-denied"
        text = d.find_element("id", "message").text
        assert "permission denied" in text and "image file" in text
        assert d.find_element("id", "file-input").is_enabled()
        _assert_no_page_errors(d)
    finally:
        d.quit()


def test_model_missing_shows_message(browser_tools, clip, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    for ext in ("tflite", "json"):
        shutil.copy2(MODELS / f"repose_lsp14_float16.{ext}", models)
    s = Server(models)
    d = _browser(browser_tools, clip["path"])
    try:
        d.get(f"{s.url}?model=int8&backend=wasm")
        kind = _wait(d, "window.repose && repose.state.messageKind", 60, "a message")
        assert kind == "model-missing"
        text = d.find_element("id", "message").text
        assert "Model missing" in text and "repose_lsp14_int8.json" in text and "ship_model.py" in text
        assert not d.execute_script("return repose.state.ready")
        _assert_no_page_errors(d, allow_404=True)
    finally:
        d.quit()
        s.stop()


# ------------------------------------------------------------------------- speed (issue 36)


def test_serve_sends_cross_origin_isolation_headers():
    """Every response of ``repose_tf.serve`` (page, runtime, model) carries COOP + COEP, which is
    what makes the page cross-origin isolated and so lets LiteRT.js run its threaded wasm build."""
    import urllib.request

    if not (WEB / "vendor/litertjs/wasm").is_dir():
        _missing("web_demo/vendor/litertjs (the LiteRT.js runtime)", "cd web_demo && npm ci")
    s = Server(MODELS)
    try:
        paths = (
            "",
            "src/app.js",
            "vendor/litertjs/wasm/litert_wasm_threaded_internal.js",
            "vendor/litertjs/wasm/litert_wasm_threaded_internal.wasm",
            "models/repose_lsp14_int8.json",
        )
        for path in paths:
            with urllib.request.urlopen(s.url + path, timeout=30) as r:
                assert r.status == 200, path
                h = r.headers
                assert h["Cross-Origin-Opener-Policy"] == "same-origin", (path, dict(h))
                assert h["Cross-Origin-Embedder-Policy"] == "require-corp", (path, dict(h))
                assert h["Cross-Origin-Resource-Policy"] == "same-origin", (path, dict(h))
                if path.endswith(".wasm"):
                    assert h["Content-Type"] == "application/wasm"
    finally:
        s.stop()


def test_benchmark_web_harness_and_screenshot(browser_tools, data_dir, tmp_path):
    """``tools/benchmark_web.py`` (``repose_tf.web_benchmark.main``) on the shipped int8 model for a
    couple of frames, threads off and on: the page is isolated and runs the threaded build where
    the machine has cores for it, page and native LiteRT agree on the keypoints of the same input,
    the table lands in its own section of the doc, and the screenshot option writes a picture.
    (The page serves models/repose_lsp14_{variant} only, so the harness runs the shipped file.)"""
    from repose_tf import web_benchmark

    chromium, driver = browser_tools
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\nintro kept\n\n<!-- web-benchmark:start -->\nold table\n"
        "<!-- web-benchmark:end -->\n\ntrailer kept\n"
    )
    out_json, shot = tmp_path / "web.json", tmp_path / "shot.png"
    argv = ["--variants", "int8", "--threads", "off,auto", "--frames", "1", "--rounds", "2", "--warmup", "1"]
    argv += ["--doc", str(doc), "--json", str(out_json), "--screenshot", str(shot)]
    argv += ["--image", str(data_dir / "images/squat.bmp"), "--chromium", chromium, "--chromedriver", driver]
    t0 = time.time()
    assert web_benchmark.main(argv) == 0
    print(f"\nharness: {time.time() - t0:.1f} s")
    rows = {r["threads_mode"]: r for r in json.loads(out_json.read_text())["rows"]}
    cores = os.cpu_count() or 1
    assert rows["off"]["threads"] == 1 and "threaded" not in rows["off"]["runtime"]
    if cores > 1:
        on = rows["auto"]
        assert on["threads"] == min(cores, 4) and on["runtime"].endswith("threaded"), on
        assert not on["note"], on["note"]
    for r in rows.values():
        assert len(r["page_times"]["inference"]) == 2 and len(r["native_times"]) == 2
        assert 0 < r["page_inference_ms"] <= r["page_frame_ms"] and r["native_ms"] > 0 and r["page_fps"] > 0
        assert r["keypoint_diff_px"] <= 1.0, r
    text = doc.read_text()
    assert "intro kept" in text and "trailer kept" in text and "old table" not in text
    section = text.split("<!-- web-benchmark:start -->")[1].split("<!-- web-benchmark:end -->")[0]
    assert "python tools/benchmark_web.py --variants int8" in section and "CPU: " in section
    assert "| int8 | off (1) |" in section and "| page / native |" in section
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_page_without_isolation_runs_one_thread(browser_tools, data_dir):
    """Served by a static server that sends no COOP/COEP (not ``repose_tf.serve``), the page is not
    cross-origin isolated: it falls back to LiteRT.js's single-threaded build, says why in the HUD
    and still runs the model."""
    import functools
    import http.server
    import threading

    from repose_tf import serve, web_benchmark

    class PlainHandler(serve.DemoHandler):
        def end_headers(self):
            http.server.SimpleHTTPRequestHandler.end_headers(self)  # no isolation headers

    handler = functools.partial(PlainHandler, web_dir=serve.WEB_DIR, models_dir=MODELS)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    d = _browser(browser_tools, camera="allow")
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        web_benchmark.open_page(d, url, "int8", "auto", data_dir / "images/squat.bmp")
        assert d.execute_script("return crossOriginIsolated") is False
        rt = d.execute_script("return repose.state.runtime")
        assert rt["threads"] == 1 and not rt["threaded"], rt
        if d.execute_script("return navigator.hardwareConcurrency") > 1:  # auto asked for more
            assert rt["why"] == "page not cross-origin isolated", rt
            assert "not cross-origin isolated" in d.find_element("id", "hud-threads").text
        rec = d.execute_script("return repose.state.records.at(-1)")
        assert rec["mode"] == "image" and rec["ms"] > 0 and rec["threads"] == 1
        _assert_no_page_errors(d)
    finally:
        d.quit()
        httpd.shutdown()
        httpd.server_close()
