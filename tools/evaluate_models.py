"""Score several model files (Keras and its exports) on the same validation set, flip test off and on.

    python tools/evaluate_models.py                       # models/: Keras, float16 and int8 TFLite
    python tools/evaluate_models.py --model runs/lspet/model.keras --model out/m_int8.tflite --limit 200

Every model runs through :func:`repose_tf.evaluate.predict_dataset_flip_pair` (the project's one
evaluation path: evaluation crop -> heatmaps -> sub-pixel decode -> original pixels), once per model:
the plain heatmaps are reused for the flip-averaged figures. For LSP-14 data it reports PCK@0.2
and PCK@0.1 over the 14 joints and over the 12 limb joints (no neck / head top: the subset a
COCO-17 peer is compared on), the per-group PCK@0.2 table, each row's change against the first
model (the float32 reference), and flags any model more than --max_drop PCK@0.2 points below it.
--doc writes the tables (and the command) between markers in a Markdown file; --plot a PCK curve.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from repose_tf.export.cli import HelpFormatter, invocation, write_marked_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODELS = [REPO / "models" / f"repose_lsp14{s}" for s in (".keras", "_float16.tflite", "_int8.tflite")]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "lspet"
START, END = "<!-- model-results:start -->", "<!-- model-results:end -->"
FLIPS = {"off": (False,), "on": (True,), "both": (False, True)}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="evaluate_models.py", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument(
        "--model",
        action="append",
        help="Model file (.keras/.weights.h5/.tflite/.onnx); repeat; the first is the reference. "
        "Default: models/repose_lsp14.keras, _float16.tflite, _int8.tflite",
    )
    p.add_argument("--dataset", default="lspet", help="Dataset name (see repose_tf.evaluate).")
    p.add_argument("--data_dir", default=str(DEFAULT_DATA), help="Dataset directory.")
    p.add_argument("--split", default="val", help="Split (LSPET val = images 8001-9000).")
    p.add_argument("--limit", type=int, default=None, help="Only the first N images of the split.")
    p.add_argument("--flip", choices=sorted(FLIPS), default="both", help="Flip test off, on, or both.")
    p.add_argument("--threads", type=int, default=None, help="Threads for TFLite / ONNX runtimes.")
    p.add_argument("--batch_size", type=int, default=16, help="Inference batch size.")
    p.add_argument(
        "--max_drop", type=float, default=1.0, help="Flag a model this many PCK points below the first."
    )
    p.add_argument("--output_json", default=None, help="Write every figure as JSON here.")
    p.add_argument("--plot", default=None, help="Write a PCK-vs-threshold PNG (every row) here.")
    p.add_argument(
        "--doc", default=None, help=f"Write the tables into this Markdown file between {START} markers."
    )
    p.add_argument("--no_progress", action="store_true", help="No progress bars.")
    return p.parse_args(argv)


def evaluate_models(args) -> list[dict]:
    """One row per (model, flip): ``{"model", "runtime", "flip", "results": {label: PCKResult}, ...}``."""
    from repose_tf.data import get_dataset
    from repose_tf.evaluate import DATASET_KEYPOINTS, curve, predict_dataset_flip_pair, standard_results
    from repose_tf.runtime import Predictor

    paths = [Path(p) for p in (args.model or DEFAULT_MODELS)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"model not found: {', '.join(missing)}")
    ds = get_dataset(
        args.dataset, args.data_dir, args.split, DATASET_KEYPOINTS.get(args.dataset.lower(), "lsp14")
    )
    rows = []
    for path in paths:
        pred = Predictor.load(path, num_threads=args.threads)
        flips = FLIPS[args.flip]
        if flips == (False, True):
            sets = predict_dataset_flip_pair(
                pred, ds, limit=args.limit, batch_size=args.batch_size, progress=not args.no_progress
            )
        else:
            from repose_tf.evaluate import predict_dataset

            sets = {
                flips[0]: predict_dataset(
                    pred,
                    ds,
                    flip_test=flips[0],
                    limit=args.limit,
                    batch_size=args.batch_size,
                    progress=not args.no_progress,
                )
            }
        for flip, ps in sets.items():
            label = f"{path.name}{' +flip' if flip else ''}"
            rows.append(
                {
                    "model": str(path),
                    "name": path.name,
                    "runtime": pred.kind,
                    "flip": flip,
                    "label": label,
                    "results": standard_results(ps, args.dataset),
                    "curve": curve(ps, args.dataset, label=label),
                    "images_per_s": len(ps.ids) / ps.seconds,
                }
            )
        print(f"{path.name}: done ({len(sets)} run(s) on {len(ps.ids)} images)", file=sys.stderr)
    return rows


def flagged(rows: list[dict], max_drop: float) -> list[str]:
    """Rows whose main metric is more than ``max_drop`` points below the first model's (same flip)."""
    ref = {r["flip"]: r for r in rows if r["model"] == rows[0]["model"]}
    out = []
    for r in rows:
        base = ref.get(r["flip"])
        if base is None or r is base:
            continue
        key = next(iter(r["results"]))
        drop = base["results"][key].mean - r["results"][key].mean
        if drop > max_drop:
            out.append(f"{r['label']}: {key} {drop:.2f} points below {base['label']} (limit {max_drop})")
    return out


