"""The browser demo against native LiteRT: the real page in headless Chromium, timed frame by frame.

    python tools/benchmark_web.py                       # both shipped models, threads off and on
    python tools/benchmark_web.py --variants int8 --threads off --frames 5 --no_write
    python tools/benchmark_web.py --screenshot docs/img/web_demo.png --screenshot_only

For each model variant (the page's float16 / int8 switch: ``models/repose_lsp14_{variant}``) and
each thread setting of the page (``?threads=off``: LiteRT.js's single-threaded wasm build;
``auto``: the threaded build, as many threads as the page picks), the harness

1. serves ``web_demo/`` and the models with :mod:`repose_tf.serve` (in this process, with its
   cross-origin isolation headers), opens the page in headless Chromium (selenium +
   chromedriver, as ``tests/test_web.py``) with the camera off, and uploads a real photo;
2. runs the page's live loop on that photo (``window.repose.benchmark``: grab the frame, crop,
   model, decode, tracker, overlay, paint) and keeps the page's own per-frame times: inference
   (input tensor in, run, output tensor out) and ms/frame (grab + crop + inference + decode), and
   the loop's frames per second;
3. runs the same ``.tflite`` file in native LiteRT (``ai_edge_litert`` Interpreter, XNNPACK, the
   thread count the page used) on the exact input tensor the page fed its model, timing
   ``set_tensor`` + ``invoke`` + ``get_tensor`` (what the page's inference time covers), and
   checks the two agree on the keypoints.

After ``--warmup`` frames on each side, page and native take ``--rounds`` turns of ``--frames``
each, so that both see the same conditions on a machine where other work comes and goes; the
table also says how much of the CPU other processes took during each row.

The table (medians; the CPU named by :mod:`repose_tf.cpu`) is printed and, unless ``--no_write``,
written into ``--doc`` between the ``web-benchmark`` markers. ``--screenshot`` also saves a picture
of the page running ``--screenshot_variant`` on the photo (the README's ``docs/img/web_demo.png``).
Figures from a machine running other work are not the page's speed: pause that work first.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from repose_tf import serve
from repose_tf.cli import refuse
from repose_tf.cpu import busy_cpu_seconds

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- web-benchmark:start -->", "<!-- web-benchmark:end -->"
HEADING = "## Browser demo (LiteRT.js) against native LiteRT"
VARIANTS = ("int8", "float16")
THREAD_MODES = ("off", "auto")
DEFAULT_IMAGE = REPO.parent / "shared" / "data" / "images" / "squat.bmp"
#: The viewport of the screenshot (the page lays the photo and the HUD side by side at this width).
SCREENSHOT_WIDTH = 800
BUSY_SHARE = 0.10  # other processes' share of the CPU above which a row is marked busy


class WebBenchmarkError(RuntimeError):
    """A set-up problem (browser, runtime, model or image missing; the page failed): one line."""


@dataclass
class Row:
    """One (variant, thread setting) measurement: the page's and native LiteRT's, in ms."""

    variant: str
    threads_mode: str
    threads: int = 0
    runtime: str = ""  # the page's wasm build, e.g. "relaxed SIMD, threaded"
    note: str = ""  # why the page runs fewer threads than asked, if it does
    page_inference_ms: float = float("nan")
    page_frame_ms: float = float("nan")
    page_fps: float = float("nan")
    page_crop_ms: float = float("nan")
    page_decode_ms: float = float("nan")
    page_grab_ms: float = float("nan")
    native_ms: float = float("nan")
    native_invoke_ms: float = float("nan")
    keypoint_diff_px: float = float("nan")
    frames: int = 0
    others_cpu: float | None = None  # share of all cores other processes used meanwhile
    page_times: dict = field(default_factory=dict)
    native_times: list = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.page_inference_ms / self.native_ms


# ------------------------------------------------------------------------------------- set-up


def find_browser(chromium: str | None = None, chromedriver: str | None = None) -> tuple[str, str]:
    """Chromium and chromedriver: the arguments, else $CHROMIUM / $CHROMEDRIVER, else the PATH."""
    chromium = chromium or os.environ.get("CHROMIUM") or shutil.which("chromium")
    chromium = chromium or shutil.which("chromium-browser")
    chromedriver = chromedriver or os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium or not chromedriver:
        raise WebBenchmarkError("chromium / chromedriver missing (apt-get install chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        raise WebBenchmarkError("selenium not found (pip install -r requirements-dev.txt)") from None
    return chromium, chromedriver


@contextlib.contextmanager
def demo_server(models_dir: Path, web_dir: Path = serve.WEB_DIR):
    """``repose_tf.serve`` on a free port in a background thread; yields the page's URL."""
    try:
        serve.check_web_dir(web_dir)
        serve.check_models(models_dir)
    except serve.ServeError as e:
        raise WebBenchmarkError(str(e)) from None
    server = serve.make_server("127.0.0.1", 0, web_dir, models_dir)
    thread = threading.Thread(target=server.serve_forever, name="web-benchmark-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def open_browser(chromium: str, chromedriver: str, width: int = 1100, height: int = 800):
    """Headless Chromium under selenium, as the browser tests start it (no camera needed)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
    ):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(chromedriver))
    driver.set_script_timeout(600)
    return driver


def browser_version(chromium: str) -> str:
    try:
        out = subprocess.run([chromium, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "Chromium (version unknown)"
    return out.strip() or "Chromium (version unknown)"


def litertjs_version(web_dir: Path = serve.WEB_DIR) -> str:
    p = web_dir / "vendor" / "litertjs" / "VERSION"
    return p.read_text().strip() if p.is_file() else "@litertjs/core (version unknown)"


# --------------------------------------------------------------------------------------- page


def _wait(driver, js: str, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = driver.execute_script(f"return {js}")
        if v:
            return v
        time.sleep(0.1)
    state = driver.execute_script(
        "return window.repose && {message: repose.state.message, ready: repose.state.ready, "
        "errors: repose.state.errors}"
    )
    raise WebBenchmarkError(f"timed out after {timeout:.0f} s waiting for {what}; page state {state}")


def open_page(driver, url: str, variant: str, threads: str, image: Path, tracking: bool = False) -> dict:
    """The page with ``variant`` loaded (wasm), ``image`` uploaded and analysed; returns the page state."""
    track = "on" if tracking else "off"
    driver.get(f"{url}?model={variant}&camera=off&backend=wasm&threads={threads}&tracking={track}")
    loaded = "window.repose && (repose.state.ready || repose.state.messageKind)"
    _wait(driver, loaded, 120, f"the {variant} model")
    state = driver.execute_script("return repose.state")
    if not state["ready"]:
        raise WebBenchmarkError(f"the page did not load the {variant} model: {state['message']}")
    driver.find_element("id", "file-input").send_keys(str(Path(image).resolve()))
    last_is_image = "repose.state.records.length && repose.state.records.at(-1).mode === 'image'"
    _wait(driver, f"({last_is_image}) || repose.state.messageKind === 'error'", 120, "the uploaded image")
    state = driver.execute_script("return repose.state")
    if state["messageKind"] == "error":
        raise WebBenchmarkError(f"the page could not analyse {image}: {state['message']}")
    return state


def page_benchmark(driver, frames: int, warmup: int, tracking: bool = False) -> dict:
    """``repose.benchmark`` on the uploaded image: the live loop's per-frame times (see app.js)."""
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "repose.benchmark({frames: arguments[0], warmup: arguments[1], tracking: arguments[2]})"
        ".then(done, (e) => done({error: String(e && e.message || e)}));",
        frames,
        warmup,
        tracking,
    )
    if "error" in result:
        raise WebBenchmarkError(f"the page's benchmark failed: {result['error']}")
    return result


