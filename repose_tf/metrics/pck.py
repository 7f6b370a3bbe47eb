"""Generic PCK: the normalised-distance metric every convention is an instance of.

Each convention (``lsp``, ``mpii``) turns its inputs into a :class:`_Prepared` (normalised
distances, which joints are scored, how columns and the Mean are formed) and scores it here, so
thresholds and curves share one implementation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from repose_tf.metrics.results import PCKCurve, PCKResult

MeanMode = Literal["pooled", "joint_average"]


@dataclass(frozen=True)
class _Prepared:
    """Normalised distances and scoring rules, computed once and scored at any threshold."""

    ndist: np.ndarray  # (N, K) error / reference length; NaN or inf never hits
    scored: np.ndarray  # (N, K) bool
    mean_joints: tuple[int, ...]
    groups: dict[str, tuple[int, ...]]
    joint_names: tuple[str, ...]
    strict: bool
    mean_mode: MeanMode
    metric_prefix: str
    convention: str
    num_skipped_images: int = 0
    notes: tuple[str, ...] = ()
    # Float-operation order of the reference code: "matlab" (eval_pck.m), "hrnet" (evaluate()),
    # or "plain" (100 * hits / count, pooled 100 * hits / total).
    arithmetic: Literal["plain", "matlab", "hrnet"] = "plain"


def pck(
    pred: Any,
    gt: Any,
    norm: Any,
    *,
    threshold: float,
    mask: Any | None = None,
    joints: Sequence[int] | None = None,
    mean_joints: Sequence[int] | None = None,
    groups: Mapping[str, Sequence[int]] | None = None,
    joint_names: Sequence[str] | None = None,
    strict: bool = False,
    mean: MeanMode = "pooled",
    metric_prefix: str = "PCK",
    convention: str = "generic",
) -> PCKResult:
    """Generic PCK: joint k of image i hits iff ``||pred - gt|| / norm[i] <= threshold``.

    Args:
        pred, gt: ``(N, K, 2)``. A NaN prediction is a miss (never silently dropped).
        norm: ``(N,)`` per-image reference length (torso, head size, ...). A zero or non-finite
            reference makes that image's joints misses, as the MATLAB evaluators do.
        mask: ``(N, K)`` bool, joints that have ground truth to score (default: all).
        joints: the joint subset to score at all (default: all K), e.g. :data:`LSP_LIMB_JOINTS`.
        mean_joints: joints averaged into ``Mean`` and the columns (default: ``joints``);
            MPII scores pelvis/thorax per joint but leaves them out of the Mean.
        groups: column name -> joint indices; a column is the plain mean of its joints' PCK,
            i.e. (left + right) / 2. Joints outside ``mean_joints`` are ignored.
        strict: ``<`` instead of ``<=`` (Tompson/bearpaw MPII code).
        mean: ``"pooled"`` (hits / scored over ``mean_joints``: LSP, HRNet, official MPII) or
            ``"joint_average"`` (unweighted mean of per-joint PCK: Tompson/bearpaw).
    """
    prep = _prepare_generic(
        pred, gt, norm, mask=mask, joints=joints, mean_joints=mean_joints, groups=groups,
        joint_names=joint_names, strict=strict, mean=mean, metric_prefix=metric_prefix,
        convention=convention,
    )  # fmt: skip
    return _score(prep, _check_threshold(threshold))


def pck_curve(
    pred: Any,
    gt: Any,
    norm: Any,
    thresholds: Any,
    *,
    label: str = "",
    mask: Any | None = None,
    joints: Sequence[int] | None = None,
    mean_joints: Sequence[int] | None = None,
    groups: Mapping[str, Sequence[int]] | None = None,
    joint_names: Sequence[str] | None = None,
    strict: bool = False,
    mean: MeanMode = "pooled",
    metric_prefix: str = "PCK",
    convention: str = "generic",
) -> PCKCurve:
    """:func:`pck` at every threshold in ``thresholds`` (distances computed once)."""
    prep = _prepare_generic(
        pred, gt, norm, mask=mask, joints=joints, mean_joints=mean_joints, groups=groups,
        joint_names=joint_names, strict=strict, mean=mean, metric_prefix=metric_prefix,
        convention=convention,
    )  # fmt: skip
    return _curve(prep, thresholds, label)


def _prepare_generic(
    pred: Any,
    gt: Any,
    norm: Any,
    *,
    mask: Any | None,
    joints: Sequence[int] | None,
    mean_joints: Sequence[int] | None,
    groups: Mapping[str, Sequence[int]] | None,
    joint_names: Sequence[str] | None,
    strict: bool,
    mean: MeanMode,
    metric_prefix: str,
    convention: str,
) -> _Prepared:
    p = _points("pred", pred)
    n, k = p.shape[:2]
    g = _points("gt", gt, n=n, k=k)
    ref = np.asarray(norm, dtype=np.float64)
    if ref.shape != (n,):
        raise ValueError(f"norm: expected shape ({n},) (one reference length per image), got {ref.shape}")
    m = np.ones((n, k), dtype=bool) if mask is None else _mask("mask", mask, n, k)
    names = tuple(joint_names) if joint_names is not None else tuple(f"joint_{i}" for i in range(k))
    if len(names) != k:
        raise ValueError(f"joint_names: expected {k} names, got {len(names)}")
    return _prepare(
        p, g, ref, mask=m, joints=joints, mean_joints=mean_joints, groups=groups or {},
        joint_names=names, strict=strict, mean=mean, metric_prefix=metric_prefix, convention=convention,
    )  # fmt: skip


def _prepare(
    p: np.ndarray,
    g: np.ndarray,
    ref: np.ndarray,
    *,
    mask: np.ndarray,
    joints: Sequence[int] | None,
    mean_joints: Sequence[int] | None,
    groups: Mapping[str, Sequence[int]],
    joint_names: tuple[str, ...],
    strict: bool,
    mean: MeanMode,
    metric_prefix: str,
    convention: str,
    num_skipped_images: int = 0,
    notes: tuple[str, ...] = (),
    arithmetic: Literal["plain", "matlab", "hrnet"] = "plain",
) -> _Prepared:
    k = p.shape[1]
    if mean not in ("pooled", "joint_average"):
        raise ValueError(f"mean: expected 'pooled' or 'joint_average', got {mean!r}")
    subset = _indices("joints", joints, k) if joints is not None else tuple(range(k))
    in_mean = _indices("mean_joints", mean_joints, k) if mean_joints is not None else subset
    in_mean = tuple(j for j in in_mean if j in subset)
    if not in_mean:
        raise ValueError("no joints left to average: mean_joints and joints do not overlap")
    scored = mask.copy()
    scored[:, [j for j in range(k) if j not in subset]] = False
    grp = {}
    for name, members in groups.items():
        kept = tuple(j for j in _indices(f"groups[{name!r}]", members, k) if j in in_mean)
        if kept:
            grp[name] = kept
    # Same arithmetic as the reference code (norm of the difference, then divide), so exact
    # ties at the threshold land on the same side. NaN/inf never satisfy the comparison.
    with np.errstate(divide="ignore", invalid="ignore"):
        ndist = _norm2(p - g) / ref[:, None]
    return _Prepared(
        ndist=ndist, scored=scored, mean_joints=in_mean, groups=grp, joint_names=joint_names,
        strict=strict, mean_mode=mean, metric_prefix=metric_prefix, convention=convention,
        num_skipped_images=num_skipped_images, notes=notes, arithmetic=arithmetic,
    )  # fmt: skip


def _score(prep: _Prepared, threshold: float) -> PCKResult:
    hit = (prep.ndist < threshold) if prep.strict else (prep.ndist <= threshold)
    hit &= prep.scored
    count = prep.scored.sum(axis=0)
    hits = hit.sum(axis=0)
    in_mean = np.zeros(len(count), dtype=bool)
    in_mean[list(prep.mean_joints)] = True
    total = int(count[in_mean].sum())
    # The float operations follow the reference code, so values that sit on a rounding
    # boundary (LSP tables have several x.x5 cells) print exactly as published.
    with np.errstate(divide="ignore", invalid="ignore"):
        if prep.arithmetic == "matlab":  # eval_pck.m: 100 * mean(dist <= thr)
            per_joint = np.where(count > 0, 100.0 * (hits / count), np.nan)
        else:  # HRNet and plain: 100. * sum(hits) / count
            per_joint = np.where(count > 0, 100.0 * hits / count, np.nan)
        if not total:
            pooled = float("nan")
        elif prep.arithmetic == "hrnet":  # Mean = sum(PCKh * count / sum(count)), masked to 14 joints
            pooled = float(np.sum(np.where(in_mean & (count > 0), per_joint * (count / float(total)), 0.0)))
        elif prep.arithmetic == "matlab":
            pooled = 100.0 * (float(hits[in_mean].sum()) / total)
        else:
            pooled = 100.0 * float(hits[in_mean].sum()) / total
    if prep.mean_mode == "pooled":
        mean = pooled
    else:
        vals = per_joint[in_mean & (count > 0)]
        mean = float(np.mean(vals)) if vals.size else float("nan")
    per_group: dict[str, float] = {}
    for name, members in prep.groups.items():
        vals = per_joint[list(members)]
        vals = vals[np.isfinite(vals)]
        if vals.size:
            per_group[name] = float(np.mean(vals))
    per_group["Mean"] = mean
    return PCKResult(
        metric=f"{prep.metric_prefix}@{threshold:g}",
        convention=prep.convention,
        threshold=float(threshold),
        mean=mean,
        per_group=per_group,
        per_joint=per_joint,
        joint_count=count.astype(np.int64),
        joint_names=prep.joint_names,
        num_images=int(prep.scored.shape[0] - prep.num_skipped_images),
        num_joints=total,
        num_skipped_images=prep.num_skipped_images,
        extras={},
        notes=prep.notes,
    )


def _curve(prep: _Prepared, thresholds: Any, label: str) -> PCKCurve:
    t = np.asarray(thresholds, dtype=np.float64)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"thresholds: expected a non-empty 1-D array, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) <= 0):
        raise ValueError("thresholds: expected finite, non-negative, strictly increasing values")
    rs = [_score(prep, float(x)) for x in t]
    names = [g for g in rs[0].per_group if g != "Mean"]
    return PCKCurve(
        label=label,
        metric=prep.metric_prefix,
        convention=prep.convention,
        thresholds=t,
        mean=np.array([r.mean for r in rs]),
        per_group={g: np.array([r.per_group[g] for r in rs]) for g in names},
        per_joint=np.stack([r.per_joint for r in rs]),
        joint_names=prep.joint_names,
    )


def _points(name: str, a: Any, *, n: int | None = None, k: int | None = None) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    want = f"({'N' if n is None else n}, {'K' if k is None else k}, 2)"
    if arr.ndim != 3 or arr.shape[2] != 2 or (k is not None and arr.shape[1] != k):
        hint = " (for one image, add a leading axis: x[None])" if arr.ndim == 2 else ""
        raise ValueError(f"{name}: expected shape {want} [x, y] keypoints, got {arr.shape}{hint}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name}: expected shape {want} (same N as pred), got {arr.shape}")
    return arr


def _mask(name: str, a: Any, n: int, k: int) -> np.ndarray:
    arr = np.asarray(a)
    if arr.shape != (n, k):
        raise ValueError(f"{name}: expected shape ({n}, {k}), got {arr.shape}")
    return arr.astype(bool)


def _indices(name: str, idx: Sequence[int], k: int) -> tuple[int, ...]:
    out = tuple(int(i) for i in idx)
    bad = [i for i in out if not 0 <= i < k]
    if bad or len(set(out)) != len(out):
        raise ValueError(f"{name}: expected distinct joint indices in 0..{k - 1}, got {list(idx)}")
    return out


def _check_threshold(threshold: float) -> float:
    t = float(threshold)
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"threshold: expected a finite number >= 0, got {threshold!r}")
    return t


def _norm2(d: np.ndarray) -> np.ndarray:
    # Exactly what np.linalg.norm(..., axis=-1) does for real input: sqrt(sum(x * x)).
    return np.sqrt(np.add.reduce(d * d, axis=-1))


__all__ = ["MeanMode", "pck", "pck_curve"]
