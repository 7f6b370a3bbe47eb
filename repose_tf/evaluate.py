"""``python -m repose_tf.evaluate``: PCK@0.2 (LSP/LSPET) and PCKh@0.5 (MPII) for any model file.

One code path for every runtime (``.keras``, ``.weights.h5``, ``.tflite``, ``.onnx`` through
:mod:`repose_tf.runtime`, or an in-memory Keras model), so exports are judged by the same
numbers: dataset -> evaluation crop (:class:`~repose_tf.data.SampleTransform`) -> heatmaps
(optionally flip-averaged) -> sub-pixel decode -> inverse affine -> :mod:`repose_tf.metrics`.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from repose_tf import codec, metrics
from repose_tf.cli import absl_main, fail
from repose_tf.keypoints import get_keypoint_set, mapping
from repose_tf.metrics.dataset import DATASET_METRIC, THRESHOLDS, curve, score  # noqa: F401 - re-exported

#: Keypoint set each dataset is scored in (its own annotation layout).
DATASET_KEYPOINTS = {
    "lsp": "lsp14",
    "lspet": "lsp14",
    "synthetic": "lsp14",
    "coco": "lsp14",
    "mpii": "mpii16",
}
#: What each half of LSPET validation is for (:mod:`repose_tf.data.lspet`), printed with every
#: table so a figure is never quoted from the part that chose it.
SPLIT_ROLES = {
    "select": "the part for choosing checkpoints, recipes and releases",
    "report": "the part for published figures; never used to choose",
}


def as_predictor(model, num_threads: int | None = None):
    """A predictor from a path (any runtime), a Keras model, or a predictor (returned as is)."""
    if hasattr(model, "heatmaps") or getattr(model, "outputs_heatmaps", True) is False:
        return model
    from repose_tf.runtime import Predictor

    if isinstance(model, (str, Path)):
        return Predictor.load(model, num_threads=num_threads)
    return Predictor.from_model(model, batch_size=32)


@dataclass
class PredictionSet:
    """Predictions and ground truth of one evaluation run, in original-image pixels."""

    pred: np.ndarray  # (N, K, 2) in the dataset's keypoint set; NaN where the model has no such joint
    scores: np.ndarray  # (N, K)
    gt: np.ndarray  # (N, K, 2)
    mask: np.ndarray  # (N, K) annotated
    visible: np.ndarray  # (N, K)
    ids: list[str]
    keypoint_set: str
    seconds: float

    def subset(self, images) -> PredictionSet:
        """The same run restricted to some images (an ``(N,)`` bool mask or indices), e.g. one
        orientation group, so a subset is scored without predicting again. ``seconds`` is the
        subset's share of the run's time."""
        n = len(self.ids)
        sel = np.asarray(images)
        if sel.dtype == bool:
            if sel.shape != (n,):
                raise ValueError(f"subset: expected a bool mask of shape ({n},), got {sel.shape}")
            idx = np.flatnonzero(sel)
        else:
            idx = sel.astype(np.int64).reshape(-1)
            if idx.size and (idx.min() < -n or idx.max() >= n):
                raise ValueError(f"subset: image indices must lie in 0..{n - 1}")
        return PredictionSet(
            self.pred[idx],
            self.scores[idx],
            self.gt[idx],
            self.mask[idx],
            self.visible[idx],
            [self.ids[i] for i in idx],
            self.keypoint_set,
            self.seconds * len(idx) / n if n else 0.0,
        )


def predict_dataset(
    predictor,
    dataset,
    *,
    flip_test: bool = False,
    limit: int | None = None,
    batch_size: int = 32,
    progress: bool = True,
) -> PredictionSet:
    """Run ``predictor`` on every sample of ``dataset`` (evaluation crop, no augmentation).

    ``predictor``: a path, a Keras model, a heatmap predictor, or a keypoint predictor
    (``outputs_heatmaps = False`` and ``predict(images) -> (xy, scores)``, e.g. a peer model).
    """
    runs = _predict(predictor, dataset, (flip_test,), limit, batch_size, progress)
    return runs[flip_test]


def predict_dataset_flip_pair(
    predictor, dataset, *, limit: int | None = None, batch_size: int = 32, progress: bool = True
) -> dict[bool, PredictionSet]:
    """``{False: plain, True: flip-averaged}`` from one pass (the plain heatmaps are computed once).

    Each set's ``seconds`` is its own cost: the plain one excludes the mirrored inference.
    """
    return _predict(predictor, dataset, (False, True), limit, batch_size, progress)


def predict_dataset_flips(
    predictor,
    dataset,
    flips=(False, True),
    *,
    limit: int | None = None,
    batch_size: int = 32,
    progress: bool = True,
) -> dict[bool, PredictionSet]:
    """``{flip_test: PredictionSet}`` for each of ``flips`` (``(False,)``, ``(True,)`` or both) from
    one pass: :func:`predict_dataset` for one, :func:`predict_dataset_flip_pair` for both."""
    flips = tuple(dict.fromkeys(bool(f) for f in flips))
    if not flips:
        raise ValueError("flips: at least one of False / True")
    return _predict(predictor, dataset, flips, limit, batch_size, progress)


def _predict(predictor, dataset, flips, limit, batch_size, progress) -> dict[bool, PredictionSet]:
    from repose_tf.data import SampleTransform, inverse_map, load_batch

    predictor = as_predictor(predictor)
    if any(flips) and not getattr(predictor, "outputs_heatmaps", True):
        raise ValueError(f"flip test needs heatmaps; {predictor.describe()} predicts keypoints only")
    ds_set = get_keypoint_set(dataset.keypoint_set)
    model_set = predictor.keypoint_set
    to_ds = mapping(model_set, ds_set)  # dataset joint -> model channel (-1: none)
    ok = to_ds >= 0
    transform = SampleTransform(predictor.input_size, ds_set, train=False)
    n = len(dataset) if limit is None else min(limit, len(dataset))
    flip_perm = model_set.flip_permutation()
    preds = {f: [] for f in flips}
    scores = {f: [] for f in flips}
    gts, masks, vis, ids = [], [], [], []
    mirrored_s = 0.0  # time spent on the mirrored inputs (not part of the plain run's cost)
    bar = _progress(n, "evaluate") if progress else None
    t0 = time.perf_counter()
    for start in range(0, n, batch_size):
        idx = np.arange(start, min(n, start + batch_size))
        batch = load_batch(dataset, transform, idx, keys=("image", "affine"))
        decoded = {}
        if getattr(predictor, "outputs_heatmaps", True):
            hm = predictor.heatmaps(batch["image"])
            if False in flips:
                decoded[False] = codec.decode(hm)
            if True in flips:
                t1 = time.perf_counter()
                hm_f = predictor.heatmaps(np.ascontiguousarray(batch["image"][:, :, ::-1]))
                mirrored_s += time.perf_counter() - t1
                decoded[True] = codec.decode(codec.flip_average(hm, hm_f, flip_perm))
        else:  # a keypoint regressor (peers.MoveNetPredictor): no heatmaps to flip-average
            decoded[False] = predictor.predict(batch["image"])
        for f, (kp, sc) in decoded.items():
            kp_orig = inverse_map(kp, batch["affine"])
            out = np.full((len(idx), ds_set.num_keypoints, 2), np.nan, np.float32)
            out_sc = np.zeros((len(idx), ds_set.num_keypoints), np.float32)
            out[:, ok] = kp_orig[:, to_ds[ok]]
            out_sc[:, ok] = sc[:, to_ds[ok]]
            preds[f].append(out)
            scores[f].append(out_sc)
        for i in idx:
            s = dataset.sample(int(i))
            gts.append(s.keypoints)
            masks.append(s.mask)
            vis.append(s.visible)
            ids.append(s.id)
        if bar is not None:
            bar.update(len(idx))
    if bar is not None:
        bar.close()
    total = time.perf_counter() - t0
    gt, mask, visible = np.stack(gts), np.stack(masks), np.stack(vis)
    return {
        f: PredictionSet(
            np.concatenate(preds[f]),
            np.concatenate(scores[f]),
            gt,
            mask,
            visible,
            list(ids),
            ds_set.name,
            total if f or len(flips) == 1 else total - mirrored_s,
        )
        for f in flips
    }


def parse_splits(spec: str) -> list[str]:
    """``"select,report"`` -> ``["select", "report"]``: the parts a report scores one by one.

    An empty or repeated name is a ValueError here; an unknown one is refused by the reader.
    """
    parts = [p.strip() for p in str(spec).split(",")]
    if not spec or not all(parts):
        raise ValueError(f"--split {spec!r}: empty split name (expected e.g. select,report)")
    twice = sorted({p for p in parts if parts.count(p) > 1})
    if twice:
        raise ValueError(f"--split {spec!r}: {', '.join(twice)} listed more than once")
    return parts


def load_splits(dataset: str, data_dir, splits: list[str], keypoint_set: str | None = None) -> dict:
    """``{split: dataset}`` for every part, read before any model loads so a bad split fails fast.

    A part without a single image is a ValueError (a report over nothing would print NaN).
    """
    from repose_tf.data import get_dataset

    ks = keypoint_set or DATASET_KEYPOINTS.get(dataset.lower(), "lsp14")
    out = {}
    for split in splits:
        ds = get_dataset(dataset, data_dir, split, ks)
        if len(ds) == 0:
            raise ValueError(f"{dataset} split {split!r} in {data_dir} has no images")
        out[split] = ds
    return out


def split_title(dataset: str, split: str) -> str:
    """A table's label: which images, and (LSPET ``select`` / ``report``) what the part is for."""
    name = "LSPET" if dataset.lower() == "lspet" else dataset
    if dataset.lower() != "lspet":
        return f"{name} `{split}`"
    from repose_tf.data.lspet import LSPET_SPLITS

    first, last, *stride = LSPET_SPLITS.get(split, (0, 0))
    kind = ("odd " if first % 2 else "even ") if stride == [2] else ""
    what = f" ({kind}images {first}-{last})" if first else ""
    role = SPLIT_ROLES.get(split)
    if role is None and split == "val":
        role = "select + report; `report` alone is the part for published figures"
    return f"{name} `{split}`{what}" + (f": {role}" if role else "")


