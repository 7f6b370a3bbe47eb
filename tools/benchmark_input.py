"""Benchmark the input pipeline: augmented samples/s of tf.data and of the PyDataset path on real LSPET.

    python tools/benchmark_input.py --data_dir ../shared/data/lspet            # print the table
    python tools/benchmark_input.py --data_dir ../shared/data/lspet --write    # + docs/benchmarks.md

Measures, at 128x128 with the paper's training augmentation: the bare per-sample cost on one
thread (``load_example``), ``make_tf_dataset`` (parallel ``tf.numpy_function`` map, AUTOTUNE,
batch 64), and ``PosePyDataset`` batches fetched sequentially and by a thread pool (what Keras
does with ``workers=N``). Each figure is the best of ``--repeats`` timed runs after a warm-up
(the machine is shared, so the best run is the least disturbed one). ``--write`` replaces the
section between the ``input-benchmark`` markers in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from repose_tf.cli import markdown_table, write_marked_section  # noqa: E402
from repose_tf.cpu import cpu_info, usable_cores  # noqa: E402
from repose_tf.data import SampleTransform, get_dataset, load_example, make_tf_dataset  # noqa: E402
from repose_tf.data.pipeline import PosePyDataset  # noqa: E402
from repose_tf.paths import lspet_dir  # noqa: E402

NOTES = """\
Where the time goes (cProfile, one thread, per sample): Gaussian targets ~0.45 ms (a 128x128x14
float32 stack is 0.9 MB to write: memory-bound), JPEG decode ~0.35 ms, file read ~0.05 ms,
warpAffine ~0.15 ms, colour noise and Python glue ~0.3 ms. What made it fast:
- one `tf.numpy_function` per *batch* (`load_batch`, the same code the PyDataset runs), batches in
  parallel, instead of one call per example followed by `batch()`: no per-example tensors, no copy;
- batch arrays allocated 64-byte aligned, so TensorFlow wraps them without copying (an unaligned
  58 MB heatmap batch cost ~50 ms of copying per batch, a third of the budget);
- images and targets written in place into the batch arrays (`codec.encode(..., out=)`);
- `cv2.IMREAD_REDUCED_COLOR_{2,4,8}` when the crop is 2x+ larger than the input (MPII / COCO
  photos decode at 1/4-1/8; LSPET's ~300 px images rarely qualify) and `cv2.setNumThreads(1)`
  (parallelism comes from the pipeline; OpenCV's own threads only contend on 2 cores).
The machine is shared with other work, so wall-clock figures vary run to run; the CPU cost per
sample is the stable number (about 1.3-1.6 ms, i.e. ~1300 samples/s on 2 idle cores)."""

START, END = "<!-- input-benchmark:start -->", "<!-- input-benchmark:end -->"


def best_rate(fn, samples: int, repeats: int) -> tuple[float, float]:
    """(best samples/s of wall time, CPU ms per sample of the process in that run).

    CPU time (all threads of this process) does not depend on what else runs on the machine,
    so it tells how fast the pipeline would be on idle cores: about cores x 1000 / cpu_ms.
    """
    best, cpu = 0.0, float("nan")
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        rate = samples / (time.perf_counter() - t0)
        if rate > best:
            best, cpu = rate, (time.process_time() - c0) * 1000.0 / samples
    return best, cpu


def bench(args) -> list[tuple[str, float, float, str]]:
    cv2.setNumThreads(args.cv2_threads)
    ds = get_dataset("lspet", args.data_dir, "train")
    t = SampleTransform(args.input_size, ds.keypoint_set, train=True)
    b, nb = args.batch_size, args.batches
    n = b * nb
    rows = []

    # 1. bare per-sample cost, one thread
    start = [0]

    def single():
        s = start[0]
        for i in range(s, s + n):
            load_example(ds, t, i % len(ds), epoch=1, seed=0)
        start[0] += n

    single()  # warm-up (file cache, imports)
    rows.append(
        ("load_example, 1 thread", *best_rate(single, n, args.repeats), "decode + crop/augment + targets")
    )

    # 2. tf.data
    import tensorflow as tf

    for det in (True, False):
        tfd = make_tf_dataset(ds, t, b, seed=0, deterministic=det)
        it = iter(tfd)
        for _ in range(4):
            next(it)

        def run_tf(it=it):
            for _ in range(nb):
                next(it)

        note = f"AUTOTUNE map, batch {b}, deterministic={det}"
        rows.append(
            (f"make_tf_dataset (tf.data), deterministic={det}", *best_rate(run_tf, n, args.repeats), note)
        )
        # stop the iterator's worker threads now, not at interpreter exit (TF aborts then)
        del run_tf, it, tfd
        gc.collect()
    del tf

    # 3. PyDataset
    py = PosePyDataset(ds, t, b, seed=0)

    def run_seq():
        for k in range(nb):
            py[k % len(py)]

    run_seq()
    rows.append(
        ("PosePyDataset, sequential", *best_rate(run_seq, n, args.repeats), "ds[i] in a loop (workers=1)")
    )
    workers = max(usable_cores(), 2)
    with ThreadPoolExecutor(workers) as pool:

        def run_pool():
            list(pool.map(lambda k: py[k % len(py)], range(nb)))

        run_pool()
        rate, cpu = best_rate(run_pool, n, args.repeats)
    rows.append((f"PosePyDataset, {workers} threads", rate, cpu, f"as Keras with workers={workers}"))
    return rows


def table(rows, args) -> str:
    import keras
    import tensorflow as tf

    lines = [
        f"Input pipeline on real LSPET (train split), {args.input_size}x{args.input_size}, "
        "paper augmentation (scale 0.7-1.3, rotation +-60, flip, colour), Gaussian targets; "
        "`python tools/benchmark_input.py "
        f"--data_dir ../shared/data/lspet --write` ({args.batches} batches of {args.batch_size}, best of "
        f"{args.repeats}; cv2.setNumThreads({args.cv2_threads})).",
        "",
        f"Machine: {cpu_info().model}, {usable_cores()} cores; Python {platform.python_version()}, "
        f"numpy {np.__version__}, OpenCV {cv2.__version__}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}.",
        "",
        f"Load average when the run started (other work on this shared machine): {args.load_before}; "
        "samples/s is wall-clock throughput under that load, CPU ms/sample is the pipeline's own cost "
        f"(all threads), so {usable_cores()} idle cores would give about {usable_cores()} x 1000 / CPU ms.",
        "",
    ]
    lines += markdown_table(
        ["path", "samples/s", "CPU ms/sample", "notes"],
        [[name, f"{rate:.0f}", f"{cpu:.2f}", note] for name, rate, cpu, note in rows],
        align="lrrl",
    )
    return "\n".join(lines + ["", NOTES])


def write_section(text: str, path: Path) -> None:
    write_marked_section(path, START, END, text, heading="## Input pipeline")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data_dir", default=str(lspet_dir()), help="LSPET folder")
    p.add_argument("--input_size", type=int, default=128)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--batches", type=int, default=12, help="batches per timed run")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per path (best is reported)")
    p.add_argument(
        "--cv2_threads",
        type=int,
        default=1,
        help="cv2.setNumThreads (1: parallelism comes from the pipeline)",
    )
    p.add_argument("--write", action="store_true", help="write the table into docs/benchmarks.md")
    p.add_argument("--doc", default=str(REPO / "docs" / "benchmarks.md"))
    args = p.parse_args(argv)
    args.load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = bench(args)
    text = table(rows, args)
    print(text)
    if args.write:
        write_section(text, Path(args.doc))
        print(f"\nwrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
