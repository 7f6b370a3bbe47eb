"""PCK metrics that reproduce the field's published numbers: LSP PCK@0.2 and MPII PCKh@0.5.

Plain numpy (no TensorFlow), so evaluation can run anywhere and be checked against the real
ground truth and published prediction sets in ``../shared/data/metric_fixtures`` (see its
README for the exact conventions). Small details move published figures by up to a point
(``<`` vs ``<=``, a +1 pixel shift, weighted vs unweighted mean, which joints a column
averages), so each convention is reproduced *exactly* and named, not approximated.

Public API
----------
- :func:`lsp_pck`: LSP PCK@0.2 (``eval_pck.m`` / MPII ``evalLSP``), or the LSPET variant with
  a visibility mask; :func:`lsp_pck_curve` for PCK-vs-threshold.
- :func:`mpii_pckh`: MPII PCKh@0.5 (HRNet ``evaluate()`` by default; ``tompson_bearpaw`` and
  ``official_style`` as options; a documented fallback without head boxes);
  :func:`mpii_pckh_curve`; :class:`MPIIGroundTruth` reads the ``gt_valid.mat`` layout.
- :func:`pck` / :func:`pck_curve`: the generic metric for any keypoint set or joint subset.
- :class:`PCKResult`, :class:`PCKCurve`, :func:`format_markdown_table`, :func:`plot_pck_curves`.

All percentages are in 0..100. Keypoint arrays are ``(N, K, 2)`` in pixels, ``[x, y]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

MeanMode = Literal["pooled", "joint_average"]

#: Column order of the paper's tables (and of every PCK table in the LSP/MPII literature).
PAPER_COLUMNS: tuple[str, ...] = ("Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Mean")

# --- LSP-14 -----------------------------------------------------------------------------------
LSP14_NAMES: tuple[str, ...] = (
    "r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "r_wrist",
    "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist", "neck", "head_top",
)  # fmt: skip
#: Torso reference joints (l_shoulder, r_hip), 0-based; MATLAB's ``norm(gt(:,10)-gt(:,3))``.
LSP_TORSO_JOINTS: tuple[int, int] = (9, 2)
#: The 12 limb joints (everything but neck and head top): the subset a COCO-17 model can be
#: scored on after mapping to LSP, since COCO has no neck or head-top keypoint.
LSP_LIMB_JOINTS: tuple[int, ...] = tuple(range(12))
LSP14_GROUPS: dict[str, tuple[int, ...]] = {
    "Head": (12, 13),
    "Shoulder": (8, 9),
    "Elbow": (7, 10),
    "Wrist": (6, 11),
    "Hip": (2, 3),
    "Knee": (1, 4),
    "Ankle": (0, 5),
}

# --- MPII-16 ----------------------------------------------------------------------------------
MPII16_NAMES: tuple[str, ...] = (
    "r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax",
    "upper_neck", "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist",
)  # fmt: skip
MPII_UPPER_NECK, MPII_HEAD_TOP = 8, 9
#: The 14 joints every MPII Mean is taken over: all but pelvis (6) and thorax (7).
MPII_MEAN_JOINTS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15)
#: HRNet / Tompson / bearpaw columns: Head is the head top only (the neck has no column).
MPII16_GROUPS: dict[str, tuple[int, ...]] = {
    "Head": (9,),
    "Shoulder": (12, 13),
    "Elbow": (11, 14),
    "Wrist": (10, 15),
    "Hip": (2, 3),
    "Knee": (1, 4),
    "Ankle": (0, 5),
}
#: Official MPII toolkit (``genTablePCK``) columns: Head = (upper neck + head top) / 2.
MPII16_GROUPS_OFFICIAL: dict[str, tuple[int, ...]] = {**MPII16_GROUPS, "Head": (8, 9)}
#: HRNet normalises by SC_BIAS x the head-box diagonal.
SC_BIAS = 0.6
#: HRNet's ``Mean@0.1`` is ``pckAll[11]`` of ``np.arange(0, 0.5 + 0.01, 0.01)``: threshold 0.11,
#: not 0.10 (HRNet issue #167). Taken from the same arange so ties behave bit-for-bit alike.
HRNET_MEAN01_THRESHOLD = float(np.arange(0, 0.5 + 0.01, 0.01)[11])

# Strict "<" or "<=", how Mean is formed, and which joints each column averages.
_MPII_CONVENTIONS: dict[str, tuple[bool, MeanMode, dict[str, tuple[int, ...]]]] = {
    "hrnet": (False, "pooled", MPII16_GROUPS),
    "tompson_bearpaw": (True, "joint_average", MPII16_GROUPS),
    "official_style": (False, "pooled", MPII16_GROUPS_OFFICIAL),
}
_MPII_ALIASES = {"tompson": "tompson_bearpaw", "bearpaw": "tompson_bearpaw", "official": "official_style"}


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


class MPIIGroundTruth(NamedTuple):
    """MPII ground truth in this module's ``(N, ...)`` layout."""

    joints: np.ndarray  # (N, 16, 2), 1-based MATLAB pixels in gt_valid.mat
    missing: np.ndarray  # (N, 16) bool, True = joint not annotated
    headboxes: np.ndarray  # (N, 2, 2), [[x1, y1], [x2, y2]]

    @classmethod
    def from_gt_valid(cls, gt_valid: Mapping[str, Any]) -> MPIIGroundTruth:
        """Read HRNet's ``gt_valid.mat`` layout (``pos_gt_src (16,2,N)``, ``jnt_missing (16,N)``,
        ``headboxes_src (2,2,N)``), e.g. ``scipy.io.loadmat`` output or the fixture npz."""
        for key in ("pos_gt_src", "jnt_missing", "headboxes_src"):
            if key not in gt_valid:
                raise ValueError(f"gt_valid: missing key {key!r} (have {sorted(gt_valid)})")
        pos = np.asarray(gt_valid["pos_gt_src"], dtype=np.float64)
        miss = np.asarray(gt_valid["jnt_missing"])
        hb = np.asarray(gt_valid["headboxes_src"], dtype=np.float64)
        if pos.ndim != 3 or pos.shape[:2] != (16, 2):
            raise ValueError(f"gt_valid pos_gt_src: expected shape (16, 2, N), got {pos.shape}")
        n = pos.shape[2]
        if miss.shape != (16, n):
            raise ValueError(f"gt_valid jnt_missing: expected shape (16, {n}), got {miss.shape}")
        if hb.shape != (2, 2, n):
            raise ValueError(f"gt_valid headboxes_src: expected shape (2, 2, {n}), got {hb.shape}")
        return cls(pos.transpose(2, 0, 1), miss.T.astype(bool), hb.transpose(2, 0, 1))


