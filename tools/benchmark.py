"""Benchmark exported RePose variants (and peer models): size, params, GFLOPs, latency, peak memory.

    python tools/benchmark.py --models out/bench                      # every .tflite / .onnx there
    python tools/benchmark.py --build repose_lsp14 --build_dir out/bench   # export all variants first
    python tools/benchmark.py --models a.tflite b.onnx --peers ../shared/peers/*.tflite --runs 200

Per model file: size; params and GFLOPs (from the sidecar / ONNX metadata; peers: "-"); the ops
LiteRT's XNNPACK delegate takes; latency of one image (median and p90 of --runs invocations after
--warmup, at each of --threads, XNNPACK on: LiteRT's default resolver) and peak memory. Each
(model, threads) measurement runs in its own child process that imports only the runtime
(ai_edge_litert or onnxruntime, numpy), loads the model and runs it: peak memory is that child's
peak resident set (VmHWM), reported with the delta over its RSS before loading the model.
Children run one after the other. The table (with the machine: CPU model, cores, ISA flags,
versions, load average) is printed and, unless --no_write, written into --doc between the
``export-benchmark`` markers (everything outside them is preserved).

--build PRESET exports an untrained (seeded) model of that preset to all four TFLite variants
(int8 calibrated on LSPET training crops, uint8 I/O) and ONNX in --build_dir, tracing once: fine
for size and latency, meaningless for accuracy.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from repose_tf.paths import shared_dir  # noqa: E402  (no TensorFlow: the timing child imports this file)

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- export-benchmark:start -->", "<!-- export-benchmark:end -->"
DEFAULT_PEERS = shared_dir() / "peers"


# --------------------------------------------------------------------------------------------
# Child: load one model, time it, report JSON on stdout (imports no TensorFlow)
# --------------------------------------------------------------------------------------------
def _rss_mb(field: str = "VmRSS") -> float:
    """Current (VmRSS) or peak (VmHWM) resident set of this process in MB.

    VmHWM is the high-water mark of this process image only: ``ru_maxrss`` would also count
    the parent's pages at fork time (Linux keeps it across exec), useless from a big parent.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    if field == "VmHWM":
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return float("nan")


def child(path: str, threads: int, runs: int, warmup: int) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    if path.endswith(".onnx"):
        import onnxruntime as ort

        base = _rss_mb()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        shape = [1 if not isinstance(d, int) else d for d in inp.shape]
        x = rng.uniform(0, 255, shape).astype(np.float32)
        out = [sess.get_outputs()[0].name]

        def run():
            sess.run(out, {inp.name: x})

        runtime = f"onnxruntime {ort.__version__}"
    else:
        from ai_edge_litert.interpreter import Interpreter

        base = _rss_mb()
        it = Interpreter(model_path=path, num_threads=threads)
        it.allocate_tensors()
        d = it.get_input_details()[0]
        dtype = np.dtype(d["dtype"])
        if dtype.kind == "f":
            x = rng.uniform(0, 255, d["shape"]).astype(dtype)
        else:
            info = np.iinfo(dtype)
            x = rng.integers(info.min, info.max + 1, d["shape"]).astype(dtype)
        it.set_tensor(d["index"], x)

        def run():
            it.invoke()

        import ai_edge_litert

        runtime = f"LiteRT {getattr(ai_edge_litert, '__version__', '')}".strip()
    from repose_tf.peers import call_times_ms

    times = sorted(call_times_ms(run, runs, warmup))
    peak = _rss_mb("VmHWM")
    return {
        "median_ms": statistics.median(times),
        "p90_ms": times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))],
        "min_ms": times[0],
        "runs": runs,
        "peak_rss_mb": peak,
        "base_rss_mb": base,
        "runtime": runtime,
    }


def measure(path: Path, threads: int, runs: int, warmup: int, timeout: float = 1800) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--_child",
        str(path),
        str(threads),
        str(runs),
        str(warmup),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"benchmark child failed for {path} ({threads} threads): {tail}")
    return json.loads(lines[-1])