def page_capture(driver) -> dict:
    """The last frame's model input (n x n x 3 float32) and decoded keypoints (input pixels)."""
    c = driver.execute_script("return repose.capture()")
    n = c["inputSize"]
    pixels = np.frombuffer(base64.b64decode(c["pixels"]), "<f4").reshape(n, n, 3)
    return {"pixels": pixels, "input": np.asarray(c["input"], np.float32)}


# ------------------------------------------------------------------------------- CPU sharing


def tree_cpu_seconds(root: int | None = None) -> float:
    """CPU seconds of a process and all its descendants (here: the harness, chromedriver, Chromium)."""
    stats = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            rest = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # after "pid (comm)": state ppid ... utime (14th field overall) stime (15th)
        stats[int(d.name)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    todo, total = [root or os.getpid()], 0
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0))[1]
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


class OthersMeter:
    """The share of all cores that processes outside this one's tree used between start() and stop()."""

    def start(self) -> None:
        self.busy, self.own, self.wall = busy_cpu_seconds(), tree_cpu_seconds(), time.perf_counter()

    def stop(self) -> float | None:
        busy, own, wall = busy_cpu_seconds(), tree_cpu_seconds(), time.perf_counter()
        if busy is None or self.busy is None:
            return None
        return max(0.0, (busy - self.busy) - (own - self.own)) / ((wall - self.wall) * (os.cpu_count() or 1))


