"""Compare RePose with a peer model (MoveNet) on the same LSPET validation crops, in one run.

    python tools/compare_peers.py                                   # models/ default vs MoveNet
    python tools/compare_peers.py --model runs/lspet/model.keras --model out/m_int8.tflite --limit 200

Both models see the same crop of every image: the square box of the annotated joints, 1.25x its
longer side (the project's evaluation crop), resized to each model's own input (128 for RePose,
192 for MoveNet Lightning). MoveNet's COCO-17 keypoints are mapped to LSP-14; neck and head top
have no COCO counterpart, so the headline metric is PCK@0.2 over the **12 limb joints** (LSPET
convention: visible joints only, torso-normalised; images whose torso joints are not visible are
skipped for both models). Latency is the median single-image inference time of each model's own
runtime (TFLite / ONNX / Keras), --threads threads, measured in this process one model after the
other. --overlay_dir writes side-by-side overlays (RePose | peer) for the first --overlays images.

--split takes a comma list and reports each part on its own (default: select,report, the two
interleaved halves of 8001-9000: `report` is the part for published figures, `select` the part
for choosing; `val` is both together). Every part's table adds PCK@0.2 over the 12 limb joints
per body orientation (upright / sideways / upside down by the ground-truth torso, with the image
count of each; :mod:`repose_tf.metrics.orientation`). Each model predicts each image once per
part; --limit, --overlays apply per part.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from repose_tf.cli import HelpFormatter, invocation, markdown_table, refuse, write_marked_section  # noqa: E402
from repose_tf.paths import default_model, lspet_dir, shared_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_dir()
DEFAULT_MODEL = default_model()
DEFAULT_PEER = SHARED / "peers" / "movenet_single_pose_lightning_ptq.tflite"
DEFAULT_DATA = lspet_dir()
START, END = "<!-- compare-peers:start -->", "<!-- compare-peers:end -->"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="compare_peers.py", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument(
        "--model",
        action="append",
        help=f"RePose model file(s) (.keras/.weights.h5/.tflite/.onnx); repeat for several. "
        f"Default: models/{DEFAULT_MODEL.name}",
    )
    p.add_argument("--peer", action="append", help=f"Peer MoveNet .tflite file(s). Default: {DEFAULT_PEER}")
    p.add_argument("--data_dir", default=str(DEFAULT_DATA), help="LSPET directory (joints.mat + images).")
    p.add_argument(
        "--split",
        default="select,report",
        help="LSPET split(s), comma-separated, each reported on its own: report = even images "
        "8002-9000 (published figures), select = odd 8001-8999 (choosing), val = both.",
    )
    p.add_argument("--limit", type=int, default=None, help="Only the first N images of each split.")
    p.add_argument("--threads", type=int, default=1, help="Inference threads (accuracy and latency).")
    p.add_argument("--latency_runs", type=int, default=50, help="Timed single-image runs per model.")
    p.add_argument("--output_json", default=None, help="Write every figure as JSON here.")
    p.add_argument("--overlay_dir", default=None, help="Write side-by-side overlay PNGs here.")
    p.add_argument("--overlays", type=int, default=6, help="Number of overlay images.")
    p.add_argument(
        "--doc", default=None, help=f"Also write the table into this Markdown file between {START} markers."
    )
    p.add_argument("--no_progress", action="store_true", help="No progress bars.")
    return p.parse_args(argv)


def _load_models(args):
    from repose_tf.peers import MoveNetPredictor
    from repose_tf.runtime import Predictor

    paths = args.model or [str(DEFAULT_MODEL)]
    peers = args.peer or [str(DEFAULT_PEER)]
    out = []
    for path in paths:
        if not Path(path).exists():
            hint = " (no trained model ships yet: pass --model)" if Path(path) == DEFAULT_MODEL else ""
            raise FileNotFoundError(f"{path}: model not found{hint}")
        out.append((Path(path).name, "RePose", Predictor.load(path, num_threads=args.threads)))
    for path in peers:
        out.append((Path(path).name, "peer", MoveNetPredictor(path, num_threads=args.threads)))
    return out


def _latency(pred, runs: int) -> float:
    import numpy as np

    from repose_tf.peers import latency_ms

    x = np.random.default_rng(0).uniform(0, 255, (1, pred.input_size, pred.input_size, 3)).astype("float32")
    if getattr(pred, "outputs_heatmaps", True):
        return latency_ms(pred.heatmaps, x, runs=runs)
    return latency_ms(lambda im: pred.invoke(im[0]), x, runs=runs)


def _overlays(rows, ds, out_dir: Path, n: int) -> list[Path]:
    """Side-by-side overlays of the first ``n`` scored images: one panel per model."""
    import cv2
    import numpy as np

    from repose_tf.keypoints import get_keypoint_set
    from repose_tf.predict import draw_pose

    out_dir.mkdir(parents=True, exist_ok=True)
    kps = get_keypoint_set("lsp14")
    written = []
    for i in range(min(n, len(ds))):
        s = ds.sample(i)
        img, _ = ds.load_image(i)
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        c, side = s.center, s.box_size
        x0, y0 = int(max(0, c[0] - side / 2)), int(max(0, c[1] - side / 2))
        x1, y1 = int(min(bgr.shape[1], c[0] + side / 2)), int(min(bgr.shape[0], c[1] + side / 2))
        panels = []
        for r in rows:
            kp = r["ps"].pred[i].copy()
            sc = np.where(np.isfinite(kp).all(-1), 1.0, 0.0)
            panel = draw_pose(bgr, np.nan_to_num(kp), sc, kps, min_score=0.5)[y0:y1, x0:x1]
            panel = cv2.resize(panel, (256, round(256 * panel.shape[0] / max(panel.shape[1], 1))))
            cv2.putText(panel, r["name"][:30], (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1)
            panels.append(panel)
        h = max(p.shape[0] for p in panels)
        panels = [cv2.copyMakeBorder(p, 0, h - p.shape[0], 0, 2, cv2.BORDER_CONSTANT) for p in panels]
        path = out_dir / f"compare_{s.id.replace('/', '_')}.png"
        if not cv2.imwrite(str(path), np.concatenate(panels, axis=1)):
            raise OSError(f"{path}: could not write the overlay image")
        written.append(path)
    return written


def compare(args) -> dict:
    """``{"splits", "parts": {split: {"title", "rows"}}, ...}``: one row per model and part."""
    from repose_tf import metrics
    from repose_tf.evaluate import load_splits, parse_splits, predict_dataset, score, split_title

    splits = parse_splits(args.split)
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit {args.limit}: expected at least 1 image per split")
    datasets = load_splits("lspet", args.data_dir, splits, "lsp14")
    models = _load_models(args)
    parts = {s: {"split": s, "title": split_title("lspet", s), "rows": []} for s in splits}
    for name, role, pred in models:
        for split, ds in datasets.items():  # one prediction per image and part; groups reuse it
            ps = predict_dataset(pred, ds, limit=args.limit, progress=not args.no_progress)
            limbs = score(ps, "lspet", joints=metrics.LSP_LIMB_JOINTS)
            limbs01 = score(ps, "lspet", threshold=0.1, joints=metrics.LSP_LIMB_JOINTS)
            orient = metrics.score_by_orientation(ps, "lspet", joints=metrics.LSP_LIMB_JOINTS)
            parts[split]["rows"].append(
                {
                    "name": name,
                    "role": role,
                    "runtime": pred.kind,
                    "input": pred.input_size,
                    "pck02_limbs": limbs.mean,
                    "pck01_limbs": limbs01.mean,
                    "per_group": limbs.to_dict()["per_group"],
                    "num_images": limbs.num_images,
                    "num_joints": limbs.num_joints,
                    "num_skipped_images": limbs.num_skipped_images,
                    "orientation": orient,
                    "ps": ps,
                }
            )
        latency = _latency(pred, args.latency_runs)  # the runtime's, not the images': once per model
        for part in parts.values():
            part["rows"][-1]["latency_ms"] = latency
    if args.overlay_dir:
        for split, ds in datasets.items():
            for p in _overlays(parts[split]["rows"], ds, Path(args.overlay_dir), args.overlays):
                print(f"overlay: {p}")
    return {
        "splits": splits,
        "parts": parts,
        "data_dir": args.data_dir,
        "limit": args.limit,
        "threads": args.threads,
    }


def _pck(value: float) -> str:
    return "-" if value != value else f"{value:.2f}"  # NaN: a group without a scored image


def part_table(part: dict) -> str:
    """One part's Markdown: title, the model table with orientation columns, and what it counts."""
    from repose_tf.metrics import ORIENTATION_GROUPS, ORIENTATION_RULE

    groups = ["Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle"]
    r0 = part["rows"][0]
    counts = {g: r0["orientation"][g].num_images for g in ORIENTATION_GROUPS}
    shown = [g for g in ORIENTATION_GROUPS if g != "unknown" or counts[g]]
    head = ["model", "role", "runtime", "input", *groups, "PCK@0.2 (12 limbs)", "PCK@0.1 (12 limbs)"]
    head += [f"{g.replace('_', ' ')} (n={counts[g]})" for g in shown] + ["latency ms"]
    rows = [
        [r["name"], r["role"], r["runtime"], r["input"]]
        + [f"{r['per_group'][g]:.2f}" for g in groups]
        + [f"**{r['pck02_limbs']:.2f}**", f"{r['pck01_limbs']:.2f}"]
        + [_pck(r["orientation"][g].mean) for g in shown]
        + [f"{r['latency_ms']:.1f}"]
        for r in part["rows"]
    ]
    lines = [f"**{part['title']}**", "", *markdown_table(head, rows, align="llllr"), ""]
    lines.append(
        f"LSPET {part['split']}: {r0['num_images']} images scored "
        f"({r0['num_skipped_images']} skipped: torso joints not visible), {r0['num_joints']} limb "
        f"joints. Orientation columns: PCK@0.2 over the 12 limb joints per group, n = scored images "
        f"({counts['unknown']} unknown); {ORIENTATION_RULE}."
    )
    return "\n".join(lines)