def standard_results(ps: PredictionSet, dataset_name: str) -> dict:
    """The figures every report shows: the main metric, its tight variant, and (LSP-14) both over
    the 12 limb joints (the subset a COCO-17 peer can be compared on). ``{label: PCKResult}``."""
    main = score(ps, dataset_name)
    tight = score(ps, dataset_name, threshold=0.1 if main.metric.startswith("PCK@") else 0.25)
    results = {main.metric: main, tight.metric: tight}
    if ps.keypoint_set == "lsp14":
        for r in (main, tight):
            limbs = score(ps, dataset_name, threshold=r.threshold, joints=metrics.LSP_LIMB_JOINTS)
            results[f"{limbs.metric} (12 limb joints)"] = limbs
    return results


def evaluate_predictor(
    predictor,
    dataset: str = "lspet",
    data_dir=None,
    split: str = "val",
    *,
    limit: int | None = None,
    flip_test: bool = False,
    threshold: float | None = None,
    progress: bool = False,
):
    """Evaluate a model file / Keras model / predictor on a named dataset; returns a PCKResult."""
    from repose_tf.data import get_dataset

    ds = get_dataset(dataset, data_dir, split, DATASET_KEYPOINTS[dataset.lower()])
    ps = predict_dataset(predictor, ds, flip_test=flip_test, limit=limit, progress=progress)
    return score(ps, dataset, threshold)