# ------------------------------------------------------------------------------------- native


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    """The page's rule (pose.js toInputTensor): floor(v / s + 0.5) + zp, clipped."""
    if detail["dtype"] == np.float32:
        return x.astype(np.float32)
    scale, zp = detail["quantization"]
    info = np.iinfo(detail["dtype"])
    return np.clip(np.floor(x / scale + 0.5) + zp, info.min, info.max).astype(detail["dtype"])


def _dequantize(y: np.ndarray, detail: dict) -> np.ndarray:
    if detail["dtype"] == np.float32:
        return y
    scale, zp = detail["quantization"]
    return (y.astype(np.float32) - zp) * scale


class NativeRunner:
    """Native LiteRT (XNNPACK) on one ``.tflite`` and one input, timed per run."""

    def __init__(self, model: Path, threads: int, pixels: np.ndarray):
        from ai_edge_litert.interpreter import Interpreter

        self.it = Interpreter(model_path=str(model), num_threads=threads)
        self.it.allocate_tensors()
        self.inp = self.it.get_input_details()[0]
        outs = self.it.get_output_details()
        out = next((o for o in outs if len(o["shape"]) == 4 and "heatmap" in o["name"]), None)
        self.out = out or max(outs, key=lambda o: int(np.prod(o["shape"])))
        self.x = _quantize(pixels.reshape(self.inp["shape"]), self.inp)
        self.size = pixels.shape[0]
        self.y = None

    def run(self, n: int) -> tuple[list[float], list[float]]:
        """n runs: ms of set_tensor + invoke + get_tensor (what the page's inference covers), of invoke."""
        total, invoke = [], []
        for _ in range(n):
            t0 = time.perf_counter()
            self.it.set_tensor(self.inp["index"], self.x)
            t1 = time.perf_counter()
            self.it.invoke()
            t2 = time.perf_counter()
            self.y = self.it.get_tensor(self.out["index"])
            t3 = time.perf_counter()
            total.append(1e3 * (t3 - t0))
            invoke.append(1e3 * (t2 - t1))
        return total, invoke

    def keypoints(self) -> np.ndarray:
        """The last run's decoded keypoints (model-input pixels), as the page decodes them."""
        from repose_tf import codec

        kp, _ = codec.decode(_dequantize(self.y, self.out)[0])
        stride = self.size // self.y.shape[1]
        return kp if stride == 1 else (kp + 0.5) * stride - 0.5


# ------------------------------------------------------------------------------------ the run


def model_file(models_dir: Path, variant: str) -> Path:
    """The .tflite the page loads for ``variant``: its sidecar's ``model_file``, as app.js reads it."""
    stem = next(s for s in serve.MODEL_STEMS if s.endswith(f"_{variant}"))
    sidecar = Path(models_dir) / f"{stem}.json"
    try:
        return Path(models_dir) / json.loads(sidecar.read_text())["model_file"]
    except (OSError, ValueError, KeyError) as e:
        raise WebBenchmarkError(f"{sidecar}: cannot read the model's sidecar ({e})") from None


