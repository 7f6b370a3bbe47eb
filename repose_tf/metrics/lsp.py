"""LSP PCK@0.2 exactly as ``eval_pck.m`` (MPII ``evalLSP``) computes it, and the LSPET variant.

Joint names and table columns come from :data:`repose_tf.keypoints.LSP14`; this module only adds
the convention: the torso reference, ``<=``, pooled Mean and MATLAB's float-operation order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from repose_tf.keypoints import LSP14
from repose_tf.metrics import pck as core
from repose_tf.metrics.results import PCKCurve, PCKResult

LSP14_NAMES: tuple[str, ...] = LSP14.names
LSP14_GROUPS: dict[str, tuple[int, ...]] = LSP14.pck_columns
#: Torso reference joints (l_shoulder, r_hip), 0-based; MATLAB's ``norm(gt(:,10)-gt(:,3))``.
LSP_TORSO_JOINTS: tuple[int, int] = (LSP14.index("l_shoulder"), LSP14.index("r_hip"))
#: The 12 limb joints (everything but neck and head top): the subset a COCO-17 model can be
#: scored on after mapping to LSP, since COCO has no neck or head-top keypoint.
LSP_LIMB_JOINTS: tuple[int, ...] = tuple(
    i for i, n in enumerate(LSP14.names) if n not in ("neck", "head_top")
)


def lsp_torso_lengths(gt: Any) -> np.ndarray:
    """``||gt[l_shoulder] - gt[r_hip]||`` per image: the LSP PCK reference length."""
    g = core._points("gt", gt, k=14)
    i, j = LSP_TORSO_JOINTS
    return core._norm2(g[:, i] - g[:, j])


def lsp_pck(
    pred: Any,
    gt: Any,
    *,
    threshold: float = 0.2,
    visible: Any | None = None,
    joints: Sequence[int] | None = None,
    strict: bool = False,
) -> PCKResult:
    """LSP PCK (``bearpaw/eval_pose`` ``eval_pck.m`` = MPII ``evalLSP``), LSP-14 order.

    Reference = ``||gt[9] - gt[2]||`` (l_shoulder - r_hip); hit iff ``dist / ref <= threshold``;
    columns are (left + right) / 2, Head = (neck + head_top) / 2; Mean pooled.

    Args:
        pred, gt: ``(N, 14, 2)`` in the same pixel frame (no shift is applied).
        visible: ``None`` for the LSP test-set convention: all 14 joints of every image are
            scored, with no visibility mask (occluded joints included; a NaN prediction is a
            miss). Pass an ``(N, 14)`` array (truthy = visible, as in LSPET's ``joints.mat``;
            note the *original* LSP file's third row means 1 = occluded) for the LSPET
            convention: only visible joints count, and images whose two torso joints are not
            both visible are skipped (``num_skipped_images``), since their reference is unknown.
        joints: score only this subset (e.g. :data:`LSP_LIMB_JOINTS`); the reference still
            comes from the full ground truth.
        strict: ``<`` instead of ``<=`` (for contrast only; the published convention is ``<=``).
    """
    prep = _prepare_lsp(pred, gt, visible=visible, joints=joints, strict=strict)
    return core._score(prep, core._check_threshold(threshold))


def lsp_pck_curve(
    pred: Any,
    gt: Any,
    thresholds: Any | None = None,
    *,
    label: str = "",
    visible: Any | None = None,
    joints: Sequence[int] | None = None,
    strict: bool = False,
) -> PCKCurve:
    """LSP PCK at each threshold (default ``0:0.01:0.2`` as in ``eval_pck.m``)."""
    prep = _prepare_lsp(pred, gt, visible=visible, joints=joints, strict=strict)
    return core._curve(prep, np.linspace(0.0, 0.2, 21) if thresholds is None else thresholds, label)


def _prepare_lsp(pred: Any, gt: Any, *, visible: Any | None, joints: Any, strict: bool) -> core._Prepared:
    p = core._points("pred", pred, k=14)
    g = core._points("gt", gt, k=14, n=p.shape[0])
    ref = lsp_torso_lengths(g)
    n = p.shape[0]
    skipped = 0
    notes: list[str] = []
    convention = "lsp_eval_pck (all joints scored)"
    if visible is None:
        mask = np.ones((n, 14), dtype=bool)
    else:
        mask = core._mask("visible", visible, n, 14)
        i, j = LSP_TORSO_JOINTS
        torso_ok = mask[:, i] & mask[:, j]
        skipped = int(n - torso_ok.sum())
        mask = mask & torso_ok[:, None]
        convention = "lspet_visible (visible joints only; images without both torso joints skipped)"
        if skipped:
            notes.append(f"{skipped} of {n} images skipped: l_shoulder or r_hip not visible")
    return core._prepare(
        p, g, ref, mask=mask, joints=joints, mean_joints=None, groups=LSP14_GROUPS,
        joint_names=LSP14_NAMES, strict=strict, mean="pooled", metric_prefix="PCK",
        convention=convention, num_skipped_images=skipped, notes=tuple(notes), arithmetic="matlab",
    )  # fmt: skip


__all__ = [
    "LSP14_GROUPS",
    "LSP14_NAMES",
    "LSP_LIMB_JOINTS",
    "LSP_TORSO_JOINTS",
    "lsp_pck",
    "lsp_pck_curve",
    "lsp_torso_lengths",
]