def _progress(total: int, desc: str):
    try:
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="img", file=sys.stderr, leave=False)
    except ImportError:  # pragma: no cover
        return None


def define_flags() -> None:
    """Register the evaluation flags (idempotent; called by :func:`main`, not on import)."""
    from absl import flags

    if "model" in flags.FLAGS and "flip_test" in flags.FLAGS and "output_json" in flags.FLAGS:
        return

    flags.DEFINE_string("model", None, "Model file: .keras, .weights.h5 (+config), .tflite or .onnx.")
    flags.DEFINE_string("dataset", "lspet", "Dataset: lsp, lspet, mpii, coco, synthetic.")
    flags.DEFINE_string("data_dir", None, "Dataset directory (e.g. ../shared/data/lspet).")
    flags.DEFINE_string("split", "val", "Split: train / val / test.")
    flags.DEFINE_bool("flip_test", False, "Average with the heatmaps of the mirrored input.")
    flags.DEFINE_integer("limit", None, "Evaluate only the first N samples.")
    flags.DEFINE_integer("batch_size", 32, "Inference batch size.")
    flags.DEFINE_integer("num_threads", None, "Threads for TFLite / ONNX runtimes.")
    flags.DEFINE_string("output_json", None, "Write the results (tables, counts, curve) as JSON here.")
    flags.DEFINE_string(
        "plot", None, "Write a PCK-vs-threshold plot PNG here (default: beside --output_json)."
    )
    flags.mark_flag_as_required("model")


