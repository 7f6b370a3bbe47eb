"""Body orientation of each ground-truth pose, and PCK per orientation group.

Sports images hold many people sideways or upside down (gymnastics, diving, tumbling), where
pose models fail differently from the upright majority; one pooled PCK hides that. The group of
an image comes from its ground truth in original-image pixels (never from a crop or a
prediction), so every model is split the same way:

- ``upright``: the mid-hip -> neck direction within 45 degrees of image-up ``(0, -1)`` (y down);
- ``sideways``: more than 45 and at most 135 degrees from image-up;
- ``upside_down``: more than 135 degrees;
- ``unknown``: no direction (no hip annotated, or neither neck, shoulder nor head top); such
  images are counted in their own group, never dropped.

Missing joints: the hip end is the mean of the annotated hips (one hip alone stands for both);
the upper end is the neck, else the mean of the annotated shoulders, else the head top.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from repose_tf.keypoints import KeypointSet, get_keypoint_set
from repose_tf.metrics.dataset import score
from repose_tf.metrics.lsp import LSP_LIMB_JOINTS

if TYPE_CHECKING:
    from repose_tf.evaluate import PredictionSet
    from repose_tf.metrics.results import PCKResult

UPRIGHT, SIDEWAYS, UPSIDE_DOWN, UNKNOWN = "upright", "sideways", "upside_down", "unknown"
#: Every group, in table order; ``unknown`` is always present (its count may be 0).
ORIENTATION_GROUPS: tuple[str, ...] = (UPRIGHT, SIDEWAYS, UPSIDE_DOWN, UNKNOWN)
#: Bounds in degrees from image-up: upright <= 45 < sideways <= 135 < upside down.
UPRIGHT_MAX_DEG, SIDEWAYS_MAX_DEG = 45.0, 135.0
#: One sentence for report footers: how the groups are formed.
ORIENTATION_RULE = (
    "orientation from the ground truth in original-image pixels: angle of the mid-hip -> neck "
    "direction to image-up, upright <= 45 deg < sideways <= 135 deg < upside down (no neck: "
    "mid-shoulder, then head top; one hip: that hip; no hip or no upper end: unknown)"
)


def torso_angles(gt: Any, mask: Any, keypoint_set: str | KeypointSet = "lsp14") -> np.ndarray:
    """``(N,)`` degrees between each pose's mid-hip -> neck direction and image-up; NaN if unknown.

    ``gt``: ``(N, K, 2)`` pixels ``[x, y]`` (y down); ``mask``: ``(N, K)`` annotated joints.
    """
    ks = get_keypoint_set(keypoint_set) if isinstance(keypoint_set, str) else keypoint_set
    g = np.asarray(gt, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    if g.ndim != 3 or g.shape[1:] != (ks.num_keypoints, 2) or m.shape != g.shape[:2]:
        raise ValueError(
            f"torso_angles: expected gt (N, {ks.num_keypoints}, 2) and mask (N, {ks.num_keypoints}) "
            f"for {ks.name}, got {g.shape} and {m.shape}"
        )
    m = m & np.isfinite(g).all(-1)  # a NaN coordinate is no annotation
    hip = _mean_of(g, m, _indices(ks, ("r_hip", "l_hip")))
    upper = _mean_of(g, m, _indices(ks, ("neck", "upper_neck"))[:1])  # MPII calls the neck upper_neck
    for fallback in (("r_shoulder", "l_shoulder"), ("head_top",)):
        missing = ~np.isfinite(upper).all(-1)
        upper[missing] = _mean_of(g, m, _indices(ks, fallback))[missing]
    v = upper - hip
    length = np.hypot(v[:, 0], v[:, 1])
    # image-up is (0, -1); arctan2 (not arccos of a cosine) keeps 45 and 135 exact on diagonals
    angle = np.degrees(np.arctan2(np.abs(v[:, 0]), -v[:, 1]))
    angle[~(length > 0)] = np.nan  # missing end (NaN) or both ends on one pixel: no direction
    return angle


def orientation_groups(gt: Any, mask: Any, keypoint_set: str | KeypointSet = "lsp14") -> np.ndarray:
    """``(N,)`` group name per pose (see :data:`ORIENTATION_GROUPS`), from :func:`torso_angles`."""
    angle = torso_angles(gt, mask, keypoint_set)
    out = np.full(angle.shape, UNKNOWN, dtype=object)
    out[angle <= UPRIGHT_MAX_DEG] = UPRIGHT
    out[(angle > UPRIGHT_MAX_DEG) & (angle <= SIDEWAYS_MAX_DEG)] = SIDEWAYS
    out[angle > SIDEWAYS_MAX_DEG] = UPSIDE_DOWN
    return out


def score_by_orientation(
    ps: PredictionSet,
    dataset_name: str = "lspet",
    *,
    threshold: float = 0.2,
    joints: Sequence[int] | None = LSP_LIMB_JOINTS,
) -> dict[str, PCKResult]:
    """The dataset's PCK of one prediction run, per orientation group: ``{group: PCKResult}``.

    No inference: the run is cut into groups and each is scored by
    :func:`repose_tf.metrics.dataset.score`, so the groups follow the dataset's convention (LSPET:
    images without both torso joints are skipped) and their ``num_images`` add up to the whole
    run's. Every group of :data:`ORIENTATION_GROUPS` is returned; an empty one has a NaN mean.
    Default: PCK@0.2 over the 12 limb joints (the figure peers are compared on).
    """
    groups = orientation_groups(ps.gt, ps.mask, ps.keypoint_set)
    return {
        g: score(ps.subset(groups == g), dataset_name, threshold=threshold, joints=joints)
        for g in ORIENTATION_GROUPS
    }


def _indices(ks: KeypointSet, names: Sequence[str]) -> list[int]:
    return [ks.index(n) for n in names if n in ks.names]


def _mean_of(g: np.ndarray, m: np.ndarray, idx: list[int]) -> np.ndarray:
    """``(N, 2)`` mean of the annotated joints among ``idx``; NaN where none is annotated."""
    out = np.full((g.shape[0], 2), np.nan)
    if not idx:
        return out
    w = m[:, idx].astype(np.float64)
    n = w.sum(axis=1)
    total = np.einsum("nk,nkc->nc", w, np.nan_to_num(g[:, idx]))
    ok = n > 0
    out[ok] = total[ok] / n[ok, None]
    return out


__all__ = [
    "ORIENTATION_GROUPS",
    "ORIENTATION_RULE",
    "SIDEWAYS",
    "SIDEWAYS_MAX_DEG",
    "UNKNOWN",
    "UPRIGHT",
    "UPRIGHT_MAX_DEG",
    "UPSIDE_DOWN",
    "orientation_groups",
    "score_by_orientation",
    "torso_angles",
]