# --------------------------------------------------------------------------------------------
# Parent: collect models, describe them, run the children, write the table
# --------------------------------------------------------------------------------------------
def describe_model(path: Path, peer: bool) -> dict:
    info = {"file": path.name, "path": str(path), "size_mb": path.stat().st_size / 1e6, "peer": peer}
    info.update(params=None, gflops=None, quantize=None, xnnpack=None, io=None)
    if path.suffix == ".tflite":
        from repose_tf.export.tflite import xnnpack_coverage
        from repose_tf.sidecar import read_sidecar, sidecar_path

        if not peer and sidecar_path(path).is_file():
            sc = read_sidecar(path)
            info.update(
                params=sc["model"]["params"] or None,
                gflops=sc["model"]["gflops"] or None,
                quantize=sc["quantize"],
                io=f"{sc['input']['dtype']}/{sc['output']['dtype']}",
            )
        try:
            cov = xnnpack_coverage(path)
            info["xnnpack"] = f"{cov.delegated}/{cov.total}"
        except Exception as e:  # noqa: BLE001 - informative column only
            info["xnnpack"] = f"? ({type(e).__name__})"
    elif path.suffix == ".onnx":
        import onnx

        meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        info.update(
            params=int(meta["params"]) if "params" in meta else None,
            gflops=float(meta["gflops"]) if "gflops" in meta else None,
            quantize="none (ONNX)",
            io="float32/float32",
        )
    return info


def machine() -> dict:
    from repose_tf.cpu import INFERENCE_FLAGS, INT8_DOT_FLAGS, cpu_info, usable_cores

    cpu = cpu_info()
    versions = {}
    for mod in ("ai_edge_litert", "onnxruntime", "tensorflow", "keras", "numpy"):
        try:
            from importlib.metadata import version

            versions[mod] = version({"ai_edge_litert": "ai-edge-litert"}.get(mod, mod))
        except Exception:  # noqa: BLE001
            versions[mod] = "?"
    return {
        "cpu": cpu.model,
        "cores": usable_cores(),
        "isa": cpu.has(INFERENCE_FLAGS),
        "vnni_or_amx": bool(cpu.has(INT8_DOT_FLAGS)),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
        "loadavg": os.getloadavg(),
    }


def _order(p: Path) -> tuple:
    """none, float16, dynamic, int8, qat, then ONNX; by name within."""
    rank = next(
        (i for i, tag in enumerate(("_none", "_float16", "_dynamic", "_int8", "_qat")) if tag in p.stem), 5
    )
    return (p.suffix == ".onnx", rank, p.name)


def collect(models: list[str], peers: list[str]) -> list[tuple[Path, bool]]:
    out: list[tuple[Path, bool]] = []
    for spec, peer in [(m, False) for m in models] + [(p, True) for p in peers]:
        p = Path(spec)
        if p.is_dir():
            out += [(f, peer) for f in sorted([*p.glob("*.tflite"), *p.glob("*.onnx")], key=_order)]
        elif any(ch in spec for ch in "*?["):
            out += [(Path(f), peer) for f in sorted(glob.glob(spec))]
        elif p.is_file():
            out.append((p, peer))
        else:
            raise FileNotFoundError(f"no such model file or directory: {spec}")
    seen, unique = set(), []
    for p, peer in out:
        if p.resolve() not in seen and p.suffix in (".tflite", ".onnx"):
            seen.add(p.resolve())
            unique.append((p, peer))
    return unique


def build(
    preset: str, build_dir: Path, calibration: str | None, num_calibration: int, log=print
) -> list[Path]:
    """Untrained (seeded) model of ``preset`` -> 4 TFLite variants + ONNX in ``build_dir``."""
    import keras

    from repose_tf.export.onnx import export_onnx
    from repose_tf.export.tflite import default_calibration_dir, export_tflite_variants
    from repose_tf.model import RePose

    build_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    t = time.perf_counter()
    model = RePose.from_preset(preset, inference=True, load_weights=False)
    model.save(build_dir / f"{preset}.keras")
    log(f"built {preset} (untrained) in {time.perf_counter() - t:.0f} s")
    outs = {m: build_dir / f"{preset}_{m}.tflite" for m in ("none", "float16", "dynamic", "int8")}
    calib = calibration or default_calibration_dir()
    res = export_tflite_variants(
        model, outs, calibration=calib, num_calibration=num_calibration, io="uint8", log=log
    )
    for r in res.values():
        log(r.summary())
    r = export_onnx(model, build_dir / f"{preset}.onnx", log=log)
    log(r.summary())
    return [*outs.values(), build_dir / f"{preset}.onnx"]