# ============================================================================================
# Generic PCK
# ============================================================================================
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


# ============================================================================================
# LSP PCK@0.2
# ============================================================================================
def lsp_torso_lengths(gt: Any) -> np.ndarray:
    """``||gt[l_shoulder] - gt[r_hip]||`` per image: the LSP PCK reference length."""
    g = _points("gt", gt, k=14)
    i, j = LSP_TORSO_JOINTS
    return _norm2(g[:, i] - g[:, j])


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
    return _score(prep, _check_threshold(threshold))


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
    return _curve(prep, np.linspace(0.0, 0.2, 21) if thresholds is None else thresholds, label)


def _prepare_lsp(pred: Any, gt: Any, *, visible: Any | None, joints: Any, strict: bool) -> _Prepared:
    p = _points("pred", pred, k=14)
    g = _points("gt", gt, k=14, n=p.shape[0])
    ref = lsp_torso_lengths(g)
    n = p.shape[0]
    skipped = 0
    notes: list[str] = []
    convention = "lsp_eval_pck (all joints scored)"
    if visible is None:
        mask = np.ones((n, 14), dtype=bool)
    else:
        mask = _mask("visible", visible, n, 14)
        i, j = LSP_TORSO_JOINTS
        torso_ok = mask[:, i] & mask[:, j]
        skipped = int(n - torso_ok.sum())
        mask = mask & torso_ok[:, None]
        convention = "lspet_visible (visible joints only; images without both torso joints skipped)"
        if skipped:
            notes.append(f"{skipped} of {n} images skipped: l_shoulder or r_hip not visible")
    return _prepare(
        p, g, ref, mask=mask, joints=joints, mean_joints=None, groups=LSP14_GROUPS,
        joint_names=LSP14_NAMES, strict=strict, mean="pooled", metric_prefix="PCK",
        convention=convention, num_skipped_images=skipped, notes=tuple(notes), arithmetic="matlab",
    )  # fmt: skip


