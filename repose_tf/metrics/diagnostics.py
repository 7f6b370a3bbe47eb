"""Error signatures of a pose model beyond PCK: left/right swaps and hips pulled inward.

Two questions a PCK table does not answer: does the model confuse the person's left and right
(a swapped-label oracle would recover many joints), and does it pull paired joints toward each
other (the mean of two modes of a heatmap that could not tell them apart)? Both are measured on a
:class:`~repose_tf.evaluate.PredictionSet` in original-image pixels with the LSP torso as unit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from repose_tf.keypoints import get_keypoint_set
from repose_tf.metrics.lsp import LSP_LIMB_JOINTS

if TYPE_CHECKING:
    from repose_tf.evaluate import PredictionSet

#: A pose counts as "swapped" when the left/right-swapped labels match this many more limb joints.
SWAP_MARGIN = 3


def _idx(names: tuple[str, ...], *wanted: str) -> list[int]:
    return [names.index(w) for w in wanted]


def lr_signatures(ps: PredictionSet, threshold: float = 0.2) -> dict:
    """Left/right confusion and the hip offset of an LSP-14 prediction set.

    Returns ``poses`` (poses with both torso-unit joints: right shoulder and left hip),
    ``swapped_pct`` (poses whose swapped labels match at
    least :data:`SWAP_MARGIN` more limb joints), ``oracle_gain`` (limb PCK points a per-pose choice
    between the labels and their mirror would add; the torso here is right shoulder to left hip,
    so only this difference, not its two terms, compares with the official PCK), ``hip_inward``
    (median offset of predicted hips toward the other hip, in torso lengths; > 0 is inward) and
    ``hip_width`` (median label hip width, torso lengths).
    """
    ks = get_keypoint_set(ps.keypoint_set)
    if ks.name != "lsp14":
        raise ValueError(f"lr_signatures needs LSP-14 predictions, got {ks.name}")
    names = ks.names
    r_sh, l_hip, r_hip = _idx(names, "r_shoulder", "l_hip", "r_hip")
    limbs = list(LSP_LIMB_JOINTS)
    g, p = np.asarray(ps.gt, np.float64), np.asarray(ps.pred, np.float64)
    m = np.asarray(ps.visible, bool) & np.asarray(ps.mask, bool)
    torso = np.linalg.norm(g[:, r_sh] - g[:, l_hip], axis=-1)
    ok = m[:, r_sh] & m[:, l_hip] & (torso > 0)
    perm = ks.flip_permutation()

    def hits(gt, mask):
        d = np.linalg.norm(p - gt, axis=-1)
        return (np.nan_to_num(d, nan=np.inf) <= threshold * torso[:, None]) & mask

    a = hits(g, m)[:, limbs].sum(1)
    b = hits(g[:, perm], m[:, perm])[:, limbs].sum(1)
    n_joints = m[ok][:, limbs].sum()
    both = ok & m[:, r_hip] & m[:, l_hip]
    span = g[:, l_hip] - g[:, r_hip]
    width = np.linalg.norm(span, axis=-1)
    u = span / np.maximum(width[:, None], 1e-9)
    inward = np.r_[
        ((p[:, r_hip] - g[:, r_hip]) * u).sum(-1)[both] / torso[both],
        ((p[:, l_hip] - g[:, l_hip]) * -u).sum(-1)[both] / torso[both],
    ]
    return {
        "poses": int(ok.sum()),
        "swapped_pct": float(100.0 * ((b >= a + SWAP_MARGIN) & ok).sum() / max(ok.sum(), 1)),
        "oracle_gain": float(100.0 * (np.maximum(a, b) - a)[ok].sum() / max(n_joints, 1)),
        "hip_inward": float(np.nanmedian(inward)) if inward.size else float("nan"),
        "hip_width": float(np.median(width[both] / torso[both])) if both.any() else float("nan"),
    }


__all__ = ["SWAP_MARGIN", "lr_signatures"]