def fmt(v, spec: str = ".1f", none: str = "-") -> str:
    return none if v is None else format(v, spec)


def table(rows: list[dict], threads: list[int]) -> str:
    head = ["model", "variant", "I/O", "size MB", "params", "GFLOPs", "XNNPACK ops"]
    for t in threads:
        head += [f"{t} thr median ms", f"{t} thr p90 ms"]
    head += ["peak RSS MB (+load)"]
    body = []
    for r in rows:
        cells = [
            r["file"] + (" (peer)" if r["peer"] else ""),
            r.get("quantize") or ("-" if r["peer"] else "?"),
            r.get("io") or "-",
            fmt(r["size_mb"], ".2f"),
            "-" if r["params"] is None else f"{r['params'] / 1e6:.2f}M",
            fmt(r["gflops"], ".2f"),
            r.get("xnnpack") or "-",
        ]
        for t in threads:
            m = r["latency"].get(str(t))
            cells += [fmt(m and m["median_ms"]), fmt(m and m["p90_ms"])]
        peaks = [m for m in r["latency"].values() if m]
        if peaks:
            worst = max(peaks, key=lambda m: m["peak_rss_mb"])
            cells.append(f"{worst['peak_rss_mb']:.0f} (+{worst['peak_rss_mb'] - worst['base_rss_mb']:.0f})")
        else:
            cells.append("-")
        body.append(cells)
    return "\n".join(markdown_table(head, body))


def section(rows, threads, mach, runs, warmup, notes: list[str]) -> str:
    v = mach["versions"]
    isa = ", ".join(mach["isa"]) or "none detected"
    la = ", ".join(f"{x:.1f}" for x in mach["loadavg"])
    runtimes = sorted({m["runtime"] for r in rows for m in r["latency"].values() if m})
    out = [
        "## Exported models: size and CPU latency",
        "",
        f"Machine: {mach['cpu']}, {mach['cores']} cores available, ISA: {isa}; {mach['os']}, Python "
        f"{mach['python']}; ai-edge-litert {v['ai_edge_litert']}, onnxruntime {v['onnxruntime']}, "
        f"tensorflow {v['tensorflow']}, keras {v['keras']}. Load average when the run started: {la} "
        "(the machine is shared; figures are medians to damp that).",
        "",
        f"Latency: one 1-image invocation, median and p90 of {runs} runs after {warmup} warm-up runs, "
        f"XNNPACK on (LiteRT's default resolver; {', '.join(runtimes)}); each (model, threads) pair in "
        "its own child process. Peak RSS: that child's max resident set (VmHWM: imports + model + runs); "
        "in brackets the increase over the child's RSS before the model was loaded. XNNPACK ops: "
        "ops the delegate took / all ops, read from the interpreter's node table after delegation "
        "(`repose_tf.export.tflite.xnnpack_coverage`).",
        "",
        table(rows, threads),
        "",
    ]
    out += [f"- {n}" for n in notes]
    return "\n".join(out).rstrip() + "\n"


def write_doc(doc: Path, text: str) -> None:
    write_marked_section(doc, START, END, text)