def measure(
    driver,
    url: str,
    models_dir: Path,
    variant: str,
    threads_mode: str,
    image: Path,
    frames: int,
    warmup: int,
    rounds: int = 4,
) -> Row:
    """One row: the page and native LiteRT (the page's thread count, the page's input) in turns.

    ``rounds`` turns of ``frames`` page frames then ``frames`` native runs, after ``warmup`` of
    each: on a machine where other work comes and goes, both sides see the same conditions.
    """
    row = Row(variant=variant, threads_mode=threads_mode, frames=frames * rounds)
    open_page(driver, url, variant, threads_mode, image)
    meter = OthersMeter()  # from here to the end of the row the page's renderer stays the same process
    meter.start()
    times = {k: [] for k in ("inference", "frame", "crop", "decode", "grab")}
    native, native_invoke, page_wall, native_runner, cap = [], [], 0.0, None, None
    for r in range(rounds):
        page = page_benchmark(driver, frames, warmup if r == 0 else 0)
        for k in times:
            times[k] += page["times"][k]
        page_wall += page["wallMs"]
        if native_runner is None:
            rt = page["runtime"]
            row.threads, row.runtime, row.note = int(rt["threads"]), rt["build"], rt.get("why", "")
            cap = page_capture(driver)
            native_runner = NativeRunner(model_file(models_dir, variant), row.threads, cap["pixels"])
            native_runner.run(warmup)
        total, invoke = native_runner.run(frames)
        native += total
        native_invoke += invoke
    row.others_cpu = meter.stop()
    med = lambda v: float(np.median(v))  # noqa: E731
    row.page_inference_ms, row.page_frame_ms = med(times["inference"]), med(times["frame"])
    row.page_crop_ms, row.page_decode_ms = med(times["crop"]), med(times["decode"])
    row.page_grab_ms = med(times["grab"])
    row.page_fps = 1e3 * len(times["frame"]) / page_wall
    row.page_times = {k: [round(x, 2) for x in v] for k, v in times.items()}
    row.native_ms, row.native_invoke_ms = med(native), med(native_invoke)
    row.native_times = [round(x, 2) for x in native]
    row.keypoint_diff_px = float(np.abs(native_runner.keypoints() - cap["input"]).max())
    return row


def run(
    models_dir: Path = serve.MODELS_DIR,
    variants=VARIANTS,
    thread_modes=THREAD_MODES,
    image: Path = DEFAULT_IMAGE,
    frames: int = 5,
    warmup: int = 3,
    rounds: int = 4,
    chromium: str | None = None,
    chromedriver: str | None = None,
    log=print,
) -> tuple[list[Row], dict]:
    """Every (variant, thread setting) row, and the conditions (CPU, versions, load) of the run."""
    from repose_tf.cpu import cpu_info

    image = Path(image)
    if not image.is_file():
        raise WebBenchmarkError(f"image not found: {image} (the real photo lives in ../shared/data/images)")
    chromium, chromedriver = find_browser(chromium, chromedriver)
    models_dir = Path(models_dir).resolve()
    conditions = {
        "cpu": cpu_info().describe(),
        "browser": browser_version(chromium),
        "litertjs": litertjs_version(),
        "native": _native_version(),
        "load_before": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d"),
        "image": _shown_path(image),
        "frames": frames,
        "warmup": warmup,
        "rounds": rounds,
    }
    rows = []
    with demo_server(models_dir) as url:
        driver = open_browser(chromium, chromedriver)
        try:
            for variant in variants:
                for mode in thread_modes:
                    log(f"{variant}, threads={mode} ...", end=" ", flush=True)
                    row = measure(driver, url, models_dir, variant, mode, image, frames, warmup, rounds)
                    rows.append(row)
                    log(
                        f"{row.threads} thread(s): page {row.page_inference_ms:.1f} ms "
                        f"(frame {row.page_frame_ms:.1f} ms, {row.page_fps:.2f} FPS), "
                        f"native {row.native_ms:.1f} ms, ratio {row.ratio:.2f}",
                        flush=True,
                    )
        finally:
            driver.quit()
    conditions["load_after"] = os.getloadavg()
    return rows, conditions


def _native_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"ai-edge-litert {version('ai-edge-litert')}"
    except PackageNotFoundError:
        return "ai-edge-litert (version unknown)"


def _shown_path(p: Path) -> str:
    p = Path(p).resolve()
    for base, shown in ((REPO, ""), (REPO.parent, "../")):
        with contextlib.suppress(ValueError):
            return shown + str(p.relative_to(base))
    return str(p)


# ---------------------------------------------------------------------------------- reporting