def table(result: dict) -> str:
    """Every part's table, in --split order, then the latency note they share."""
    text = "\n\n".join(part_table(p) for p in result["parts"].values())
    return (
        f"{text}\n\nLatency: median of single-image runs, {result['threads']} thread(s), once per "
        "model (the same for every part)."
    )


def to_json(result: dict) -> dict:
    """Every figure per part and per orientation group (``PCKResult.to_dict``), no predictions."""

    def row(r: dict) -> dict:
        out = {k: (None if v != v else v) for k, v in r.items() if k not in ("ps", "orientation")}
        out["orientation"] = {g: res.to_dict() for g, res in r["orientation"].items()}
        return out  # NaN (nothing scored) is null, as in PCKResult.to_dict

    parts = {
        split: {
            "split": split,
            "title": p["title"],
            "orientation_counts": {g: res.num_images for g, res in p["rows"][0]["orientation"].items()},
            "rows": [row(r) for r in p["rows"]],
        }
        for split, p in result["parts"].items()
    }
    return {**result, "parts": parts}


def write_doc(doc: Path, text: str, command: str) -> None:
    write_marked_section(doc, START, END, f"`{command}`\n\n{text}")


def main(argv=None) -> int:
    args = parse_args(argv)
    from repose_tf.data import DataError

    try:
        result = compare(args)
    except (FileNotFoundError, ValueError, DataError) as e:
        return refuse(e)
    text = table(result)
    print("\n" + text)
    if args.output_json:
        Path(args.output_json).write_text(json.dumps(to_json(result), indent=2, allow_nan=False))
        print(f"json: {args.output_json}")
    if args.doc:
        write_doc(Path(args.doc), text, invocation("compare_peers.py", argv))
        print(f"doc: {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
