"""Heatmap codec: Gaussian targets (encode), argmax + quarter-pixel decoding, flip-test averaging.

Plain numpy (no TensorFlow), shared by training targets, evaluation, export checks and inference.

Conventions: keypoints are ``(x, y)`` in pixels, 0-based, with pixel *centres* at integer
coordinates (pixel ``(i, j)`` covers ``[j - 0.5, j + 0.5] x [i - 0.5, i + 0.5]``). Heatmaps are
channels-last ``(..., H, W, K)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_SIGMA", "TRUNCATE", "decode", "default_sigma", "encode", "flip_average"]

#: Gaussian sigma (px) at a 128x128 input (docs/architecture.md "Heatmap targets"); scaled with the size.
DEFAULT_SIGMA = 5.0
#: The Gaussian is truncated to zero beyond this many sigmas from the keypoint (window = 2*3*sigma+1).
TRUNCATE = 3.0


def default_sigma(input_size: int | tuple[int, int]) -> float:
    """Sigma for an input size: 5 px at 128, scaling linearly (10 px at 256)."""
    if not isinstance(input_size, (int, np.integer)):
        input_size = max(int(s) for s in input_size)
    return DEFAULT_SIGMA * float(input_size) / 128.0


def _hw(size) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    h, w = size
    return int(h), int(w)


def encode(
    keypoints: np.ndarray,
    mask: np.ndarray,
    size: int | tuple[int, int],
    sigma: float = DEFAULT_SIGMA,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Gaussian target heatmaps ``(H, W, K)`` float32, peak 1 at each annotated keypoint.

    ``keypoints``: ``(K, 2)`` xy in heatmap pixels (0-based, pixel centres at integers);
    ``mask``: ``(K,)`` bool, False -> an all-zero channel. The Gaussian is unnormalised
    (``exp(-d^2 / 2 sigma^2)``) and truncated to zero beyond ``TRUNCATE`` sigmas, computed as a
    separable outer product (one row and one column vector per joint). ``out``: an optional
    float32 ``(H, W, K)`` array to write into (e.g. a slice of a batch buffer), returned.
    """
    h, w = _hw(size)
    kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
    m = np.asarray(mask, dtype=bool).reshape(-1) & np.isfinite(kp).all(axis=1)
    k = kp.shape[0]
    if m.shape[0] != k:
        raise ValueError(f"mask has {m.shape[0]} entries for {k} keypoints")
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    x = np.where(m, kp[:, 0], -1e6)
    y = np.where(m, kp[:, 1], -1e6)
    dx = np.arange(w, dtype=np.float64)[:, None] - x[None, :]  # (W, K)
    dy = np.arange(h, dtype=np.float64)[:, None] - y[None, :]  # (H, K)
    radius = TRUNCATE * sigma
    inv = -0.5 / (sigma * sigma)
    gx = np.where(np.abs(dx) <= radius, np.exp(np.minimum(dx * dx * inv, 0.0)), 0.0).astype(np.float32)
    gy = np.where(np.abs(dy) <= radius, np.exp(np.minimum(dy * dy * inv, 0.0)), 0.0).astype(np.float32)
    if out is None:
        return gy[:, None, :] * gx[None, :, :]
    if out.shape != (h, w, k) or out.dtype != np.float32:
        raise ValueError(f"out must be float32 {(h, w, k)}, got {out.dtype} {out.shape}")
    np.multiply(gy[:, None, :], gx[None, :, :], out=out)
    return out


def decode(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints ``(..., K, 2)`` float32 xy and scores ``(..., K)`` from heatmaps ``(..., H, W, K)``.

    Argmax per channel, then a quarter-pixel step toward the higher neighbour in x and in y
    separately (the Hourglass / SimpleBaseline refinement); score = the maximum value.
    """
    hm = np.asarray(heatmaps)
    if hm.ndim < 3:
        raise ValueError(f"heatmaps must be (..., H, W, K), got shape {hm.shape}")
    *lead, h, w, k = hm.shape
    flat = np.moveaxis(hm.reshape(-1, h, w, k), 3, 1).reshape(-1, h * w)  # (N*K, H*W)
    idx = np.argmax(flat, axis=1)
    rows = np.arange(flat.shape[0])
    scores = flat[rows, idx]
    py, px = np.divmod(idx, w)
    fx = px.astype(np.float32)
    fy = py.astype(np.float32)
    grid = flat.reshape(-1, h, w)
    ok_x = (px > 0) & (px < w - 1)
    ok_y = (py > 0) & (py < h - 1)
    xr, xl = np.minimum(px + 1, w - 1), np.maximum(px - 1, 0)
    yd, yu = np.minimum(py + 1, h - 1), np.maximum(py - 1, 0)
    ddx = grid[rows, py, xr].astype(np.float64) - grid[rows, py, xl]
    ddy = grid[rows, yd, px].astype(np.float64) - grid[rows, yu, px]
    fx = fx + np.where(ok_x, 0.25 * np.sign(ddx), 0.0).astype(np.float32)
    fy = fy + np.where(ok_y, 0.25 * np.sign(ddy), 0.0).astype(np.float32)
    kps = np.stack([fx, fy], axis=-1).reshape(*lead, k, 2).astype(np.float32)
    return kps, scores.reshape(*lead, k)


def flip_average(heatmaps: np.ndarray, heatmaps_of_flipped_input: np.ndarray, flip_perm) -> np.ndarray:
    """Average ``heatmaps`` with the un-flipped heatmaps of the mirrored input.

    ``heatmaps_of_flipped_input`` is the model's output on the horizontally mirrored image; it is
    mirrored back along W and its channels permuted with ``flip_perm`` (``KeypointSet.
    flip_permutation()``: channel i of the result comes from channel ``flip_perm[i]``).
    Works on ``(H, W, K)`` or batched ``(..., H, W, K)``.
    """
    a = np.asarray(heatmaps)
    b = np.asarray(heatmaps_of_flipped_input)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {a.shape} vs {b.shape}")
    perm = np.asarray(flip_perm, dtype=np.int64)
    if perm.shape != (a.shape[-1],):
        raise ValueError(f"flip_perm has shape {perm.shape}, expected ({a.shape[-1]},)")
    unflipped = b[..., ::-1, :][..., perm]
    return (0.5 * (a + unflipped)).astype(a.dtype, copy=False)
