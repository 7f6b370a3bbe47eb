"""Is the model under- or over-fitting, and where does it fail? Training images against the selection split.

    python tools/diagnose_fit.py                                   # models/repose_lsp14.keras
    python tools/diagnose_fit.py --model RUN/ema.keras --train_images 500 --doc docs/results.md

Scores the model, without augmentation and through the project's one evaluation path, on
--train_images LSPET training images spread evenly over images 1-8000 and on the `select` part of
validation (never `report`: a diagnosis chooses what to change). Training PCK far above selection
PCK means over-fitting (more augmentation or data); the two close together means the model does
not fit even what it trains on (under-fitting: more training, capacity, or cleaner labels). Per
part it prints PCK@0.2 over 14 joints and the 12 limb joints, per orientation group (upright,
sideways, upside down, from the ground truth), and two error signatures
(repose_tf.metrics.diagnostics): the share of poses whose left/right-swapped labels match 3+ more
limb joints, the limb PCK points a per-pose left/right oracle would add, and how far predicted hips sit
inward of the labels (torso lengths).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from repose_tf.cli import HelpFormatter, invocation, markdown_table, refuse, write_marked_section  # noqa: E402
from repose_tf.paths import default_model, lspet_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = default_model()
DEFAULT_DATA = lspet_dir()
START, END = "<!-- diagnose-fit:start -->", "<!-- diagnose-fit:end -->"
GROUPS = ("upright", "sideways", "upside_down")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="diagnose_fit.py", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--model", action="append", help=f"Model file(s); repeat. Default: {DEFAULT_MODEL.name}")
    p.add_argument("--data_dir", default=str(DEFAULT_DATA), help="LSPET directory.")
    p.add_argument(
        "--train_images", type=int, default=500, help="Training images, evenly spaced over 1-8000."
    )
    p.add_argument("--select_limit", type=int, default=None, help="Only the first N `select` images.")
    p.add_argument("--threads", type=int, default=None, help="Threads for TFLite / ONNX runtimes.")
    p.add_argument("--output_json", default=None, help="Write every figure as JSON here.")
    p.add_argument("--doc", default=None, help=f"Write the table into this Markdown file between {START}.")
    return p.parse_args(argv)


def _parts(args) -> dict:
    from repose_tf.data import get_dataset
    from repose_tf.data.sample import ListDataset

    if args.train_images < 1:
        raise ValueError(f"--train_images must be >= 1, got {args.train_images}")
    train = get_dataset("lspet", args.data_dir, "train", "lsp14")
    n = min(args.train_images, len(train))
    picked = [
        train.sample(i) for i in sorted({round(k * (len(train) - 1) / max(n - 1, 1)) for k in range(n)})
    ]
    select = get_dataset("lspet", args.data_dir, "select", "lsp14")
    if args.select_limit:
        select = ListDataset([select.sample(i) for i in range(min(args.select_limit, len(select)))],
                             select.name, select.split, select.keypoint_set, select.report)  # fmt: skip
    return {
        f"train ({len(picked)} of 1-8000, no augmentation)": ListDataset(
            picked, train.name, "train", train.keypoint_set, train.report
        ),
        "select": select,
    }


def diagnose(args) -> list[dict]:
    from repose_tf import metrics
    from repose_tf.evaluate import predict_dataset, score
    from repose_tf.metrics.diagnostics import lr_signatures
    from repose_tf.metrics.orientation import score_by_orientation
    from repose_tf.runtime import Predictor

    parts = _parts(args)
    rows = []
    for path in args.model or [str(DEFAULT_MODEL)]:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: model not found")
        pred = Predictor.load(path, num_threads=args.threads)
        for part, ds in parts.items():
            ps = predict_dataset(pred, ds, progress=False)
            groups = score_by_orientation(ps, "lspet")
            pck14 = score(ps, "lspet")
            rows.append(
                {
                    "model": Path(path).name,
                    "part": part,
                    "images": pck14.num_images,  # scored by the LSPET convention
                    "pck14": pck14.mean,
                    "limbs": score(ps, "lspet", joints=metrics.LSP_LIMB_JOINTS).mean,
                    "groups": {g: (groups[g].mean, groups[g].num_images) for g in GROUPS},
                    **lr_signatures(ps),  # its keys never shadow the official PCK above
                }
            )
    return rows


def table(rows: list[dict]) -> str:
    head = ["model", "part", "images", "PCK@0.2", "12 limbs"] + [f"{g.replace('_', ' ')}" for g in GROUPS]
    head += ["L/R swapped poses %", "L/R oracle gain (limbs)", "hips inward (torso)", "hip width (torso)"]
    body = []
    for r in rows:
        cells = [r["model"], r["part"], str(r["images"]), f"{r['pck14']:.2f}", f"**{r['limbs']:.2f}**"]
        cells += [f"{m:.2f} (n={n})" for m, n in r["groups"].values()]
        cells += [
            f"{r['swapped_pct']:.1f}",
            f"+{r['oracle_gain']:.2f}",
            f"{r['hip_inward']:+.3f}",
            f"{r['hip_width']:.3f}",
        ]
        body.append(cells)
    lines = markdown_table(head, body, align="llr")
    lines += [
        "",
        "PCK@0.2, LSPET convention (visible joints; poses without both torso joints skipped); orientation "
        "columns: the 12 limb joints per group. L/R swapped: poses whose mirrored labels match 3+ more limb "
        "joints; oracle gain: limb PCK points a per-pose choice of labels or their mirror adds. Hips inward: "
        "median offset of predicted hips toward the other hip (> 0: inward).",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    from repose_tf.data import DataError

    try:
        rows = diagnose(args)
    except (FileNotFoundError, ValueError, DataError) as e:
        return refuse(e)
    text = table(rows)
    print(text)
    if args.output_json:
        Path(args.output_json).write_text(json.dumps(rows, indent=2))
    if args.doc:
        write_marked_section(Path(args.doc), START, END, f"`{invocation('diagnose_fit.py', argv)}`\n\n{text}")
        print(f"doc: {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
