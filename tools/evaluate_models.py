"""Score several model files (Keras and its exports) on the same validation set, flip test off and on.

    python tools/evaluate_models.py                       # models/: Keras, float16 and int8 TFLite
    python tools/evaluate_models.py --model runs/lspet/model.keras --model out/m_int8.tflite --limit 200

Every model runs through :func:`repose_tf.evaluate.predict_dataset_flips` (the project's one
evaluation path: evaluation crop -> heatmaps -> sub-pixel decode -> original pixels), once per model:
the plain heatmaps are reused for the flip-averaged figures. For LSP-14 data it reports PCK@0.2
and PCK@0.1 over the 14 joints and over the 12 limb joints (no neck / head top: the subset a
COCO-17 peer is compared on), the per-group PCK@0.2 table, each row's change against the first
model (the float32 reference), and flags any model more than --max_drop PCK@0.2 points below it.
--doc writes the tables (and the command) between markers in a Markdown file; --plot a PCK curve.

--split takes a comma list and reports each part on its own (LSPET default: select,report, the
two interleaved halves of 8001-9000: `report` is the part for published figures, `select` the
part for choosing; `val` is both together). For LSP-14 data each part adds an orientation table:
PCK@0.2 over the 12 limb joints, flip test off, per body orientation (upright / sideways / upside
down by the ground-truth torso, with the image count of each; :mod:`repose_tf.metrics.orientation`).
Each model predicts each image once per part; --limit applies per part.
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
#: The shipped model and its two released TFLite forms (models/repose_lsp14{.keras,_float16/_int8.tflite}).
DEFAULT_MODELS = [default_model()] + [
    default_model().with_name(f"{default_model().stem}_{q}.tflite") for q in ("float16", "int8")
]
DEFAULT_DATA = lspet_dir()
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
    p.add_argument(
        "--split",
        default=None,
        help="Split(s), comma-separated, each reported on its own. Default: select,report for LSPET "
        "(report = even images 8002-9000, published figures; select = odd 8001-8999, choosing; "
        "val = both), val otherwise.",
    )
    p.add_argument("--limit", type=int, default=None, help="Only the first N images of each split.")
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


def evaluate_models(args) -> dict[str, list[dict]]:
    """``{split: rows}``; one row per (model, flip): ``{"model", "runtime", "flip", "results":
    {label: PCKResult}, "orientation": {group: PCKResult} or None, ...}``."""
    from repose_tf.evaluate import (
        curve,
        load_splits,
        parse_splits,
        predict_dataset_flips,
        standard_results,
    )
    from repose_tf.metrics import LSP_LIMB_JOINTS, score_by_orientation
    from repose_tf.runtime import Predictor

    splits = parse_splits(default_split(args.dataset) if args.split is None else args.split)
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit {args.limit}: expected at least 1 image per split")
    if not args.model:  # a fresh clone has the release's committed files only: make the derived ones
        from repose_tf.export.package import regenerate_derived

        regenerate_derived(DEFAULT_MODELS[0].parent)
    paths = [Path(p) for p in (args.model or DEFAULT_MODELS)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"model not found: {', '.join(missing)}")
    datasets = load_splits(args.dataset, args.data_dir, splits)
    parts: dict[str, list[dict]] = {s: [] for s in splits}
    flips = FLIPS[args.flip]
    kw = {"limit": args.limit, "batch_size": args.batch_size, "progress": not args.no_progress}
    for path in paths:
        pred = Predictor.load(path, num_threads=args.threads)
        for split, ds in datasets.items():  # one prediction per image and part; groups reuse it
            sets = predict_dataset_flips(pred, ds, flips, **kw)
            for flip, ps in sets.items():
                label = f"{path.name}{' +flip' if flip else ''}"
                parts[split].append(
                    {
                        "model": str(path),
                        "name": path.name,
                        "runtime": pred.kind,
                        "flip": flip,
                        "label": label,
                        "results": standard_results(ps, args.dataset),
                        "orientation": score_by_orientation(ps, args.dataset, joints=LSP_LIMB_JOINTS)
                        if ps.keypoint_set == "lsp14"
                        else None,
                        "curve": curve(ps, args.dataset, label=label),
                        "images_per_s": len(ps.ids) / ps.seconds,
                    }
                )
            print(f"{path.name} {split}: done ({len(sets)} run(s) on {len(ps.ids)} images)", file=sys.stderr)
    return parts


def default_split(dataset: str) -> str:
    """LSPET: both validation halves, each on its own; other datasets: their ``val``."""
    return "select,report" if dataset.lower() == "lspet" else "val"


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
    """One part's Markdown: its title, the model table, per joint group, and per orientation."""
    from repose_tf import metrics
    from repose_tf.evaluate import split_title

    keys = list(rows[0]["results"])
    ref = {r["flip"]: r for r in rows if r["model"] == rows[0]["model"]}
    main = keys[0]
    head = ["model", "runtime", "flip test", *keys, f"change in {main}", "images/s"]
    body = []
    for r in rows:
        cells = [f"{r['results'][k].mean:.2f}" for k in keys]
        cells[0] = f"**{cells[0]}**"
        base = ref[r["flip"]]
        delta = "ref." if r is base else f"{r['results'][main].mean - base['results'][main].mean:+.2f}"
        body.append(
            [r["name"], r["runtime"], "on" if r["flip"] else "off", *cells, delta, f"{r['images_per_s']:.1f}"]
        )
    lines = [f"**{split_title(dataset, split)}**", "", *markdown_table(head, body, align="lllr")]
    r0 = rows[0]["results"][main]
    lines += [
        "",
        f"{dataset} {split}: {r0.num_images} images scored ({r0.num_skipped_images} skipped: torso joints "
        f"not visible), {r0.num_joints} joints. images/s: whole evaluation loop (crop, inference, decode) "
        "on this machine, including the mirrored pass for flip-test rows.",
        "",
        f"Per joint group, {main} (14 joints), {dataset} {split}:",
        "",
        metrics.format_markdown_table({r["label"]: r["results"][main] for r in rows}, digits=2).rstrip(),
    ]
    orient = orientation_table(rows, dataset, split)
    return "\n".join(lines + (["", orient] if orient else []))