def main(argv=None) -> int:
    """Entry point (``repose-evaluate``): parse ``argv`` (default ``sys.argv``) and evaluate."""
    return absl_main(__name__, __doc__, define_flags, _main, argv, prog="python -m repose_tf.evaluate")


def _main(argv) -> None:
    from absl import flags

    del argv
    f = flags.FLAGS
    from repose_tf.data import DataError, get_dataset

    try:
        predictor = as_predictor(f.model, num_threads=f.num_threads)
        ds = get_dataset(f.dataset, f.data_dir, f.split, DATASET_KEYPOINTS.get(f.dataset.lower(), "lsp14"))
    except (FileNotFoundError, ValueError, DataError) as e:
        fail(e)
    ps = predict_dataset(predictor, ds, flip_test=f.flip_test, limit=f.limit, batch_size=f.batch_size)
    results = standard_results(ps, f.dataset)
    main_res = next(iter(results.values()))
    label = f"{Path(f.model).name}{' +flip' if f.flip_test else ''}"
    print(
        f"\n{label} on {f.dataset}/{f.split}: {len(ps.ids)} images, {main_res.num_joints} joints scored"
        f" ({main_res.num_skipped_images} images skipped: torso joints not visible),"
        f" {len(ps.ids) / ps.seconds:.1f} img/s\n"
    )
    print(metrics.format_markdown_table(results, digits=2))
    skipped = ds.report.summary() if hasattr(ds, "report") else ""
    if skipped:
        print(skipped)
    cur = curve(ps, f.dataset, label=label)
    plot = f.plot or (str(Path(f.output_json).with_suffix(".png")) if f.output_json else None)
    if plot:
        metrics.plot_pck_curves(
            cur, plot, groups=("Mean",), title=f"{main_res.metric.split('@')[0]} vs threshold"
        )
        print(f"plot: {plot}")
    if f.output_json:
        out = {
            "metric": main_res.metric,
            "mean": main_res.to_dict()["mean"],
            "per_group": main_res.to_dict()["per_group"],
            "num_images": main_res.num_images,
            "num_joints": main_res.num_joints,
            "model": str(f.model),
            "dataset": f.dataset,
            "split": f.split,
            "flip_test": f.flip_test,
            "results": {k: v.to_dict() for k, v in results.items()},
            "curve": cur.to_dict(),
        }
        Path(f.output_json).parent.mkdir(parents=True, exist_ok=True)
        Path(f.output_json).write_text(json.dumps(out, indent=2, allow_nan=False, default=_json_default))
        print(f"json: {f.output_json}")


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(type(o))


if __name__ == "__main__":
    sys.exit(main())
