"""Keypoint sets as data: names, flip pairs, drawing skeleton, kinematic graph, update orders.

Everything that depends on *which* body joints a model predicts reads it from a
:class:`KeypointSet`, so adding a new set (a new dataset, a new skeleton) is a data change,
not a code change. Graphs follow the RePose paper (section 3.2, Figure 3); the MPII-16 and
COCO-17 graphs are built the same way (see ``docs/architecture.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Names that mean the same body point in different datasets (MPII "upper_neck" is LSP "neck").
_ALIASES = {"upper_neck": "neck"}


@dataclass(frozen=True)
class KeypointSet:
    """A named, ordered set of body keypoints and the graphs defined on it."""

    name: str
    names: tuple[str, ...]
    skeleton: tuple[tuple[int, int], ...]
    kinematic_edges: tuple[tuple[int, int], ...]
    update_order: tuple[int, ...]
    top_down_order: tuple[int, ...]
    flip_pairs: tuple[tuple[int, int], ...] = field(default=())
    #: PCK table columns in the literature's order (Head, Shoulder, ..., Ankle), by joint name;
    #: the column is the mean over its joints. Empty: a set without a published table layout.
    pck_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Joints every published Mean leaves out (MPII: pelvis and thorax).
    pck_excluded: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        k = len(self.names)
        if len(set(self.names)) != k:
            raise ValueError(f"{self.name}: duplicate keypoint names")
        for order_name in ("update_order", "top_down_order"):
            order = getattr(self, order_name)
            if sorted(order) != list(range(k)):
                raise ValueError(f"{self.name}: {order_name} must be a permutation of 0..{k - 1}")
        for a, b in self.skeleton + self.kinematic_edges:
            if not (0 <= a < k and 0 <= b < k) or a == b:
                raise ValueError(f"{self.name}: bad edge ({a}, {b})")
        if not self.flip_pairs:
            object.__setattr__(self, "flip_pairs", _flip_pairs_from_names(self.names))
        for _, members in self.pck_groups:
            for n in (*members, *self.pck_excluded):
                self.index(n)  # a KeyError naming the set for a misspelt joint

    @property
    def pck_columns(self) -> dict[str, tuple[int, ...]]:
        """``{"Head": (12, 13), "Shoulder": (8, 9), ...}``: the PCK table's column groups as indices."""
        return {col: tuple(self.index(n) for n in members) for col, members in self.pck_groups}

    @property
    def pck_mean_joints(self) -> tuple[int, ...]:
        """Indices averaged by the table's Mean: every joint but :attr:`pck_excluded`."""
        return tuple(i for i, n in enumerate(self.names) if n not in self.pck_excluded)

    @property
    def num_keypoints(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"keypoint {name!r} is not in {self.name} ({', '.join(self.names)})") from None

    def neighbours(self, k: int, order: tuple[int, ...] | None = None) -> tuple[int, ...]:
        """N(k): neighbours of k in the kinematic graph, sorted by their position in ``order``.

        The paper calls N(k) an *ordered* set; we order it by the update order so the
        concatenation in eq. (1) is deterministic and matches the order features are updated.
        """
        order = self.update_order if order is None else order
        rank = {j: i for i, j in enumerate(order)}
        nbrs = {b for a, b in self.kinematic_edges if a == k} | {a for a, b in self.kinematic_edges if b == k}
        return tuple(sorted(nbrs, key=rank.__getitem__))

    def flip_permutation(self) -> np.ndarray:
        """Index array p such that flipped[..., i] = original[..., p[i]] after a horizontal flip."""
        perm = np.arange(self.num_keypoints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm


def _flip_pairs_from_names(names: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    pairs = []
    for i, n in enumerate(names):
        if n.startswith("r_"):
            other = "l_" + n[2:]
            if other in names:
                pairs.append((i, names.index(other)))
    return tuple(pairs)


def _edges(names: tuple[str, ...], pairs: list[tuple[str, str]]) -> tuple[tuple[int, int], ...]:
    return tuple((names.index(a), names.index(b)) for a, b in pairs)


def _order(names: tuple[str, ...], seq: list[str]) -> tuple[int, ...]:
    return tuple(names.index(n) for n in seq)


def _limbs(side: str) -> list[tuple[str, str]]:
    s = side
    return [
        (f"{s}_ankle", f"{s}_knee"),
        (f"{s}_knee", f"{s}_hip"),
        (f"{s}_hip", f"{s}_shoulder"),
        (f"{s}_shoulder", f"{s}_elbow"),
        (f"{s}_elbow", f"{s}_wrist"),
    ]


_LIMB_ORDER = [
    "r_hip", "l_hip", "r_shoulder", "l_shoulder", "r_knee", "l_knee",
    "r_elbow", "l_elbow", "r_ankle", "l_ankle", "r_wrist", "l_wrist",
]  # fmt: skip
_LIMB_TOP_DOWN = [
    "r_shoulder", "l_shoulder", "r_hip", "l_hip", "r_elbow", "l_elbow",
    "r_knee", "l_knee", "r_wrist", "l_wrist", "r_ankle", "l_ankle",
]  # fmt: skip


def _pck_groups(head: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The paper's (and the LSP/MPII literature's) column order; each limb column is r + l."""
    cols = [("Head", head)]
    for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        cols.append((part.capitalize(), (f"r_{part}", f"l_{part}")))
    return tuple(cols)


# --- LSP-14 (person-centric: "right" is the person's right) -------------------------------
_LSP_NAMES = (
    "r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "r_wrist",
    "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist", "neck", "head_top",
)  # fmt: skip
_LSP_KIN = _limbs("r") + _limbs("l") + [
    ("r_hip", "l_hip"), ("r_shoulder", "l_shoulder"),
    ("r_shoulder", "neck"), ("l_shoulder", "neck"), ("neck", "head_top"),
]  # fmt: skip
LSP14 = KeypointSet(
    name="lsp14",
    names=_LSP_NAMES,
    skeleton=_edges(_LSP_NAMES, _LSP_KIN),
    kinematic_edges=_edges(_LSP_NAMES, _LSP_KIN),
    update_order=_order(_LSP_NAMES, _LIMB_ORDER + ["neck", "head_top"]),
    top_down_order=_order(_LSP_NAMES, ["head_top", "neck"] + _LIMB_TOP_DOWN),
    pck_groups=_pck_groups(("neck", "head_top")),
)

# --- MPII-16 -------------------------------------------------------------------------------
_MPII_NAMES = (
    "r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax",
    "upper_neck", "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist",
)  # fmt: skip
_MPII_KIN = _limbs("r") + _limbs("l") + [
    ("r_hip", "l_hip"), ("r_hip", "pelvis"), ("l_hip", "pelvis"), ("pelvis", "thorax"),
    ("r_shoulder", "l_shoulder"), ("r_shoulder", "thorax"), ("l_shoulder", "thorax"),
    ("thorax", "upper_neck"), ("upper_neck", "head_top"),
]  # fmt: skip
_MPII_SKELETON = _limbs("r") + _limbs("l") + [
    ("r_hip", "pelvis"), ("l_hip", "pelvis"), ("pelvis", "thorax"), ("r_shoulder", "thorax"),
    ("l_shoulder", "thorax"), ("thorax", "upper_neck"), ("upper_neck", "head_top"),
]  # fmt: skip
MPII16 = KeypointSet(
    name="mpii16",
    names=_MPII_NAMES,
    skeleton=_edges(_MPII_NAMES, _MPII_SKELETON),
    kinematic_edges=_edges(_MPII_NAMES, _MPII_KIN),
    # Central, reliably visible joints first (hips, pelvis, thorax), then outwards.
    update_order=_order(
        _MPII_NAMES,
        ["r_hip", "l_hip", "pelvis", "thorax"] + _LIMB_ORDER[2:] + ["upper_neck", "head_top"],
    ),
    top_down_order=_order(
        _MPII_NAMES,
        ["head_top", "upper_neck", "thorax", "r_shoulder", "l_shoulder", "pelvis", "r_hip", "l_hip"]
        + _LIMB_TOP_DOWN[4:],
    ),
    # HRNet / Tompson / bearpaw columns: Head is the head top only (the neck has no column)
    pck_groups=_pck_groups(("head_top",)),
    pck_excluded=("pelvis", "thorax"),
)

# --- COCO-17 (COCO's own order: left before right) ---------------------------------------
_COCO_NAMES = (
    "nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder", "l_elbow",
    "r_elbow", "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle",
)  # fmt: skip
_COCO_FACE = [
    ("nose", "r_eye"), ("nose", "l_eye"), ("r_eye", "r_ear"), ("l_eye", "l_ear"),
    ("r_ear", "r_shoulder"), ("l_ear", "l_shoulder"),
]  # fmt: skip
_COCO_KIN = _limbs("r") + _limbs("l") + [("r_hip", "l_hip"), ("r_shoulder", "l_shoulder")] + _COCO_FACE
COCO17 = KeypointSet(
    name="coco17",
    names=_COCO_NAMES,
    skeleton=_edges(_COCO_NAMES, _COCO_KIN),
    kinematic_edges=_edges(_COCO_NAMES, _COCO_KIN),
    update_order=_order(_COCO_NAMES, _LIMB_ORDER + ["nose", "r_eye", "l_eye", "r_ear", "l_ear"]),
    top_down_order=_order(_COCO_NAMES, ["nose", "r_eye", "l_eye", "r_ear", "l_ear"] + _LIMB_TOP_DOWN),
)

KEYPOINT_SETS: dict[str, KeypointSet] = {s.name: s for s in (LSP14, MPII16, COCO17)}


def get_keypoint_set(name: str | KeypointSet) -> KeypointSet:
    """Look up a keypoint set by name ('lsp14', 'mpii16', 'coco17')."""
    if isinstance(name, KeypointSet):
        return name
    try:
        return KEYPOINT_SETS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown keypoint set {name!r}; known: {', '.join(KEYPOINT_SETS)}") from None


def mapping(src: str | KeypointSet, dst: str | KeypointSet) -> np.ndarray:
    """For each keypoint of ``dst``, the index of the same body point in ``src``, or -1.

    Matches by name, with aliases (MPII upper_neck == LSP neck). MPII -> LSP drops pelvis and
    thorax; COCO -> LSP gives the 12 limb joints and leaves neck and head_top at -1.
    """
    s, d = get_keypoint_set(src), get_keypoint_set(dst)
    canon = [_ALIASES.get(n, n) for n in s.names]
    out = np.full(d.num_keypoints, -1, dtype=np.int64)
    for i, n in enumerate(d.names):
        n = _ALIASES.get(n, n)
        if n in canon:
            out[i] = canon.index(n)
    return out


def convert(keypoints: np.ndarray, mask: np.ndarray, src: str | KeypointSet, dst: str | KeypointSet):
    """Map (..., K_src, 2) keypoints and (..., K_src) mask into ``dst``; unmapped joints are unannotated."""
    idx = mapping(src, dst)
    kp = np.zeros(keypoints.shape[:-2] + (len(idx), keypoints.shape[-1]), dtype=keypoints.dtype)
    m = np.zeros(mask.shape[:-1] + (len(idx),), dtype=mask.dtype)
    ok = idx >= 0
    kp[..., ok, :] = keypoints[..., idx[ok], :]
    m[..., ok] = mask[..., idx[ok]]
    return kp, m