def table(rows: list[Row], conditions: dict) -> str:
    load = lambda v: ", ".join(f"{x:.2f}" for x in v)  # noqa: E731
    lines = [
        f"CPU: {conditions['cpu']}",
        "",
        f"{conditions['browser']} (headless), {conditions['litertjs']} (wasm, XNNPACK); native: "
        f"{conditions['native']} (XNNPACK). Input: {conditions['image']}, the page's live loop on it "
        f"(camera=off). Per row {conditions['warmup']} warm-up frame(s), then {conditions.get('rounds', 1)} "
        f"turn(s) of {conditions['frames']} page frame(s) and {conditions['frames']} native run(s); medians. "
        f"Load average before / after: {load(conditions['load_before'])} / {load(conditions['load_after'])}.",
        "",
        "| model | page threads | page wasm build | page inference ms | page ms/frame | page FPS "
        "| native ms | native FPS | page / native | keypoints Δ px | others' CPU |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        mode = f"{r.threads_mode} ({r.threads})"
        if r.note:
            mode += " *"
        others = "-" if r.others_cpu is None else f"{100 * r.others_cpu:.0f}%"
        if r.others_cpu is not None and r.others_cpu > BUSY_SHARE:
            others += " (busy)"
        lines.append(
            f"| {r.variant} | {mode} | {r.runtime} | {r.page_inference_ms:.1f} | {r.page_frame_ms:.1f} | "
            f"{r.page_fps:.2f} | {r.native_ms:.1f} | {1e3 / r.native_ms:.2f} | {r.ratio:.2f}x | "
            f"{r.keypoint_diff_px:.2f} | {others} |"
        )
    notes = sorted({r.note for r in rows if r.note})
    lines += [f"\n\\* the page ran 1 thread: {n}" for n in notes]
    lines += [
        "",
        "page inference: the page's input tensor in + `run` + output tensor out, per frame; page ms/frame: "
        "grab (drawImage + getImageData) + crop (warpAffine in JS) + inference + decode; page FPS: the "
        "live loop's rate, the paint between frames included. native: `ai_edge_litert` Interpreter on the "
        "same `.tflite` with the page's thread count, `set_tensor` + `invoke` + `get_tensor` on the exact "
        "input tensor the page fed its model; the two take turns. page / native: the inference ratio. "
        "keypoints Δ: the largest difference between the page's and native's decoded keypoints on that input "
        "(model-input pixels). others' CPU: the share of all cores that processes other than the "
        f"harness and its browser used during the row (/proc/stat); above {100 * BUSY_SHARE:.0f}% the "
        "row is marked (busy): the machine was shared, rerun it on a quiet one.",
    ]
    return "\n".join(lines)


def write_doc(doc: Path, text: str, command: str, date: str) -> None:
    from repose_tf.cli import write_marked_section

    write_marked_section(Path(doc), START, END, f"`{command}` ({date})\n\n{text}", heading=HEADING)


def save_json(path: Path, rows: list[Row], conditions: dict) -> None:
    Path(path).write_text(
        json.dumps(
            {"conditions": conditions, "rows": [{**asdict(r), "ratio": r.ratio} for r in rows]}, indent=1
        )
    )


# --------------------------------------------------------------------------------- screenshot


def screenshot(
    path: Path,
    models_dir: Path = serve.MODELS_DIR,
    variant: str = "int8",
    image: Path = DEFAULT_IMAGE,
    frames: int = 6,
    chromium: str | None = None,
    chromedriver: str | None = None,
) -> dict:
    """A PNG of the page running ``variant`` live on ``image`` (tracking crop on, default threads).

    The photo stands in for a camera frame: the page's live loop runs ``frames`` frames on it (so
    the tracking crop locks on and the HUD shows ms/frame and FPS), then the page is captured,
    clipped to its content. Returns the last frame's record.
    """
    image = Path(image)
    if not image.is_file():
        raise WebBenchmarkError(f"image not found: {image} (the real photo lives in ../shared/data/images)")
    chromium, chromedriver = find_browser(chromium, chromedriver)
    with demo_server(Path(models_dir).resolve()) as url:
        driver = open_browser(chromium, chromedriver, SCREENSHOT_WIDTH, 1000)
        try:
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": SCREENSHOT_WIDTH, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
            )
            open_page(driver, url, variant, "auto", image, tracking=True)
            page_benchmark(driver, frames, 2, tracking=True)
            rec = driver.execute_script("return repose.state.records.at(-1)")
            box = driver.execute_script(
                "const r = document.querySelector('main').getBoundingClientRect();"
                "return {width: Math.ceil(r.right), height: Math.ceil(r.bottom)};"
            )
            clip = {"x": 0, "y": 0, "width": box["width"], "height": box["height"], "scale": 1}
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": clip})
        finally:
            driver.quit()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return rec


