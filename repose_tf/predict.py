"""``python -m repose_tf.predict``: keypoints as JSON and skeleton overlays for images, folders or videos.

    python -m repose_tf.predict --input photo.jpg --output_dir out/
    python -m repose_tf.predict --model run/model.keras --input clips/ --output_dir out/ --box 40,10,200,380

Works with any model file the runtime loads (.keras, .weights.h5, .tflite, .onnx). Without
``--box`` / ``--center``+``--scale`` the whole image (padded to a square) is the person crop.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

from repose_tf import codec
from repose_tf.cli import absl_main, fail
from repose_tf.config import missing_model_hint, shipped_model_path
from repose_tf.keypoints import KeypointSet

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_EXTS = {".mp4", ".avi", ".mov", ".mkv", ".webm"}
#: The shipped model in the models directory (``$REPOSE_MODELS_DIR``, default a checkout's models/).
DEFAULT_MODEL = shipped_model_path()

# BGR colours: right side warm, left side cool, centre green (the paper's person-centric convention).
_RIGHT, _LEFT, _CENTRE = (0, 140, 255), (255, 160, 0), (60, 200, 60)


def _side(name: str):
    return _RIGHT if name.startswith("r_") else _LEFT if name.startswith("l_") else _CENTRE


def draw_pose(
    image_bgr: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, kps: KeypointSet, min_score: float = 0.1
) -> np.ndarray:
    """Skeleton overlay: limbs coloured by side, joints as dots; low-score joints are skipped."""
    out = image_bgr.copy()
    h, w = out.shape[:2]
    thick = max(2, round(max(h, w) / 200))
    ok = np.isfinite(keypoints).all(-1) & (scores >= min_score)
    for a, b in kps.skeleton:
        if ok[a] and ok[b]:
            na, nb = kps.names[a], kps.names[b]
            color = _side(na) if _side(na) == _side(nb) else _CENTRE
            pa, pb = tuple(np.round(keypoints[a]).astype(int)), tuple(np.round(keypoints[b]).astype(int))
            cv2.line(out, pa, pb, color, thick, cv2.LINE_AA)
    for i, name in enumerate(kps.names):
        if ok[i]:
            p = tuple(np.round(keypoints[i]).astype(int))
            cv2.circle(out, p, thick + 2, _side(name), -1, cv2.LINE_AA)
            cv2.circle(out, p, thick + 2, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def prediction_sheet(dataset, predictions, num: int = 8, tile: int = 256, cols: int = 4) -> np.ndarray:
    """A grid of ``num`` evenly spaced images of an evaluation run with the predicted skeletons
    drawn on them (BGR), so a person sees what a model learned instead of reading a table.

    ``predictions`` is the :class:`repose_tf.evaluate.PredictionSet` of ``dataset`` (image ``i`` of
    the run is sample ``i``); ground-truth joints are small white rings.
    """
    from repose_tf.keypoints import get_keypoint_set

    kps = get_keypoint_set(predictions.keypoint_set)
    n = len(predictions.ids)
    if n == 0:
        raise ValueError("prediction_sheet: the run has no images")
    picks = np.unique(np.linspace(0, n - 1, min(num, n)).round().astype(int))
    tiles = []
    for i in picks:
        rgb, _ = dataset.load_image(int(i))
        img = draw_pose(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), predictions.pred[i], predictions.scores[i], kps)
        for (x, y), m in zip(predictions.gt[i], predictions.mask[i], strict=True):
            if m and np.isfinite([x, y]).all():
                cv2.circle(img, (round(float(x)), round(float(y))), 3, (255, 255, 255), 1, cv2.LINE_AA)
        h, w = img.shape[:2]
        scale = tile / max(h, w)
        img = cv2.resize(
            img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
        canvas = np.full((tile, tile, 3), 32, np.uint8)
        y0, x0 = (tile - img.shape[0]) // 2, (tile - img.shape[1]) // 2
        canvas[y0 : y0 + img.shape[0], x0 : x0 + img.shape[1]] = img
        cv2.putText(canvas, str(predictions.ids[i])[:24], (4, tile - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (255, 255, 255), 1, cv2.LINE_AA)  # fmt: skip
        tiles.append(canvas)
    cols = min(cols, len(tiles))
    tiles += [np.full_like(tiles[0], 32)] * (-len(tiles) % cols)
    return np.vstack([np.hstack(tiles[r : r + cols]) for r in range(0, len(tiles), cols)])


class PosePredictor:
    """Image in, keypoints out: crop (whole image or a box), heatmaps, sub-pixel decode, map back."""

    def __init__(self, model=None, flip_test: bool = False, num_threads: int | None = None):
        from repose_tf.evaluate import as_predictor

        if model is None and not shipped_model_path().is_file():
            raise FileNotFoundError(f"no --model given and {missing_model_hint()}; or pass --model")
        path = model if model is not None else shipped_model_path()
        if isinstance(path, (str, Path)) and not Path(path).exists():
            raise FileNotFoundError(f"model file not found: {path}")
        self.runtime = as_predictor(path, num_threads=num_threads)
        self.keypoint_set = self.runtime.keypoint_set
        self.flip_test = flip_test

    def __call__(self, image_rgb: np.ndarray, center=None, box_size=None) -> dict:
        from repose_tf.data import inverse_map, prepare_image

        crop, affine = prepare_image(image_rgb, self.runtime.input_size, center, box_size)
        hm = self.runtime.heatmaps(crop[None])
        if self.flip_test:
            hm_f = self.runtime.heatmaps(np.ascontiguousarray(crop[None, :, ::-1]))
            hm = codec.flip_average(hm, hm_f, self.keypoint_set.flip_permutation())
        kp, sc = codec.decode(hm)
        kp = inverse_map(kp[0], affine)
        return {"keypoints": kp, "scores": sc[0]}


def _box_args(box: str | None, center: str | None, scale: float | None):
    if box:
        try:
            x, y, w, h = (float(v) for v in box.split(","))
        except ValueError:
            raise ValueError(f"--box must be x,y,w,h in pixels, got {box!r}") from None
        from repose_tf.data import BOX_SCALE

        return np.array([x + (w - 1) / 2, y + (h - 1) / 2], np.float32), BOX_SCALE * max(w, h)
    if center:
        if scale is None:
            raise ValueError("--center needs --scale (person height / 200 px, MPII convention)")
        try:
            cx, cy = (float(v) for v in center.split(","))
        except ValueError:
            raise ValueError(f"--center must be x,y, got {center!r}") from None
        return np.array([cx, cy], np.float32), 200.0 * 1.25 * scale
    return None, None


def _record(name: str, res: dict, kps: KeypointSet, frame: int | None = None) -> dict:
    rec = {
        "file": name,
        "keypoints": {
            n: {"x": float(p[0]), "y": float(p[1]), "score": float(s)}
            for n, p, s in zip(kps.names, res["keypoints"], res["scores"], strict=True)
        },
    }
    if frame is not None:
        rec["frame"] = frame
    return rec


def run(
    input_path,
    output_dir,
    model=None,
    box=None,
    center=None,
    scale=None,
    flip_test=False,
    min_score=0.1,
) -> list[dict]:
    """Predict every image / video frame under ``input_path``; write overlays and keypoints.json."""
    from repose_tf.data import DataError, read_image

    inp, out = Path(input_path), Path(output_dir)
    if not inp.exists():
        raise FileNotFoundError(f"input not found: {inp}")
    c, s = _box_args(box, center, scale)
    pred = PosePredictor(model, flip_test=flip_test)
    print(f"model: {pred.runtime.describe()}{' (default)' if model is None else ''}")
    kps = pred.keypoint_set
    out.mkdir(parents=True, exist_ok=True)
    files = (
        sorted(p for p in inp.iterdir() if p.suffix.lower() in IMAGE_EXTS | VIDEO_EXTS)
        if inp.is_dir()
        else [inp]
    )
    if not files:
        raise FileNotFoundError(
            f"no images or videos in {inp} ({', '.join(sorted(IMAGE_EXTS | VIDEO_EXTS))})"
        )
    records, skipped = [], []
    for f in files:
        if f.suffix.lower() in VIDEO_EXTS:
            records += _video(f, out, pred, kps, c, s, min_score)
            continue
        try:
            rgb, _ = read_image(f)
        except (DataError, OSError) as e:
            skipped.append(f"{f}: {e}")
            continue
        res = pred(rgb, c, s)
        overlay = draw_pose(
            cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), res["keypoints"], res["scores"], kps, min_score
        )
        cv2.imwrite(str(out / f"{f.stem}_pose.png"), overlay)
        records.append(_record(f.name, res, kps))
        print(f"{f.name}: {out / (f.stem + '_pose.png')}")
    (out / "keypoints.json").write_text(
        json.dumps(
            {
                "model": pred.runtime.describe(),
                "keypoint_set": kps.name,
                "skeleton": kps.skeleton,
                "predictions": records,
            },
            indent=1,
        )  # fmt: skip
    )
    print(f"keypoints: {out / 'keypoints.json'} ({len(records)} predictions)")
    if skipped:
        print(f"skipped {len(skipped)} unreadable file(s):\n  " + "\n  ".join(skipped), file=sys.stderr)
    return records


def _video(path: Path, out: Path, pred, kps, c, s, min_score) -> list[dict]:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"cannot open video {path}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    writer, records, i = None, [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        res = pred(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), c, s)
        frame = draw_pose(bgr, res["keypoints"], res["scores"], kps, min_score)
        if writer is None:
            h, w = frame.shape[:2]
            writer = cv2.VideoWriter(
                str(out / f"{path.stem}_pose.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h)
            )
        writer.write(frame)
        records.append(_record(path.name, res, kps, frame=i))
        i += 1
    cap.release()
    if writer is not None:
        writer.release()
    print(f"{path.name}: {i} frames -> {out / (path.stem + '_pose.mp4')}")
    return records


def define_flags() -> None:
    """Register the prediction flags (idempotent; called by :func:`main`, not on import)."""
    from absl import flags

    if "input" in flags.FLAGS and "min_score" in flags.FLAGS:
        return
    flags.DEFINE_string(
        "model", None, f"Model file (.keras/.weights.h5/.tflite/.onnx). Default: {DEFAULT_MODEL}"
    )
    flags.DEFINE_string("input", None, "An image, a directory of images, or a video.")
    flags.DEFINE_string("output_dir", "predictions", "Where overlays and keypoints.json go.")
    flags.DEFINE_string("box", None, "Person box x,y,w,h in pixels (crop = 1.25 x the longer side).")
    flags.DEFINE_string("center", None, "Person centre x,y (with --scale, MPII convention).")
    flags.DEFINE_float("scale", None, "Person scale: height / 200 px (MPII convention).")
    flags.DEFINE_bool("flip_test", False, "Average with the mirrored input's heatmaps.")
    flags.DEFINE_float("min_score", 0.1, "Hide joints whose heatmap peak is below this.")
    flags.mark_flag_as_required("input")


def _main(argv) -> None:
    from absl import flags

    del argv
    f = flags.FLAGS
    try:
        run(f.input, f.output_dir, f.model, f.box, f.center, f.scale, f.flip_test, f.min_score)
    except (FileNotFoundError, ValueError) as e:
        fail(e)


def main(argv=None) -> int:
    """Entry point (``repose-predict``): parse ``argv`` (default ``sys.argv``) and predict."""
    return absl_main(__name__, __doc__, define_flags, _main, argv, prog="python -m repose_tf.predict")


if __name__ == "__main__":
    sys.exit(main())
