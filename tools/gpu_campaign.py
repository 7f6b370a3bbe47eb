"""A campaign stretch on a GPU machine: pack LSPET small, train under JAX for a while, bring weights back.

Here (CPU machine, once per pack):

    python tools/gpu_campaign.py pack --data_dir ../shared/data/lspet --output .gpu_pack
        # ~9,000 cropped WebP images (~28 MiB) + joints.mat + pack.json, and the wheels the GPU
        # image lacks (keras 3.15, namex, optree for Python 3.12) in .gpu_pack/wheels

There (one device call, .gpu_pack carried; the model code is backend-agnostic):

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu_pack/wheels/*.whl && \\
    PYTHONPATH=/tmp/site:. python3 tools/gpu_campaign.py train --pack .gpu_pack --minutes 6 --output $OUT

``train`` runs ``python -m repose_tf.train`` under ``KERAS_BACKEND=jax`` from ``--init_weights``
(default: the shipped ``models/repose_lsp14.keras``) on the pack's LSPET 1-8000 for ``--minutes``
of training (``--time_budget_minutes``; tracing, validation and the final evaluation come on top),
in bfloat16 with many loader threads, then copies what the CPU run needs into ``--output``:
``model.keras`` (float32 inference weights), ``state.json`` (history with validation PCK on the
pack's first 200 val images), ``train_config.json``, ``log.csv``, ``train.log``. Back here the
campaign continues from them:

    python -m repose_tf.train ... --init_weights /work/.device/.../model.keras
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from repose_tf.cli import error, refuse
from repose_tf.paths import default_model

#: What the GPU image lacks for keras 3.15 (the rest of its requirements are there).
WHEELS = ("keras==3.15.0", "namex==0.1.0", "optree==0.20.0")
#: What comes back from a GPU stretch (each file < 16 MiB: no optimizer state).
RESULTS = ("model.keras", "state.json", "train_config.json", "log.csv", "model.config.json")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="gpu_campaign.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    pk = sub.add_parser("pack", help="Pack LSPET (cropped, WebP) and download the wheels.")
    pk.add_argument("--data_dir", required=True, help="LSPET directory (joints.mat, images/).")
    pk.add_argument("--output", default=".gpu_pack", help="Pack directory (keep it git-ignored).")
    pk.add_argument("--box_px", type=int, default=112, help="Crop box side in the packed image (px).")
    pk.add_argument("--margin", type=float, default=1.4, help="Packed side / box side (context).")
    pk.add_argument("--quality", type=int, default=70, help="WebP quality (1-100).")
    pk.add_argument("--train_limit", type=int, default=None, help="Pack only the first N train images.")
    pk.add_argument("--val_limit", type=int, default=None, help="Pack only the first N val images.")
    pk.add_argument("--no_wheels", action="store_true", help="Skip downloading the wheels.")
    pk.add_argument("--max_mb", type=float, default=36.0, help="Refuse a pack larger than this (MiB).")
    tr = sub.add_parser("train", help="Train under JAX for a fixed time; copy the weights to --output.")
    tr.add_argument("--pack", default=".gpu_pack", help="Pack directory written by `pack`.")
    tr.add_argument("--output", required=True, help="Where the results go (the device's $OUT).")
    tr.add_argument("--minutes", type=float, default=6.0, help="Training minutes (time budget).")
    tr.add_argument("--init_weights", default=str(default_model()), help="Weights to start from.")
    tr.add_argument("--preset", default="repose_lsp14")
    tr.add_argument("--batch_size", type=int, default=32)
    tr.add_argument("--learning_rate", type=float, default=1e-3)
    tr.add_argument("--mixed_precision", default="bfloat16", help="bfloat16 on a GPU; float32 on a CPU test.")
    tr.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 2), help="Loader threads.")
    tr.add_argument("--checkpoint_every", type=int, default=200, help="Steps per checkpoint/validation.")
    tr.add_argument("--steps", type=int, default=1_000_000, help="Upper bound; --minutes ends it first.")
    tr.add_argument("--val_limit", type=int, default=200)
    tr.add_argument(
        "--run_dir", default=None, help="Run directory (default: /tmp/gpu_run; a rerun resumes it)."
    )
    return p.parse_args(argv)


def pack(args) -> int:
    from repose_tf.data.pack import PackConfig, pack_lspet

    if not (Path(args.data_dir) / "joints.mat").is_file():
        return refuse(f"{args.data_dir}: no joints.mat (expected an LSPET directory)")
    if not 1 <= args.quality <= 100 or args.box_px < 16 or args.margin < 1.0:
        return refuse("--quality must be 1-100, --box_px >= 16 and --margin >= 1")
    cfg = PackConfig(args.box_px, args.margin, args.quality, args.train_limit, args.val_limit)
    out = Path(args.output)
    bar = None
    try:
        from tqdm import tqdm

        bar = tqdm(unit="img", desc="pack", file=sys.stderr)
    except ImportError:
        pass

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    from repose_tf.data import DataError

    try:
        summary = pack_lspet(args.data_dir, out, cfg, progress=progress)
    except (DataError, OSError, RuntimeError) as e:
        if bar is not None:
            bar.close()
        return refuse(str(e))
    if bar is not None:
        bar.close()
    if not args.no_wheels:
        wheels = out / "wheels"
        wheels.mkdir(exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
               "--python-version", "3.12", "--implementation", "cp", "--platform", "manylinux_2_28_x86_64",
               "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
               "-d", str(wheels), *WHEELS]  # fmt: skip
        if subprocess.run(cmd).returncode != 0:
            error(f"could not download {', '.join(WHEELS)} into {wheels}")
            return 1
    mb = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    print(
        f"packed {summary['images']['train']} train + {summary['images']['val']} val images "
        f"({summary['side_px']} px WebP, box {args.box_px} px) in {summary['seconds']:.0f} s: "
        f"{out} is {mb:.1f} MiB"
    )
    if summary["skipped_in_source"]:
        print(
            "skipped in the source: " + ", ".join(f"{k} {v}" for k, v in summary["skipped_in_source"].items())
        )
    if mb > args.max_mb:
        error(f"{out} is {mb:.1f} MiB > --max_mb {args.max_mb:g}: lower --quality or --box_px")
        return 1
    return 0


def train(args) -> int:
    pack_dir = Path(args.pack)
    if not (pack_dir / "lspet" / "joints.mat").is_file():
        return refuse(f"{pack_dir}: not a pack (no lspet/joints.mat); run `gpu_campaign.py pack` first")
    if args.init_weights and not Path(args.init_weights).is_file():
        return refuse(f"--init_weights {args.init_weights}: no such file")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    run_dir = Path(args.run_dir) if args.run_dir else Path("/tmp/gpu_run")
    cmd = [
        sys.executable, "-m", "repose_tf.train", f"--preset={args.preset}", "--dataset=lspet",
        f"--data_dir={pack_dir / 'lspet'}", f"--model_dir={run_dir}", "--resume",
        f"--steps={args.steps}", f"--batch_size={args.batch_size}",
        f"--learning_rate={args.learning_rate}", "--lr_schedule=constant",
        f"--checkpoint_every={args.checkpoint_every}", f"--val_limit={args.val_limit}",
        f"--eval_limit={args.val_limit}", f"--mixed_precision={args.mixed_precision}",
        f"--workers={args.workers}", f"--time_budget_minutes={args.minutes}", "--noprogress",
    ]  # fmt: skip
    if args.init_weights:
        cmd.append(f"--init_weights={args.init_weights}")
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONUNBUFFERED": "1"}
    print("running: " + " ".join(cmd), flush=True)
    with (out / "train.log").open("w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
        rc = proc.wait()
    copied = []
    for name in RESULTS:
        if (run_dir / name).is_file():
            shutil.copy2(run_dir / name, out / name)
            copied.append(name)
    print(f"training exited with {rc}; copied {', '.join(copied) or 'nothing'} to {out}")
    return rc if rc else (0 if "model.keras" in copied else 1)


def main(argv=None) -> int:
    args = parse_args(argv)
    return pack(args) if args.command == "pack" else train(args)


if __name__ == "__main__":
    sys.exit(main())