# ============================================================================================
# MPII PCKh@0.5
# ============================================================================================
def mpii_pckh(
    pred: Any,
    gt: Any,
    missing: Any | None = None,
    headboxes: Any | None = None,
    *,
    threshold: float = 0.5,
    convention: str = "hrnet",
    pred_base: int = 0,
    gt_base: int = 1,
    strict: bool | None = None,
    head_segment_factor: float = 1.0,
) -> PCKResult:
    """MPII PCKh, MPII-16 order. Default: HRNet ``lib/dataset/mpii.py`` ``evaluate()``.

    ``err = ||pred - gt|| / (0.6 * ||headbox[1] - headbox[0]||)`` (full head-box diagonal);
    annotated joints only (``missing`` False).

    Conventions (they change the numbers, so the name is recorded in the result):
        - ``"hrnet"``: hit iff ``err <= thr``; Head = head top only; Mean = pooled over the 14
          joints without pelvis/thorax (= per-joint PCKh weighted by counts). Also
          ``extras["Mean@0.1"]`` at threshold **0.11**, reproducing HRNet's off-by-one
          (HRNet issue #167), and ``extras["Mean@0.1_true"]`` at 0.10.
        - ``"tompson_bearpaw"``: strict ``err < thr``; Mean = unweighted mean of the 14
          per-joint values (MATLAB ``mean(PCKh([1:6, 9:16]))``), the convention of bearpaw's
          published rows (pytorch-pose README, pose-hg-demo issue #1).
        - ``"official_style"``: MPII ``evalMPII`` table: ``<=``, Head = (neck + head top) / 2,
          Mean pooled (equal to HRNet's Mean).

    Args:
        pred: ``(N, 16, 2)``. gt: ``(N, 16, 2)`` (``MPIIGroundTruth.joints``).
        missing: ``(N, 16)``, truthy = not annotated (``jnt_missing``); default none missing.
            Do not pass ``1 - visible``: MPII scores occluded-but-annotated joints.
        headboxes: ``(N, 2, 2)`` ``[[x1, y1], [x2, y2]]``. If ``None`` (no head boxes, e.g. an
            HRNet-style JSON), the normaliser is ``head_segment_factor * ||gt[head_top] -
            gt[upper_neck]||`` and the result's ``notes`` say so; persons whose neck or head top
            is missing (or coincide) are skipped and counted in ``num_skipped_images``. On the
            MPII validation GT, ``0.6 * diagonal`` equals ``0.75 * ||head_top - upper_neck||``
            for almost every person, so ``head_segment_factor=0.75`` reproduces head-box PCKh
            closely (hg_s8: Mean 89.17 vs 89.09), while the default 1.0 (the project spec) is a
            looser normaliser (hg_s8: 92.38).
        pred_base, gt_base: pixel index base (0 or 1) of pred and gt. HRNet's ``evaluate()``
            takes 0-based predictions and adds 1 to match the 1-based ``gt_valid.mat``, hence
            the defaults; pass ``pred_base=1`` for MATLAB-era 1-based prediction files.
        strict: override the convention's ``<`` / ``<=`` choice (for diagnostics).
    """
    prep, base = _prepare_mpii(
        pred, gt, missing, headboxes, convention=convention, pred_base=pred_base, gt_base=gt_base,
        strict=strict, head_segment_factor=head_segment_factor,
    )  # fmt: skip
    result = _score(prep, _check_threshold(threshold))
    if base == "hrnet":
        extras = {
            "Mean@0.1": _score(prep, HRNET_MEAN01_THRESHOLD).mean,
            "Mean@0.1_true": _score(prep, 0.1).mean,
        }
        result = replace(result, extras=extras)
    return result


