"""Verify an exported model against its Keras source on real images, through the evaluate code path.

    rep = verify_export("out/m_int8.tflite", "models/repose_lsp14.keras", limit=200)
    print(rep.summary()); rep.write_json("out/m_int8.verify.json")

Both models run through :func:`repose_tf.evaluate.predict_dataset` on the first ``limit`` LSPET
validation samples (THE evaluation crop, no augmentation) and are scored with
:func:`repose_tf.evaluate.score` (PCK@0.2, visible joints). Reported:

* heatmaps: max and mean absolute difference to Keras (first ``max_diff_images`` images);
* decoded keypoints (crop pixels): mean distance to Keras' and % within 1 px (all images);
* PCK@0.2 of Keras (float32) and of the export, and the drop in points.

A drop of more than ``pck_drop_limit`` points (default 1) sets ``accuracy_flag = 1`` in the JSON
report and prints a loud WARNING line (int8 is what usually trips it).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from repose_tf import codec
from repose_tf.paths import find_lspet_dir

__all__ = [
    "DEFAULT_PCK_DROP_LIMIT",
    "DEFAULT_VERIFY_LIMIT",
    "ReferenceRun",
    "VerifyReport",
    "default_lspet_dir",
    "reference_run",
    "verify_and_report",
    "verify_export",
]

DEFAULT_VERIFY_LIMIT = 200
DEFAULT_PCK_DROP_LIMIT = 1.0
#: Heatmap max-abs-diff tolerances per variant (heatmap peaks are ~1), used for the pass/fail line.
TOLERANCES = {
    "keras": 1e-5,
    "none": 1e-3,
    "onnx": 1e-3,
    "float16": 0.05,
    "dynamic": 0.25,
    "int8": 0.35,
    "qat": 0.5,
}


def default_lspet_dir() -> Path | None:
    """``$REPOSE_SHARED/data/lspet`` or ``../shared/data/lspet`` beside the repository, if present."""
    return find_lspet_dir()


class _Recorder:
    """Wraps a predictor; keeps decoded crop keypoints of every batch and the first heatmaps."""

    def __init__(self, predictor, keep: int):
        self.p = predictor
        self.input_size = predictor.input_size
        self.keypoint_set = predictor.keypoint_set
        self.keep = keep
        self.kept: list[np.ndarray] = []
        self.keypoints: list[np.ndarray] = []
        self.seconds = 0.0

    def heatmaps(self, images: np.ndarray) -> np.ndarray:
        t = time.perf_counter()
        hm = self.p.heatmaps(images)
        self.seconds += time.perf_counter() - t
        have = sum(len(h) for h in self.kept)
        if have < self.keep:
            self.kept.append(np.array(hm[: self.keep - have], np.float32))
        self.keypoints.append(codec.decode(hm)[0])
        return hm

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        k = self.keypoint_set.num_keypoints
        n = self.input_size
        hm = np.concatenate(self.kept) if self.kept else np.zeros((0, n, n, k), np.float32)
        return hm, np.concatenate(self.keypoints)


@dataclass
class ReferenceRun:
    """The Keras (float32) side of a verification, reusable across several exports."""

    label: str
    heatmaps: np.ndarray  # (M, n, n, K), first images
    keypoints: np.ndarray  # (N, K, 2) crop pixels
    pck: Any  # metrics.PCKResult
    dataset: str
    split: str
    data_dir: str
    limit: int | None
    seconds: float


def _as_predictor(model, num_threads=None, config=None):
    from repose_tf.runtime import Predictor

    if hasattr(model, "heatmaps"):
        return model
    if isinstance(model, (str, os.PathLike)):
        return Predictor.load(model, num_threads=num_threads, config=config)
    return Predictor.from_model(model)


def _run(predictor, dataset, data_dir, split, limit, keep):
    from repose_tf.data import get_dataset
    from repose_tf.evaluate import DATASET_KEYPOINTS, predict_dataset, score

    ds = get_dataset(dataset, data_dir, split, DATASET_KEYPOINTS[dataset.lower()])
    rec = _Recorder(predictor, keep)
    ps = predict_dataset(rec, ds, limit=limit, batch_size=16, progress=False)
    hm, kp = rec.result()
    return hm, kp, score(ps, dataset), rec.seconds


def reference_run(
    reference: Any,
    *,
    data_dir: str | os.PathLike | None = None,
    dataset: str = "lspet",
    split: str = "val",
    limit: int | None = DEFAULT_VERIFY_LIMIT,
    max_diff_images: int = 200,
    config: Any = None,
) -> ReferenceRun:
    """Run the reference (Keras) model once; pass the result as ``reference=`` to :func:`verify_export`."""
    data_dir = data_dir or default_lspet_dir()
    if data_dir is None:
        raise FileNotFoundError("no LSPET data for verification: pass data_dir (e.g. ../shared/data/lspet)")
    pred = _as_predictor(reference, config=config)
    label = str(getattr(pred, "path", None) or "keras model")
    hm, kp, pck, secs = _run(pred, dataset, data_dir, split, limit, max_diff_images)
    return ReferenceRun(label, hm, kp, pck, dataset, split, str(data_dir), limit, secs)


@dataclass
class VerifyReport:
    model: str
    kind: str
    variant: str
    reference: str
    dataset: str
    split: str
    num_images: int
    num_heatmap_images: int
    max_abs_diff: float
    mean_abs_diff: float
    heatmap_tolerance: float | None
    heatmaps_within_tolerance: bool | None
    keypoint_mean_px: float
    keypoint_within_1px_pct: float
    pck_reference: float
    pck_exported: float
    pck_drop: float
    pck_drop_limit: float
    accuracy_flag: int
    seconds_reference: float
    seconds_exported: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def write_json(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    def summary(self) -> str:
        tol = ""
        if self.heatmap_tolerance is not None:
            ok = "ok" if self.heatmaps_within_tolerance else "EXCEEDS"
            tol = f" (tolerance {self.heatmap_tolerance:g}: {ok})"
        lines = [
            f"verify {self.model} ({self.variant}) vs {self.reference} on {self.num_images} "
            f"{self.dataset}/{self.split} images:",
            f"  heatmaps: max |diff| {self.max_abs_diff:.3g}, mean |diff| {self.mean_abs_diff:.3g}"
            f" over {self.num_heatmap_images} images{tol}",
            f"  keypoints: mean distance {self.keypoint_mean_px:.3f} px, "
            f"{self.keypoint_within_1px_pct:.1f}% within 1 px of Keras",
            f"  PCK@0.2: Keras float32 {self.pck_reference:.2f}, export {self.pck_exported:.2f} "
            f"(drop {self.pck_drop:+.2f} points, limit {self.pck_drop_limit:g})",
        ]
        lines += [f"  {w}" for w in self.warnings]
        return "\n".join(lines)


def verify_export(
    exported: Any,
    reference: Any,
    *,
    variant: str | None = None,
    data_dir: str | os.PathLike | None = None,
    dataset: str = "lspet",
    split: str = "val",
    limit: int | None = DEFAULT_VERIFY_LIMIT,
    pck_drop_limit: float = DEFAULT_PCK_DROP_LIMIT,
    max_diff_images: int = 200,
    num_threads: int | None = None,
    config: Any = None,
) -> VerifyReport:
    """Compare ``exported`` (a model path or predictor) with ``reference`` (Keras model, path, or a
    :class:`ReferenceRun`) on real images; see the module docstring for what is measured."""
    if isinstance(reference, ReferenceRun):
        ref = reference
        dataset, split, data_dir, limit = ref.dataset, ref.split, ref.data_dir, ref.limit
    else:
        ref = reference_run(
            reference,
            data_dir=data_dir,
            dataset=dataset,
            split=split,
            limit=limit,
            max_diff_images=max_diff_images,
            config=config,
        )
    pred = _as_predictor(exported, num_threads=num_threads)
    if pred.input_size != ref.heatmaps.shape[1] or pred.keypoint_set.num_keypoints != ref.keypoints.shape[1]:
        raise ValueError(f"{exported}: input size / keypoints do not match the reference model")
    hm, kp, pck, secs = _run(pred, dataset, ref.data_dir, split, limit, len(ref.heatmaps))
    if variant is None:
        variant = _variant_of(pred)
    m = min(len(hm), len(ref.heatmaps))
    diff = np.abs(hm[:m] - ref.heatmaps[:m]) if m else np.zeros(1, np.float32)
    dist = np.linalg.norm(kp - ref.keypoints, axis=-1)
    tol = TOLERANCES.get(variant)
    drop = float(ref.pck.mean - pck.mean)
    flag = int(drop > pck_drop_limit)
    warnings = []
    if flag:
        warnings.append(
            f"WARNING: {variant} PCK@0.2 is {drop:.2f} points below float32 Keras "
            f"({pck.mean:.2f} vs {ref.pck.mean:.2f}; limit {pck_drop_limit:g}) -- ACCURACY FLAG SET"
        )
    within = None if tol is None else bool(diff.max() <= tol)
    if within is False:
        warnings.append(
            f"WARNING: heatmap max |diff| {diff.max():.3g} exceeds the {variant} tolerance {tol:g}"
        )
    return VerifyReport(
        model=str(getattr(pred, "path", None) or exported),
        kind=pred.kind,
        variant=variant,
        reference=ref.label,
        dataset=dataset,
        split=split,
        num_images=int(len(kp)),
        num_heatmap_images=int(m),
        max_abs_diff=float(diff.max()),
        mean_abs_diff=float(diff.mean()),
        heatmap_tolerance=tol,
        heatmaps_within_tolerance=within,
        keypoint_mean_px=float(dist.mean()),
        keypoint_within_1px_pct=float(100.0 * (dist <= 1.0).mean()),
        pck_reference=float(ref.pck.mean),
        pck_exported=float(pck.mean),
        pck_drop=drop,
        pck_drop_limit=float(pck_drop_limit),
        accuracy_flag=flag,
        seconds_reference=round(ref.seconds, 2),
        seconds_exported=round(secs, 2),
        warnings=warnings,
    )


def _variant_of(pred) -> str:
    """none / float16 / dynamic / int8 from a TFLite sidecar; onnx / keras otherwise."""
    if pred.kind == "tflite":
        sc = getattr(pred, "sidecar", None)
        return sc["quantize"] if sc else "tflite"
    return pred.kind


def verify_and_report(
    result,
    reference: Any,
    *,
    report_path: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    limit: int | None = DEFAULT_VERIFY_LIMIT,
    pck_drop_limit: float = DEFAULT_PCK_DROP_LIMIT,
    variant: str | None = None,
    config: Any = None,
    out=print,
) -> VerifyReport | None:
    """What the export CLIs run after an export: verify, print, write ``<output>.verify.json``.

    The JSON holds the export summary (``export``) and the verification (``verification``, with
    ``accuracy_flag``). Without LSPET data the verification is skipped with a printed note.
    """
    data_dir = data_dir or default_lspet_dir()
    report_path = Path(report_path) if report_path else Path(result.path).with_suffix(".verify.json")
    payload = {"export": result.to_dict()}
    rep = None
    if data_dir is None or not Path(data_dir).is_dir():
        out("verification skipped: no LSPET data (pass --verify_data_dir, e.g. ../shared/data/lspet)")
        payload["verification"] = None
    else:
        rep = verify_export(
            result.path,
            reference,
            variant=variant,
            data_dir=data_dir,
            limit=limit,
            pck_drop_limit=pck_drop_limit,
            config=config,
        )
        result.verification = rep
        out(rep.summary())
        if rep.accuracy_flag:
            bar = "!" * 100
            out(f"{bar}\n{rep.warnings[0]}\n{bar}")
        payload["verification"] = rep.to_dict()
        payload["accuracy_flag"] = rep.accuracy_flag
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    out(f"report: {report_path}")
    return rep