# ---------------------------------------------------------------------------------------- CLI


def parse_list(text: str, allowed=None) -> list[str]:
    import argparse

    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [i for i in items if allowed is not None and i not in allowed]
    if not items or bad:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a comma-separated list" + (f" of {', '.join(allowed)}" if allowed else "")
        )
    return items


def main(argv=None, prog: str = "benchmark_web.py") -> int:
    import argparse

    from repose_tf.cli import HelpFormatter, invocation

    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=HelpFormatter)
    p.add_argument(
        "--variants",
        type=functools.partial(parse_list, allowed=VARIANTS),
        default=",".join(VARIANTS),
        help="Model variants, comma-separated: models/repose_lsp14_{variant}.tflite (int8, float16).",
    )
    p.add_argument(
        "--threads",
        type=functools.partial(parse_list),
        default=",".join(THREAD_MODES),
        help="The page's thread settings, comma-separated: off (single-threaded wasm build), auto "
        "(threaded build, the page's default count) or a number.",
    )
    p.add_argument("--frames", type=int, default=5, help="Timed frames per turn (page, then native).")
    p.add_argument("--rounds", type=int, default=4, help="Turns per row: page and native alternate.")
    p.add_argument("--warmup", type=int, default=3, help="Untimed frames first, per row and side.")
    p.add_argument("--models", type=Path, default=serve.MODELS_DIR, help="The model directory to serve.")
    p.add_argument("--image", type=Path, default=DEFAULT_IMAGE, help="The photo the page runs on.")
    p.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md",
                   help=f"Markdown file whose {START} section gets the table.")  # fmt: skip
    p.add_argument("--no_write", action="store_true", help="Print the table only; leave --doc alone.")
    p.add_argument("--json", type=Path, default=None, help="Also write every row and per-frame time here.")
    p.add_argument("--screenshot", type=Path, default=None,
                   help="Also write a PNG of the page running --screenshot_variant live on --image "
                   "(the README's picture: docs/img/web_demo.png).")  # fmt: skip
    p.add_argument("--screenshot_variant", choices=VARIANTS, default="int8", help="The screenshot's model.")
    p.add_argument("--screenshot_only", action="store_true", help="Write --screenshot and measure nothing.")
    p.add_argument("--chromium", default=None, help="Chromium binary (default: $CHROMIUM, else the PATH).")
    p.add_argument("--chromedriver", default=None, help="chromedriver (default: $CHROMEDRIVER, else PATH).")
    args = p.parse_args(argv)
    for t in args.threads:
        if t not in THREAD_MODES and not (t.isdigit() and int(t) >= 1):
            p.error(f"--threads: {t!r} is not off, auto or a thread count")
    if args.frames < 1 or args.rounds < 1 or args.warmup < 0:
        p.error("--frames and --rounds must be >= 1, --warmup >= 0")
    if args.screenshot_only and not args.screenshot:
        p.error("--screenshot_only needs --screenshot PATH")
    try:
        if not args.screenshot_only:
            rows, conditions = run(
                args.models, args.variants, args.threads, args.image, args.frames, args.warmup,
                args.rounds, args.chromium, args.chromedriver,
            )  # fmt: skip
            text = table(rows, conditions)
            print("\n" + text)
            if args.json:
                save_json(args.json, rows, conditions)
            if not args.no_write:
                write_doc(args.doc, text, invocation(prog, argv), conditions["date"])
                print(f"doc: {args.doc}")
        if args.screenshot:
            rec = screenshot(
                args.screenshot, args.models, args.screenshot_variant, args.image,
                chromium=args.chromium, chromedriver=args.chromedriver,
            )  # fmt: skip
            print(
                f"screenshot: {args.screenshot} ({args.screenshot_variant}, {rec['threads']} thread(s), "
                f"inference {rec['ms']:.1f} ms, frame {rec['frameMs']:.1f} ms)"
            )
    except WebBenchmarkError as e:
        return refuse(e)
    return 0
