"""Partial MSE (paper eq. 3), expressed so a plain ``Model.fit`` computes it on any backend.

    L = 1/M sum_i 1/|a_i| sum_{k in a_i} ||H_ik - O_ik||^2 / n^2

``PartialMSE`` returns the per-keypoint term ``||H_ik - O_ik||^2 / n^2`` with shape (B, K);
:func:`keypoint_weights` turns the annotated mask into Keras ``sample_weight`` values
``w_ik = mask_ik * K / max(|a_i|, 1)``. Keras' mean over the B*K weighted terms then equals
eq. (3) exactly, and its per-output sum gives the paper's "sum over every predicted stack".
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable("repose_tf")
class PartialMSE(keras.losses.Loss):
    """Per-keypoint heatmap MSE, (B, H, W, K) -> (B, K); weight it with :func:`keypoint_weights`."""

    def __init__(self, name: str = "partial_mse", **kwargs):
        kwargs.setdefault("reduction", "sum_over_batch_size")
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        y_true = ops.cast(y_true, "float32")
        return ops.mean(ops.square(y_true - y_pred), axis=(1, 2))


def keypoint_weights(mask):
    """sample_weight (B, K) from the annotated mask (B, K): ``mask * K / max(|a_i|, 1)``."""
    mask = ops.cast(mask, "float32")
    k = ops.cast(ops.shape(mask)[-1], "float32")
    return mask * k / ops.maximum(ops.sum(mask, axis=-1, keepdims=True), 1.0)


def partial_mse_numpy(heatmaps: np.ndarray, predictions: np.ndarray, mask: np.ndarray) -> float:
    """Reference implementation of eq. (3) for one stack (used by tests and sanity checks)."""
    per_kp = ((heatmaps - predictions) ** 2).mean(axis=(1, 2))  # (B, K)
    per_example = (per_kp * mask).sum(-1) / np.maximum(mask.sum(-1), 1)
    return float(per_example.mean())
