"""Benchmark the training step: samples/s of a preset across precision, batch, input size, backend.

    python tools/benchmark_train.py             # repose_lsp14: float32/bfloat16 x 128/64 px, batch 16
    python tools/benchmark_train.py --precision float32,bfloat16 --batch_size 16,32 --input_size 128
    python tools/benchmark_train.py --backend tensorflow,jax --steps 4 --doc docs/benchmarks.md

Each configuration runs in its own process (a Keras dtype policy and backend are process-wide,
and one config's memory or threads must not disturb the next): it builds the preset, compiles it
exactly as training does (Adam, the partial MSE on every supervised head, optimizer slots and
loss trackers made before the first step, so it traces the graph once), runs --warmup steps (the
first traces the graph, reported as "first step"), then times --steps
``train_on_batch`` calls and reports the median (samples/s = batch / median step time). Inputs
are random pixels and targets: the cost of a dense conv step does not depend on their values.
A smaller --input_size keeps the network's depth (coarsest resolution = input / 8), which is what
progressive-resolution training would run. The table names the CPU (model and fast-path flags)
and the load average before and after each config: a figure measured beside other work is
marked, rerun it on a quiet machine. --doc replaces the ``train-benchmark`` section of a
Markdown file (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from repose_tf.cli import HelpFormatter, invocation, markdown_table, write_marked_section  # noqa: E402
from repose_tf.cpu import busy_cpu_seconds  # noqa: E402

START, END = "<!-- train-benchmark:start -->", "<!-- train-benchmark:end -->"
PRECISIONS = ("float32", "bfloat16", "float16")
BUSY_SHARE = 0.10  # other processes' share of the CPU above which a row is marked busy
BACKENDS = ("tensorflow", "jax")


def _csv(kind, allowed=None):
    def parse(text: str) -> list:
        items = [kind(t.strip()) for t in text.split(",") if t.strip()]
        bad = [i for i in items if allowed is not None and i not in allowed]
        if not items or bad:
            raise argparse.ArgumentTypeError(
                f"{text!r}: expected a comma-separated list"
                + (f" of {', '.join(allowed)}" if allowed else "")
            )
        return items

    return parse


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="benchmark_train.py", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--preset", default="repose_lsp14", help="Model preset (python -m repose_tf.summary).")
    p.add_argument("--precision", type=_csv(str, PRECISIONS), default=["float32", "bfloat16"],
                   help="Compute precisions (mixed_* Keras policies; float32 = none).")  # fmt: skip
    p.add_argument("--batch_size", type=_csv(int), default=[16], help="Batch sizes.")
    p.add_argument("--input_size", type=_csv(int), default=[128, 64], help="Input sizes (multiples of 32).")
    p.add_argument("--backend", type=_csv(str, BACKENDS), default=["tensorflow"], help="Keras backends.")
    p.add_argument("--steps", type=int, default=6, help="Timed steps per config (the median is reported).")
    p.add_argument("--warmup", type=int, default=2, help="Untimed steps first (the first traces).")
    p.add_argument("--timeout", type=float, default=900, help="Seconds allowed per config.")
    p.add_argument("--doc", default=None, help=f"Markdown file whose {START} section gets the table.")
    p.add_argument("--json", default=None, help="Also write the results as JSON.")
    p.add_argument("--from_json", default=None, help="Rebuild the table (and --doc) from an earlier --json.")
    p.add_argument("--_worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for s in args.input_size:
        if s < 32 or s % 32:
            p.error(f"--input_size {s}: must be a multiple of 32 (the network halves it three times to 1/8)")
    if min(args.batch_size) < 1 or args.steps < 1 or args.warmup < 1:
        p.error("--batch_size, --steps and --warmup must be >= 1")
    return args


def worker(spec: dict) -> dict:
    """Run one configuration in this process and return its timings."""
    import keras
    import numpy as np

    from repose_tf.config import get_preset
    from repose_tf.losses import PartialMSE
    from repose_tf.model import RePose
    from repose_tf.training.initialise import build_training_state

    if spec["precision"] != "float32":
        keras.mixed_precision.set_global_policy(f"mixed_{spec['precision']}")
    size = spec["input_size"]
    cfg = get_preset(spec["preset"])
    if size != cfg.input_size:
        cfg = cfg.replace(input_size=size, coarsest_resolution=size // 8)
    model = RePose(cfg)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss={n: PartialMSE() for n in model.output})
    rng = np.random.default_rng(0)
    b, k = spec["batch_size"], cfg.num_keypoints
    x = rng.uniform(0, 255, (b, size, size, 3)).astype("float32")
    y = {n: rng.uniform(0, 0.1, (b, size, size, k)).astype("float32") for n in model.output}
    build_training_state(model, (x, y))  # as the training engine does before its first step
    times = []
    for i in range(spec["warmup"] + spec["steps"]):
        if i == spec["warmup"]:  # the timed steps start: what else runs on the CPU meanwhile?
            busy0, own0, wall0 = busy_cpu_seconds(), time.process_time(), time.perf_counter()
        t = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - t)
    busy1, own1, wall1 = busy_cpu_seconds(), time.process_time(), time.perf_counter()
    others = None
    if busy0 is not None and busy1 is not None:  # CPU used by other processes, as a share of all cores
        others = max(0.0, (busy1 - busy0) - (own1 - own0)) / ((wall1 - wall0) * (os.cpu_count() or 1))
    timed = sorted(times[spec["warmup"] :])
    median = (
        timed[len(timed) // 2]
        if len(timed) % 2
        else sum(timed[len(timed) // 2 - 1 : len(timed) // 2 + 1]) / 2
    )
    return {**spec, "first_step_s": times[0], "median_step_s": median, "samples_per_s": b / median,
            "others_cpu": others, "policy": keras.mixed_precision.global_policy().name}  # fmt: skip


def run_config(spec: dict, timeout: float) -> dict:
    """One configuration in a fresh process; a failure is reported in the row, not raised."""
    env = {**os.environ, "KERAS_BACKEND": spec["backend"], "TF_CPP_MIN_LOG_LEVEL": "2"}
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        res = subprocess.run([sys.executable, __file__, "--_worker", json.dumps(spec)], capture_output=True,
                             text=True, timeout=timeout, env=env, cwd=REPO)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {**spec, "error": f"timed out after {timeout:g} s", "load_before": load0}
    out = {"load_before": load0, "load_after": os.getloadavg()[0], "wall_s": time.perf_counter() - t0}
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode != 0 or not lines:
        err = (res.stderr.strip().splitlines() or ["no output"])[-1]
        return {**spec, **out, "error": err[:200]}
    return {**json.loads(lines[-1]), **out}


def table(rows: list[dict], cpu: str) -> str:
    head = ["backend", "precision", "input", "batch", "samples/s", "vs first row", "first step s"]
    head += ["others' CPU", "load before/after"]
    base = next((r["samples_per_s"] for r in rows if "samples_per_s" in r), None)
    cells = []
    for r in rows:
        cfg = [r["backend"], r["precision"], r["input_size"], r["batch_size"]]
        load = f"{r.get('load_before', 0):.1f} / {r.get('load_after', 0):.1f}"
        if "error" in r:
            cells.append([*cfg, f"failed: {r['error']}", "", "", "", load])
            continue
        others = r.get("others_cpu")
        busy = " (busy)" if others is not None and others > BUSY_SHARE else ""
        cells.append(
            [*cfg, f"{r['samples_per_s']:.2f}{busy}", f"{r['samples_per_s'] / base:.2f}x"]
            + [f"{r['first_step_s']:.0f}", "-" if others is None else f"{100 * others:.0f}%", load]
        )
    lines = [f"CPU: {cpu}", "", *markdown_table(head, cells, align="llrrrrrrl")]
    lines += ["", "samples/s: batch / median step time of `train_on_batch` after warm-up. others' CPU: the "
              "share of all cores that other processes used during the timed steps (/proc/stat minus this "
              f"process); above {100 * BUSY_SHARE:.0f}% the row is marked (busy): rerun it on a quiet "
              "machine. The 1-minute load average includes the previous config's own process."]  # fmt: skip
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args._worker:
        print(json.dumps(worker(json.loads(args._worker))), flush=True)
        return 0
    from repose_tf.cpu import cpu_info

    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text())
        return report(saved["rows"], saved["cpu"], args, saved.get("argv", argv), saved.get("date", ""))
    cpu = cpu_info().describe()
    specs = [
        {"preset": args.preset, "backend": be, "precision": pr, "input_size": s, "batch_size": b,
         "steps": args.steps, "warmup": args.warmup}
        for be in args.backend for pr in args.precision for s in args.input_size for b in args.batch_size
    ]  # fmt: skip
    print(f"{len(specs)} configs of {args.preset} on {cpu}; each in its own process", flush=True)
    rows = []
    for i, spec in enumerate(specs, 1):
        label = f"{spec['backend']} {spec['precision']} {spec['input_size']}px batch {spec['batch_size']}"
        print(f"[{i}/{len(specs)}] {label} ...", end=" ", flush=True)
        rows.append(run_config(spec, args.timeout))
        r = rows[-1]
        print(r["error"] if "error" in r else f"{r['samples_per_s']:.2f} samples/s", flush=True)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"cpu": cpu, "rows": rows, "date": time.strftime("%Y-%m-%d"), "argv": argv}, indent=2)
        )
    return report(rows, cpu, args, argv, time.strftime("%Y-%m-%d"))


def report(rows: list[dict], cpu: str, args, argv, date: str) -> int:
    text = table(rows, cpu)
    print("\n" + text)
    if args.doc:
        body = f"`{invocation('benchmark_train.py', argv)}` ({date})\n\n{text}"
        write_marked_section(Path(args.doc), START, END, body, heading="## Training step throughput")
        print(f"doc: {args.doc}")
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