def tables(rows: list[dict], dataset: str, split: str) -> str:
    from repose_tf import metrics

    keys = list(rows[0]["results"])
    ref = {r["flip"]: r for r in rows if r["model"] == rows[0]["model"]}
    main = keys[0]
    head = "| model | runtime | flip test | " + " | ".join(keys) + f" | change in {main} | images/s |"
    lines = [head, "|---|---|---|" + "---:|" * (len(keys) + 2)]
    for r in rows:
        cells = [f"{r['results'][k].mean:.2f}" for k in keys]
        cells[0] = f"**{cells[0]}**"
        base = ref[r["flip"]]
        delta = "ref." if r is base else f"{r['results'][main].mean - base['results'][main].mean:+.2f}"
        lines.append(
            f"| {r['name']} | {r['runtime']} | {'on' if r['flip'] else 'off'} | {' | '.join(cells)} | "
            f"{delta} | {r['images_per_s']:.1f} |"
        )
    r0 = rows[0]["results"][main]
    lines += [
        "",
        f"{dataset} {split}: {r0.num_images} images scored ({r0.num_skipped_images} skipped: torso joints "
        f"not visible), {r0.num_joints} joints. images/s: whole evaluation loop (crop, inference, decode) "
        "on this machine, including the mirrored pass for flip-test rows.",
        "",
        f"Per joint group, {main} (14 joints):",
        "",
        metrics.format_markdown_table({r["label"]: r["results"][main] for r in rows}, digits=2).rstrip(),
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    from repose_tf.data import DataError

    try:
        rows = evaluate_models(args)
    except (FileNotFoundError, ValueError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = tables(rows, args.dataset, args.split)
    flags_ = flagged(rows, args.max_drop)
    print("\n" + text)
    for f in flags_:
        print(f"FLAG: {f}")
    if args.plot:
        from repose_tf import metrics

        metrics.plot_pck_curves(
            {r["label"]: r["curve"] for r in rows}, args.plot, title=f"{args.dataset} {args.split}"
        )
        print(f"plot: {args.plot}")
    if args.output_json:
        out = {
            "dataset": args.dataset,
            "split": args.split,
            "limit": args.limit,
            "flagged": flags_,
            "rows": [
                {
                    **{k: v for k, v in r.items() if k not in ("results", "curve")},
                    "results": {k: v.to_dict() for k, v in r["results"].items()},
                }
                for r in rows
            ],
        }
        Path(args.output_json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output_json).write_text(json.dumps(out, indent=2, default=float))
        print(f"json: {args.output_json}")
    if args.doc:
        cmd = invocation("evaluate_models.py", argv)
        note = "".join(f"\n\n**Flagged:** {f}" for f in flags_)
        write_marked_section(Path(args.doc), START, END, f"`{cmd}`\n\n{text}{note}")
        print(f"doc: {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