from repose_tf.cli import HelpFormatter as _HelpFormatter  # noqa: E402
from repose_tf.cli import markdown_table, refuse, write_marked_section  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="benchmark.py",
        description=__doc__,
        formatter_class=_HelpFormatter,
    )
    p.add_argument(
        "--models", nargs="*", default=None, help="model files (.tflite/.onnx) or dirs (default: models/)"
    )
    p.add_argument(
        "--peers",
        nargs="*",
        default=None,
        help="peer .tflite models (default: ../shared/peers/*.tflite if present; a bare --peers: none)",
    )
    p.add_argument("--runs", type=int, default=100, help="timed invocations per measurement")
    p.add_argument("--warmup", type=int, default=10, help="untimed invocations first")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to measure")
    p.add_argument("--fast", action="store_true", help="smoke mode: 5 runs, 1 warm-up, 1 thread")
    p.add_argument("--build", metavar="PRESET", help="export an untrained PRESET to all variants first")
    p.add_argument("--build_dir", default="out/benchmark", help="where --build writes")
    p.add_argument("--calibration_dir", help="int8 calibration for --build (default ../shared/data/lspet)")
    p.add_argument("--num_calibration", type=int, default=100, help="int8 calibration crops for --build")
    p.add_argument("--doc", default=str(REPO / "docs" / "benchmarks.md"), help="markdown file to update")
    p.add_argument("--no_write", action="store_true", help="print only; leave the doc alone")
    p.add_argument("--json", help="also write the raw results here")
    p.add_argument("--note", action="append", default=[], help="extra bullet under the table")
    return p.parse_args(argv)


AVX_NOTE = (
    "int8 speed-ups on a desktop/server CPU are not phone figures: XNNPACK's int8 kernels gain most "
    "from VNNI/AMX-class instructions{have}; measure on the target phone before quoting a ratio."
)


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--_child":
        path, threads, runs, warmup = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(child(path, threads, runs, warmup)))
        return 0
    args = parse_args(argv)
    if args.fast:
        args.runs, args.warmup, args.threads = 5, 1, [1]
    mach = machine()
    try:
        models = list(args.models) if args.models is not None else []
        if args.build:
            built = build(args.build, Path(args.build_dir), args.calibration_dir, args.num_calibration)
            models += [str(p) for p in built]
        if args.models is None and not args.build:
            models = [str(REPO / "models")] if (REPO / "models").is_dir() else []
            if (REPO / "models" / "manifest.json").is_file():  # the release's derived files, on a fresh clone
                from repose_tf.export.package import regenerate_derived

                regenerate_derived(REPO / "models")
        if args.peers is None:
            peers = sorted(str(p) for p in DEFAULT_PEERS.glob("*.tflite")) if DEFAULT_PEERS.is_dir() else []
        else:
            peers = list(args.peers)
        files = collect(models, peers)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        return refuse(e)
    if not files:
        return refuse("no .tflite / .onnx models to benchmark (pass --models or --build PRESET)")
    rows = []
    for path, peer in files:
        info = describe_model(path, peer)
        info["latency"] = {}
        for t in args.threads:
            try:
                info["latency"][str(t)] = measure(path, t, args.runs, args.warmup)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"warning: {e}", file=sys.stderr)
                info["latency"][str(t)] = None
            m = info["latency"][str(t)]
            if m:
                print(
                    f"{path.name}: {t} thread(s) median {m['median_ms']:.2f} ms, p90 {m['p90_ms']:.2f} ms, "
                    f"peak RSS {m['peak_rss_mb']:.0f} MB",
                    flush=True,
                )
        rows.append(info)
    have = " (this CPU has them)" if mach["vnni_or_amx"] else " (this CPU has neither: see the ISA list)"
    notes = [AVX_NOTE.format(have=have), *args.note]
    if mach["loadavg"][0] > mach["cores"] - 0.5:
        notes.append(
            f"The load average ({mach['loadavg'][0]:.1f}) was at or above the {mach['cores']} cores during "
            "this run: other jobs shared the CPU, so absolute figures are pessimistic and multi-thread "
            "figures unreliable."
        )
    if args.build:
        notes.insert(
            0, f"RePose rows: an untrained {args.build} exported with `--build` (size/latency only)."
        )
    text = section(rows, args.threads, mach, args.runs, args.warmup, notes)
    print("\n" + text)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": mach, "rows": rows}, indent=2, default=str))
    if not args.no_write:
        write_doc(Path(args.doc), text)
        print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
