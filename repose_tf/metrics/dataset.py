"""Each dataset's published metric over a prediction run: PCK@0.2 (LSP, LSPET) or PCKh@0.5 (MPII).

``ps`` is a :class:`repose_tf.evaluate.PredictionSet` (or anything with its ``pred``, ``gt``,
``mask`` and ``keypoint_set``); the names are re-exported by :mod:`repose_tf.evaluate`.
"""

from __future__ import annotations

import numpy as np

from repose_tf.metrics.lsp import lsp_pck, lsp_pck_curve
from repose_tf.metrics.mpii import mpii_pckh, mpii_pckh_curve

__all__ = ["DATASET_METRIC", "THRESHOLDS", "curve", "score"]

#: Metric per dataset, as published for it.
DATASET_METRIC = {"lsp": "PCK", "lspet": "PCK", "synthetic": "PCK", "coco": "PCK", "mpii": "PCKh"}
THRESHOLDS = np.round(np.arange(0.0, 0.5001, 0.01), 4)


def score(ps, dataset_name: str, threshold: float | None = None, joints=None):
    """The dataset's published metric on a prediction set (PCK@0.2 or PCKh@0.5 by default)."""
    name = dataset_name.lower()
    if DATASET_METRIC.get(name) == "PCKh":
        return mpii_pckh(ps.pred, ps.gt, ~ps.mask, None, threshold=threshold or 0.5, pred_base=0, gt_base=0)
    if ps.keypoint_set != "lsp14":
        raise ValueError(f"PCK needs LSP-14 ground truth, got {ps.keypoint_set}")
    # LSP test: every joint counts. LSPET/COCO/synthetic: only annotated joints (LSPET: visible).
    visible = None if name == "lsp" else ps.mask
    return lsp_pck(ps.pred, ps.gt, threshold=threshold or 0.2, visible=visible, joints=joints)


def curve(ps, dataset_name: str, label: str = ""):
    """The dataset's metric against the threshold (0 to 0.5 in steps of 0.01)."""
    name = dataset_name.lower()
    if DATASET_METRIC.get(name) == "PCKh":
        return mpii_pckh_curve(
            ps.pred, ps.gt, ~ps.mask, None, thresholds=THRESHOLDS, label=label, pred_base=0, gt_base=0
        )
    visible = None if name == "lsp" else ps.mask
    return lsp_pck_curve(ps.pred, ps.gt, THRESHOLDS, label=label, visible=visible)