def orientation_table(rows: list[dict], dataset: str, split: str) -> str:
    """PCK@0.2 over the 12 limb joints per orientation group, one line per model (flip test off,
    or on when only flip-test rows were run); "" when the data is not LSP-14."""
    from repose_tf.metrics import ORIENTATION_GROUPS, ORIENTATION_RULE

    rows = [r for r in rows if r["orientation"] is not None]
    if not rows:
        return ""
    flip = all(r["flip"] for r in rows)
    rows = [r for r in rows if r["flip"] == flip]
    counts = {g: rows[0]["orientation"][g].num_images for g in ORIENTATION_GROUPS}
    shown = [g for g in ORIENTATION_GROUPS if g != "unknown" or counts[g]]
    key = "PCK@0.2 (12 limb joints)"
    total = rows[0]["results"][key].num_images
    head = [
        "model",
        "runtime",
        *(f"{g.replace('_', ' ')} (n={counts[g]})" for g in shown),
        f"all (n={total})",
    ]
    body = [
        [
            r["name"],
            r["runtime"],
            *(_pck(r["orientation"][g].mean) for g in shown),
            _pck(r["results"][key].mean),
        ]
        for r in rows
    ]
    lines = [
        f"Per body orientation, {key}, flip test {'on' if flip else 'off'}, {dataset} {split}:",
        "",
        *markdown_table(head, body, align="llr"),
    ]
    lines += ["", f"n = scored images ({counts['unknown']} unknown); {ORIENTATION_RULE}."]
    return "\n".join(lines)


def _pck(value: float) -> str:
    return "-" if value != value else f"{value:.2f}"  # NaN: a group without a scored image


def report(parts: dict[str, list[dict]], dataset: str) -> str:
    """Every part's tables, in --split order."""
    return "\n\n".join(tables(rows, dataset, split) for split, rows in parts.items())


def flagged_parts(parts: dict[str, list[dict]], max_drop: float) -> list[str]:
    """:func:`flagged` within each part (a model is compared with the reference on the same images)."""
    return [f"{split}: {f}" for split, rows in parts.items() for f in flagged(rows, max_drop)]


def to_json(parts: dict[str, list[dict]], args) -> dict:
    """Every figure per part, per model and flip, per orientation group (``PCKResult.to_dict``)."""

    def row(r: dict) -> dict:
        out = {k: v for k, v in r.items() if k not in ("results", "curve", "orientation")}
        out["results"] = {k: v.to_dict() for k, v in r["results"].items()}
        if r["orientation"] is not None:
            out["orientation"] = {g: v.to_dict() for g, v in r["orientation"].items()}
        return out

    from repose_tf.evaluate import split_title

    return {
        "dataset": args.dataset,
        "splits": list(parts),
        "limit": args.limit,
        "flagged": flagged_parts(parts, args.max_drop),
        "parts": {
            split: {
                "split": split,
                "title": split_title(args.dataset, split),
                "orientation_counts": {g: v.num_images for g, v in rows[0]["orientation"].items()}
                if rows[0]["orientation"] is not None
                else None,
                "rows": [row(r) for r in rows],
            }
            for split, rows in parts.items()
        },
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    from repose_tf.data import DataError
    from repose_tf.export import ExportError

    try:
        parts = evaluate_models(args)
    except (FileNotFoundError, ValueError, DataError, ExportError) as e:
        return refuse(e)
    text = report(parts, args.dataset)
    flags_ = flagged_parts(parts, args.max_drop)
    print("\n" + text)
    for f in flags_:
        print(f"FLAG: {f}")
    if args.plot:
        from repose_tf import metrics

        many = len(parts) > 1
        curves = {
            f"{split}: {r['label']}" if many else r["label"]: r["curve"]
            for split, rows in parts.items()
            for r in rows
        }
        metrics.plot_pck_curves(curves, args.plot, title=f"{args.dataset} {', '.join(parts)}")
        print(f"plot: {args.plot}")
    if args.output_json:
        Path(args.output_json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output_json).write_text(json.dumps(to_json(parts, args), indent=2, default=float))
        print(f"json: {args.output_json}")
    if args.doc:
        cmd = invocation("evaluate_models.py", argv)
        note = "".join(f"\n\n**Flagged:** {f}" for f in flags_)
        write_marked_section(Path(args.doc), START, END, f"`{cmd}`\n\n{text}{note}")
        print(f"doc: {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