def mpii_pckh_curve(
    pred: Any,
    gt: Any,
    missing: Any | None = None,
    headboxes: Any | None = None,
    thresholds: Any | None = None,
    *,
    label: str = "",
    convention: str = "hrnet",
    pred_base: int = 0,
    gt_base: int = 1,
    strict: bool | None = None,
    head_segment_factor: float = 1.0,
) -> PCKCurve:
    """MPII PCKh at each threshold (default HRNet's ``np.arange(0, 0.51, 0.01)``)."""
    prep, _ = _prepare_mpii(
        pred, gt, missing, headboxes, convention=convention, pred_base=pred_base, gt_base=gt_base,
        strict=strict, head_segment_factor=head_segment_factor,
    )  # fmt: skip
    return _curve(prep, np.arange(0, 0.5 + 0.01, 0.01) if thresholds is None else thresholds, label)


def _prepare_mpii(
    pred: Any,
    gt: Any,
    missing: Any | None,
    headboxes: Any | None,
    *,
    convention: str,
    pred_base: int,
    gt_base: int,
    strict: bool | None,
    head_segment_factor: float,
) -> tuple[_Prepared, str]:
    name = _MPII_ALIASES.get(convention, convention)
    if name not in _MPII_CONVENTIONS:
        known = ", ".join([*_MPII_CONVENTIONS, *_MPII_ALIASES])
        raise ValueError(f"unknown MPII convention {convention!r}; known: {known}")
    conv_strict, mean_mode, groups = _MPII_CONVENTIONS[name]
    if strict is not None and strict != conv_strict:
        name = f"{name} ({'<' if strict else '<='})"
        conv_strict = strict
    for arg, base in (("pred_base", pred_base), ("gt_base", gt_base)):
        if base not in (0, 1):
            raise ValueError(f"{arg}: expected 0 or 1, got {base!r}")

    p = _points("pred", pred, k=16)
    n = p.shape[0]
    g = _points("gt", gt, k=16, n=n)
    miss = np.zeros((n, 16), dtype=bool) if missing is None else _mask("missing", missing, n, 16)
    offset = float(gt_base - pred_base)
    if offset:
        p = p + offset  # HRNet: preds[:, :, 0:2] + 1.0
    mask = ~miss
    notes: list[str] = []
    skipped = 0
    if headboxes is not None:
        hb = np.asarray(headboxes, dtype=np.float64)
        if hb.shape != (n, 2, 2):
            raise ValueError(f"headboxes: expected shape ({n}, 2, 2) [[x1, y1], [x2, y2]], got {hb.shape}")
        ref = _norm2(hb[:, 1] - hb[:, 0]) * SC_BIAS
    else:
        if not (math.isfinite(head_segment_factor) and head_segment_factor > 0):
            raise ValueError(f"head_segment_factor: expected a positive number, got {head_segment_factor!r}")
        ref = head_segment_factor * _norm2(g[:, MPII_HEAD_TOP] - g[:, MPII_UPPER_NECK])
        ok = ~miss[:, MPII_HEAD_TOP] & ~miss[:, MPII_UPPER_NECK] & np.isfinite(ref) & (ref > 0)
        skipped = int(n - ok.sum())
        mask &= ok[:, None]
        notes.append(
            f"no head boxes: normaliser = {head_segment_factor:g} x ||head_top - upper_neck|| "
            "(not comparable with published head-box PCKh)"
        )
        if skipped:
            notes.append(f"{skipped} of {n} persons skipped: upper_neck or head_top missing")
        name = f"{name} (no head boxes: {head_segment_factor:g} x head segment)"
    prep = _prepare(
        p, g, ref, mask=mask, joints=None, mean_joints=MPII_MEAN_JOINTS, groups=groups,
        joint_names=MPII16_NAMES, strict=conv_strict, mean=mean_mode, metric_prefix="PCKh",
        convention=name, num_skipped_images=skipped, notes=tuple(notes), arithmetic="hrnet",
    )  # fmt: skip
    return prep, _MPII_ALIASES.get(convention, convention)


