"""What a PCK evaluation returns: the table row with its audit trail, and PCK-vs-threshold curves."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


# ============================================================================================
# Result types
# ============================================================================================
@dataclass(frozen=True, eq=False)
class PCKResult:
    """One PCK evaluation: the table row plus the per-joint detail needed to audit it.

    ``per_group`` holds the table columns that exist for the scored joints (a limb-only
    subset has no ``Head``) and always ``Mean``. ``per_joint`` is NaN for joints that were
    not scored. ``num_joints`` is the number of joint instances behind ``Mean``.
    """

    metric: str
    convention: str
    threshold: float
    mean: float
    per_group: dict[str, float]
    per_joint: np.ndarray
    joint_count: np.ndarray
    joint_names: tuple[str, ...]
    num_images: int
    num_joints: int
    num_skipped_images: int = 0
    extras: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> float:
        """``result["Head"]``, ``result["Mean"]``, ``result["Mean@0.1"]``: columns, then extras."""
        if key in self.per_group:
            return self.per_group[key]
        if key in self.extras:
            return self.extras[key]
        raise KeyError(
            f"{key!r} is not a column ({', '.join(self.per_group)}) or extra ({', '.join(self.extras)})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python, strictly JSON-serialisable form (NaN becomes ``None``)."""
        return {
            "metric": self.metric,
            "convention": self.convention,
            "threshold": float(self.threshold),
            "mean": _jsonable(self.mean),
            "per_group": {k: _jsonable(v) for k, v in self.per_group.items()},
            "per_joint": {n: _jsonable(v) for n, v in zip(self.joint_names, self.per_joint, strict=True)},
            "joint_count": {n: int(c) for n, c in zip(self.joint_names, self.joint_count, strict=True)},
            "num_images": int(self.num_images),
            "num_joints": int(self.num_joints),
            "num_skipped_images": int(self.num_skipped_images),
            "extras": {k: _jsonable(v) for k, v in self.extras.items()},
            "notes": list(self.notes),
        }


@dataclass(frozen=True, eq=False)
class PCKCurve:
    """PCK as a function of the normalised threshold: ``mean[t]`` is PCK at ``thresholds[t]``."""

    label: str
    metric: str
    convention: str
    thresholds: np.ndarray
    mean: np.ndarray
    per_group: dict[str, np.ndarray]
    per_joint: np.ndarray  # (T, K)
    joint_names: tuple[str, ...]

    def auc(self, group: str = "Mean") -> float:
        """Area under the curve over the threshold range, normalised to 0..100 (as ``eval_pck.m``)."""
        y = self.mean if group == "Mean" else self.per_group[group]
        span = float(self.thresholds[-1] - self.thresholds[0])
        if len(self.thresholds) < 2 or span <= 0:
            return float("nan")
        return float(np.trapezoid(y, self.thresholds) / span)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (NaN becomes ``None``)."""
        return {
            "label": self.label,
            "metric": self.metric,
            "convention": self.convention,
            "thresholds": [float(t) for t in self.thresholds],
            "mean": [_jsonable(v) for v in self.mean],
            "per_group": {k: [_jsonable(x) for x in v] for k, v in self.per_group.items()},
            "per_joint": {
                n: [_jsonable(x) for x in self.per_joint[:, j]] for j, n in enumerate(self.joint_names)
            },
            "auc": _jsonable(self.auc()),
        }


def _jsonable(v: Any) -> float | None:
    f = float(v)
    return f if math.isfinite(f) else None


__all__ = ["PCKCurve", "PCKResult"]
