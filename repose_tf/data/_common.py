"""Helpers shared by the readers (annotation loading, validation, skip/raise policy)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from repose_tf.data.errors import DataError, SkipReport

ON_ERROR = ("skip", "raise")


def check_on_error(on_error: str) -> str:
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    return on_error


def problem(report: SkipReport, on_error: str, path, reason: str, key, detail: str = "") -> None:
    """Raise a DataError (on_error='raise') or count the problem in the report ('skip')."""
    if on_error == "raise":
        raise DataError(path, f"{reason}" + (f" ({detail})" if detail else ""))
    report.add(reason, key, detail)


def load_mat_joints(path: Path, expect: str, check) -> np.ndarray:
    """``joints`` array from a MATLAB file; ``check(shape) -> bool`` validates its layout."""
    import scipy.io

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "annotation file not found")
    try:
        mat = scipy.io.loadmat(os.fspath(path))
    except Exception as e:
        raise DataError(path, f"cannot read MATLAB file ({type(e).__name__}: {e})") from e
    if "joints" not in mat:
        keys = [k for k in mat if not k.startswith("__")]
        raise DataError(path, f"no 'joints' array (keys: {keys})")
    j = mat["joints"]
    if not isinstance(j, np.ndarray) or j.dtype.kind not in "fiu" or not check(j.shape):
        raise DataError(path, f"'joints' has shape {getattr(j, 'shape', '?')}, expected {expect}")
    return j.astype(np.float64)


def sanitize_joints(kp, mask, report: SkipReport, keys):
    """Joints with non-finite coordinates become unannotated (counted). ``kp`` (..., K, 2)."""
    kp = np.asarray(kp, np.float64)
    mask = np.asarray(mask, bool)
    bad = mask & ~np.isfinite(kp).all(axis=-1)
    if bad.any():
        keys = np.broadcast_to(np.asarray(keys, dtype=object), bad.shape[:-1])
        for idx in zip(*np.nonzero(bad.any(axis=-1)), strict=False):
            report.add(
                "non-finite joint coordinates -> unannotated", keys[idx], f"{int(bad[idx].sum())} joints"
            )
        mask = mask & ~bad
    kp = np.where(np.isfinite(kp), kp, 0.0)
    return kp, mask


def split_range(split: str, ranges: dict[str, tuple[int, ...]], n: int, path) -> range:
    """1-based inclusive image-number range of a split, checked against the n annotated images.

    A range is ``(first, last)`` or ``(first, last, stride)``: a stride of 2 interleaves two
    splits over the same images (LSPET's ``select`` / ``report`` halves of ``val``).
    """
    if split not in ranges:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(ranges)}")
    a, b, *stride = ranges[split]
    b = min(b, n) if split == "all" else b
    if b > n:
        raise DataError(path, f"split {split!r} needs images {a}-{b} but the file annotates only {n}")
    return range(a, b + 1, *stride)