# ============================================================================================
# Reporting
# ============================================================================================
def format_markdown_table(
    results: PCKResult | Sequence[PCKResult] | Mapping[str, PCKResult],
    *,
    digits: int = 1,
    columns: Sequence[str] = PAPER_COLUMNS,
    extra_columns: Sequence[str] = (),
    label_header: str = "Method",
) -> str:
    """Markdown table in the paper's column order; ``-`` where a column does not apply.

    ``results`` maps row labels to results (a bare result or list is labelled by its metric).
    ``extra_columns`` appends entries of ``result.extras`` (e.g. ``"Mean@0.1"``).
    """
    rows = _labelled(results, lambda r: r.metric)
    cols = [*columns, *extra_columns]
    lines = [
        "| " + " | ".join([label_header, *cols]) + " |",
        "|" + "|".join([":---", *(["---:"] * len(cols))]) + "|",
    ]
    for label, r in rows:
        cells = []
        for c in cols:
            v = r.per_group.get(c, r.extras.get(c))
            cells.append("-" if v is None or not np.isfinite(v) else f"{v:.{digits}f}")
        lines.append("| " + " | ".join([label, *cells]) + " |")
    return "\n".join(lines) + "\n"


def plot_pck_curves(
    curves: PCKCurve | Sequence[PCKCurve] | Mapping[str, PCKCurve],
    path: str | Path,
    *,
    groups: Sequence[str] = ("Mean",),
    title: str | None = None,
    dpi: int = 120,
) -> Path:
    """Write a PCK-vs-threshold PNG (one line per curve and group); returns the path.

    Uses matplotlib's object API with the Agg canvas, so it never touches pyplot's global
    backend state (safe on headless CI and inside other programs).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = _labelled(curves, lambda c: c.label or c.metric)
    if not rows:
        raise ValueError("plot_pck_curves: no curves given")
    fig = Figure(figsize=(6.0, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for label, c in rows:
        for g in groups:
            if g != "Mean" and g not in c.per_group:
                raise ValueError(f"curve {label!r} has no group {g!r} (has {', '.join(c.per_group)})")
            y = c.mean if g == "Mean" else c.per_group[g]
            name = label if len(groups) == 1 else f"{label} {g}"
            ax.plot(c.thresholds, y, label=f"{name} (AUC {c.auc(g):.1f})", linewidth=1.8)
    metric = rows[0][1].metric
    ax.set_xlabel("normalised distance threshold" + (" (x head size)" if metric == "PCKh" else " (x torso)"))
    ax.set_ylabel(f"{metric} (%)")
    ax.set_ylim(0, 100)
    ax.set_xlim(float(min(c.thresholds[0] for _, c in rows)), float(max(c.thresholds[-1] for _, c in rows)))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    if title:
        ax.set_title(title)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, format="png", bbox_inches="tight")
    return out


# ============================================================================================
# Internals
# ============================================================================================
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


def _jsonable(v: Any) -> float | None:
    f = float(v)
    return f if math.isfinite(f) else None


def _labelled(items: Any, default_label: Any) -> list[tuple[str, Any]]:
    if isinstance(items, (PCKResult, PCKCurve)):
        return [(default_label(items), items)]
    if isinstance(items, Mapping):
        return [(str(k), v) for k, v in items.items()]
    return [(default_label(x), x) for x in items]
