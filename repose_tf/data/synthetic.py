"""An embedded dataset that needs no files: procedurally drawn people-like figures with exact LSP-14 joints.

Each scene is generated on the fly and deterministically from ``(seed, scene id)``: a 2-D
kinematic figure (torso, head, tapered limbs) with joint-angle limits, random size, lean,
foreshortening and facing (front: a face on the head; back: hair only, and left/right sides
swap in the image), drawn with anti-aliased filled polygons over a textured, noisy background
with distractor shapes, plus random occluders (joints under an occluder are annotated but not
visible). The splits use disjoint scene-id ranges, so ``val``/``test`` are held out.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from repose_tf.data.errors import SkipReport
from repose_tf.data.sample import PoseDataset, Sample, box_from_keypoints, to_keypoint_set
from repose_tf.keypoints import LSP14, get_keypoint_set

__all__ = ["CANVAS_SIZE", "SYNTHETIC_SPLITS", "Scene", "SyntheticPoses", "render_scene"]

CANVAS_SIZE = 160
#: split -> (first scene id, default number of samples); id ranges never overlap.
SYNTHETIC_SPLITS = {"train": (0, 20_000), "val": (10_000_000, 1_000), "test": (20_000_000, 1_000)}

_J = {n: i for i, n in enumerate(LSP14.names)}
_SHIFT = 4  # fixed-point bits for sub-pixel drawing
_ONE = 1 << _SHIFT


@dataclass
class Scene:
    """Everything needed to draw one image (no pixels)."""

    joints: np.ndarray  # (14, 2) float64, LSP-14, canvas px
    visible: np.ndarray  # (14,) bool
    size: float  # figure height unit (px)
    front: bool
    arm_front: tuple[bool, bool]  # (image-left arm, image-right arm) drawn over the torso
    colors: dict
    occluders: list
    distractors: list
    bg: dict
    widths: dict


def _d(angle_deg: float) -> np.ndarray:
    a = math.radians(angle_deg)
    return np.array([math.sin(a), math.cos(a)])  # 0 deg = image-down, +90 = image-right


def _pose(rng: np.random.Generator) -> tuple[np.ndarray, bool, float]:
    """Joints (14, 2) of a unit-height figure around the origin, facing, lean."""
    j = np.zeros((14, 2))
    front = bool(rng.random() < 0.8)
    lean = float(np.clip(rng.normal(0, 12), -40, 40))
    if rng.random() < 0.12:  # gymnastics: anything goes
        lean = float(rng.uniform(-180, 180))
    down = -lean
    fs = lambda: rng.uniform(0.65, 1.0) if rng.random() < 0.3 else rng.uniform(0.92, 1.05)  # foreshortening
    up_vec, perp = -_d(down), _d(down + 90)
    pelvis = np.zeros(2)
    neck = pelvis + up_vec * 0.30 * fs()
    sw, hw = 0.11 * rng.uniform(0.8, 1.1), 0.07 * rng.uniform(0.85, 1.1)
    if rng.random() < 0.2:  # side-ish view: narrow shoulders and hips
        sw, hw = sw * 0.5, hw * 0.5
    shoulder_base = neck - up_vec * 0.035
    # front view: the person's right is on the image left
    s = -1.0 if front else 1.0
    j[_J["r_shoulder"]], j[_J["l_shoulder"]] = shoulder_base + s * sw * perp, shoulder_base - s * sw * perp
    j[_J["r_hip"]], j[_J["l_hip"]] = pelvis + s * hw * perp, pelvis - s * hw * perp
    j[_J["neck"]] = neck
    j[_J["head_top"]] = neck + _d(down + 180 + rng.uniform(-25, 25)) * 0.17 * rng.uniform(0.9, 1.05)
    for side in ("r", "l"):
        out = 1.0 if (side == "r") == (s > 0) else -1.0  # +1: this side is on the image right
        # arm: abduction 0 = hanging, 90 = horizontal, 180 = up; elbow bends either way in 2-D
        abd = rng.uniform(-20, 180) if rng.random() < 0.7 else rng.uniform(-10, 40)
        a1 = down + out * abd
        a2 = a1 + rng.choice([-1.0, 1.0]) * rng.uniform(0, 150) * (rng.random() < 0.8)
        sh = j[_J[f"{side}_shoulder"]]
        j[_J[f"{side}_elbow"]] = sh + _d(a1) * 0.17 * fs()
        j[_J[f"{side}_wrist"]] = j[_J[f"{side}_elbow"]] + _d(a2) * 0.15 * fs()
        # leg: hip abduction (a kick reads as sideways in 2-D), knee bends either way
        habd = rng.uniform(-25, 100) if rng.random() < 0.35 else rng.uniform(-12, 30)
        b1 = down + out * habd
        b2 = b1 + rng.choice([-1.0, 1.0]) * rng.uniform(0, 140) * (rng.random() < 0.6)
        hip = j[_J[f"{side}_hip"]]
        j[_J[f"{side}_knee"]] = hip + _d(b1) * 0.24 * fs()
        j[_J[f"{side}_ankle"]] = j[_J[f"{side}_knee"]] + _d(b2) * 0.24 * fs()
    return j, front, lean


def _color(rng, lo=0, hi=255) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(lo, hi + 1, size=3))


def _skin(rng) -> tuple[int, int, int]:
    t = rng.uniform(0, 1)
    base = np.array([255, 224, 189]) * (1 - t) + np.array([92, 58, 38]) * t
    return tuple(int(v) for v in np.clip(base + rng.normal(0, 8, 3), 0, 255))


def make_scene(rng: np.random.Generator, canvas: int = CANVAS_SIZE) -> Scene:
    unit_joints, front, _ = _pose(rng)
    lo, hi = unit_joints.min(0), unit_joints.max(0)
    extent = float((hi - lo).max()) + 0.2  # + room for limb thickness and head
    size = canvas * rng.uniform(0.5, 0.88) / extent
    span = (hi - lo) * size
    margin = 0.1 * size
    free = np.maximum(canvas - span - 2 * margin, 0)
    offset = margin + rng.random(2) * free - lo * size
    joints = unit_joints * size + offset
    colors = {
        "skin": _skin(rng),
        "shirt": _color(rng),
        "pants": _color(rng, 0, 200),
        "hair": _color(rng, 0, 120),
        "shoes": _color(rng, 0, 90),
        "sleeves": bool(rng.random() < 0.5),
        "shorts": bool(rng.random() < 0.35),
    }
    widths = {
        "upper_arm": 0.075 * size * rng.uniform(0.85, 1.15),
        "forearm": 0.058 * size * rng.uniform(0.85, 1.15),
        "thigh": 0.10 * size * rng.uniform(0.85, 1.15),
        "shin": 0.072 * size * rng.uniform(0.85, 1.15),
        "head": 0.075 * size * rng.uniform(0.9, 1.1),
    }
    bg = {
        "base": _color(rng),
        "low": rng.uniform(0, 110),
        "noise": rng.uniform(0, 22),
        "seed": int(rng.integers(2**31)),
        "stripes": bool(rng.random() < 0.25),
        "stripe_period": float(rng.uniform(6, 30)),
        "stripe_angle": float(rng.uniform(0, 180)),
    }
    distractors = []
    for _ in range(int(rng.integers(0, 7))):
        kind = rng.choice(["rect", "circle", "line"])
        c = rng.uniform(0, canvas, size=2)
        distractors.append(
            {
                "kind": str(kind),
                "c": c,
                "r": float(rng.uniform(4, canvas / 4)),
                "r2": float(rng.uniform(3, canvas / 5)),
                "angle": float(rng.uniform(0, 180)),
                "w": float(rng.uniform(2, 10)),
                "color": _color(rng),
            }
        )
    visible = np.ones(14, bool)
    occluders = []
    if rng.random() < 0.35:
        for _ in range(int(rng.integers(1, 3))):
            target = joints[int(rng.integers(14))] + rng.normal(0, 0.05 * size, 2)
            half = rng.uniform(0.06, 0.2, size=2) * size
            occ = {
                "kind": str(rng.choice(["rect", "ellipse"])),
                "c": target,
                "half": half,
                "color": _color(rng),
            }
            occluders.append(occ)
            d = np.abs(joints - target) / half
            inside = (d <= 1).all(1) if occ["kind"] == "rect" else (d**2).sum(1) <= 1
            visible &= ~inside
    arm_front = (bool(rng.random() < 0.65), bool(rng.random() < 0.65))
    return Scene(joints, visible, size, front, arm_front, colors, occluders, distractors, bg, widths)


def _fp(p) -> np.ndarray:
    return np.round(np.asarray(p, np.float64) * _ONE).astype(np.int32)


def _poly(img, pts, color) -> None:
    cv2.fillPoly(img, [_fp(pts).reshape(-1, 1, 2)], color, cv2.LINE_AA, _SHIFT)


def _disc(img, c, r, color) -> None:
    cv2.circle(
        img, tuple(int(v) for v in _fp(c)), max(int(round(r * _ONE)), 1), color, -1, cv2.LINE_AA, _SHIFT
    )


def _shade(color, f: float) -> tuple[int, int, int]:
    return tuple(int(min(max(v * f, 0), 255)) for v in color)


def _limb(img, a, b, wa, wb, color) -> None:
    """Tapered segment a -> b (widths wa at a, wb at b) with rounded ends and a darker rim."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = b - a
    n = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
    pts = np.array([a + n * wa / 2, b + n * wb / 2, b - n * wb / 2, a - n * wa / 2])
    rim = _shade(color, 0.6)
    _poly(img, pts + 0.0, rim)
    _disc(img, a, wa / 2, rim)
    _disc(img, b, wb / 2, rim)
    inner = np.array([a + n * (wa / 2 - 1), b + n * (wb / 2 - 1), b - n * (wb / 2 - 1), a - n * (wa / 2 - 1)])
    _poly(img, inner, color)
    _disc(img, a, max(wa / 2 - 1, 0.5), color)
    _disc(img, b, max(wb / 2 - 1, 0.5), color)


def _background(scene: Scene, canvas: int) -> np.ndarray:
    bg = scene.bg
    rng = np.random.default_rng(bg["seed"])
    img = np.empty((canvas, canvas, 3), np.float32)
    img[:] = bg["base"]
    low = cv2.resize(
        rng.normal(0, 1, (4, 4, 3)).astype(np.float32), (canvas, canvas), interpolation=cv2.INTER_CUBIC
    )
    img += low * bg["low"] * 0.5
    if bg["stripes"]:
        yy, xx = np.mgrid[0:canvas, 0:canvas].astype(np.float32)
        a = math.radians(bg["stripe_angle"])
        wave = np.sin((xx * math.cos(a) + yy * math.sin(a)) * (2 * math.pi / bg["stripe_period"]))
        img += (wave * 25.0)[..., None]
    out = np.clip(img, 0, 255).astype(np.uint8)
    for dd in scene.distractors:
        c = tuple(int(v) for v in _fp(dd["c"]))
        if dd["kind"] == "rect":
            box = cv2.boxPoints(((dd["c"][0], dd["c"][1]), (dd["r"], dd["r2"]), dd["angle"]))
            _poly(out, box, dd["color"])
        elif dd["kind"] == "circle":
            cv2.circle(out, c, int(dd["r2"] * _ONE / 2), dd["color"], -1, cv2.LINE_AA, _SHIFT)
        else:
            e = dd["c"] + _d(dd["angle"]) * dd["r"] * 2
            cv2.line(
                out, c, tuple(int(v) for v in _fp(e)), dd["color"], max(int(dd["w"]), 1), cv2.LINE_AA, _SHIFT
            )
    return out


def render_scene(scene: Scene, canvas: int = CANVAS_SIZE) -> np.ndarray:
    """Draw a scene: uint8 RGB (canvas, canvas, 3)."""
    img = _background(scene, canvas)
    j, w, col = scene.joints, scene.widths, scene.colors
    p = {n: j[i] for n, i in _J.items()}
    skin, shirt, pants = col["skin"], col["shirt"], col["pants"]
    # the image-left / image-right sides in person terms
    left_img, right_img = ("r", "l") if scene.front else ("l", "r")

    def arm(side):
        _limb(img, p[f"{side}_shoulder"], p[f"{side}_elbow"], w["upper_arm"], w["forearm"] * 1.05, shirt)
        _limb(
            img,
            p[f"{side}_elbow"],
            p[f"{side}_wrist"],
            w["forearm"],
            w["forearm"] * 0.8,
            shirt if col["sleeves"] else skin,
        )
        _disc(img, p[f"{side}_wrist"], w["forearm"] * 0.55, skin)

    def leg(side):
        _limb(img, p[f"{side}_hip"], p[f"{side}_knee"], w["thigh"], w["shin"] * 1.05, pants)
        _limb(
            img,
            p[f"{side}_knee"],
            p[f"{side}_ankle"],
            w["shin"],
            w["shin"] * 0.75,
            skin if col["shorts"] else pants,
        )
        foot_dir = p[f"{side}_ankle"] - p[f"{side}_knee"]
        foot_dir = foot_dir / (np.hypot(*foot_dir) + 1e-9)
        _limb(
            img,
            p[f"{side}_ankle"],
            p[f"{side}_ankle"] + foot_dir * w["shin"] * 0.6,
            w["shin"] * 0.75,
            w["shin"] * 0.6,
            col["shoes"],
        )

    back_arms = [s for s, f in zip((left_img, right_img), scene.arm_front, strict=True) if not f]
    front_arms = [s for s, f in zip((left_img, right_img), scene.arm_front, strict=True) if f]
    for s in back_arms:
        arm(s)
    leg(left_img)
    leg(right_img)
    # torso: shoulders -> hips quad, slightly widened
    torso = np.array([p["r_shoulder"], p["l_shoulder"], p["l_hip"], p["r_hip"]])
    cen = torso.mean(0)
    torso_w = cen + (torso - cen) * 1.12
    _poly(img, torso_w, _shade(shirt, 0.6))
    _poly(img, cen + (torso - cen) * 1.05, shirt)
    _poly(img, cen + (np.array([p["r_hip"], p["l_hip"]]) - cen) * 1.12 + np.zeros((2, 2)), pants)
    hips = np.array([p["r_hip"], p["l_hip"]])
    mid_hip = hips.mean(0)
    waist = mid_hip + (np.array([p["r_shoulder"], p["l_shoulder"]]).mean(0) - mid_hip) * 0.18
    _poly(
        img,
        np.array([hips[0], hips[1], waist + (hips[1] - mid_hip) * 1.1, waist + (hips[0] - mid_hip) * 1.1]),
        pants,
    )
    # neck and head: the head is a disc between neck and head top
    ht, nk = p["head_top"], p["neck"]
    _limb(img, nk - (ht - nk) * 0.15, nk + (ht - nk) * 0.3, w["head"] * 0.8, w["head"] * 0.8, skin)
    hc = nk + (ht - nk) * 0.58
    hr = float(np.hypot(*(ht - nk))) * 0.42
    _disc(img, hc, hr + 1, _shade(col["hair"], 0.8))
    if scene.front:
        _disc(img, hc, hr, skin)
        up = (ht - nk) / (np.hypot(*(ht - nk)) + 1e-9)
        side = np.array([-up[1], up[0]])
        _disc(img, hc + up * hr * 0.55, hr * 0.75, col["hair"])  # hairline
        _disc(img, hc + up * hr * 0.05, hr * 0.72, skin)
        for sgn in (-1, 1):
            _disc(img, hc + up * hr * 0.1 + side * sgn * hr * 0.38, max(hr * 0.12, 0.7), (20, 20, 20))
        _limb(
            img,
            hc - up * hr * 0.45 - side * hr * 0.25,
            hc - up * hr * 0.45 + side * hr * 0.25,
            1.2,
            1.2,
            (150, 40, 40),
        )
    else:
        _disc(img, hc, hr, col["hair"])
    for s in front_arms:
        arm(s)
    for o in scene.occluders:
        if o["kind"] == "rect":
            lo, hi = o["c"] - o["half"], o["c"] + o["half"]
            _poly(img, np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]]), o["color"])
        else:
            c = tuple(int(v) for v in _fp(o["c"]))
            axes = tuple(int(v) for v in _fp(o["half"]))
            cv2.ellipse(img, c, axes, 0, 0, 360, o["color"], -1, cv2.LINE_AA, _SHIFT)
    noise = scene.bg["noise"]
    if noise > 0:
        n = np.random.default_rng(scene.bg["seed"] + 1).standard_normal(img.shape, dtype=np.float32)
        n *= noise
        n += img
        img = np.clip(n, 0, 255, out=n).astype(np.uint8)
    return img


class SyntheticPoses(PoseDataset):
    """Procedural people, LSP-14 ground truth (mapped into ``keypoint_set``), generated on the fly.

    Split ``train`` / ``val`` / ``test`` use disjoint scene-id ranges; ``num_samples`` overrides
    the split's default size; ``seed`` selects another universe of scenes.
    """

    name = "synthetic"

    def __init__(
        self,
        split: str = "train",
        num_samples: int | None = None,
        seed: int = 0,
        keypoint_set="lsp14",
        canvas: int = CANVAS_SIZE,
        data_dir=None,  # accepted for registry symmetry; unused
    ):
        if split not in SYNTHETIC_SPLITS:
            raise ValueError(f"unknown split {split!r}; known: {', '.join(SYNTHETIC_SPLITS)}")
        self.split = split
        super().__init__(keypoint_set, SkipReport(f"synthetic/{split}"))
        self.first_id, default_n = SYNTHETIC_SPLITS[split]
        self.num_samples = default_n if num_samples is None else int(num_samples)
        self.seed, self.canvas = int(seed), int(canvas)
        self._cache: OrderedDict[int, Scene] = OrderedDict()
        self.keypoint_set = get_keypoint_set(keypoint_set)

    def __len__(self) -> int:
        return self.num_samples

    def scene(self, i: int) -> Scene:
        sc = self._cache.get(i)
        if sc is None:
            sc = make_scene(np.random.default_rng([self.seed, self.first_id + int(i)]), self.canvas)
            self._cache[i] = sc
            while len(self._cache) > 512:
                try:
                    self._cache.popitem(last=False)
                except KeyError:  # pragma: no cover - concurrent eviction
                    break
        return sc

    def sample(self, i: int) -> Sample:
        sc = self.scene(i)
        kp, mask, vis = to_keypoint_set(sc.joints, np.ones(14, bool), sc.visible, "lsp14", self.keypoint_set)
        center, side = box_from_keypoints(kp, mask)
        return Sample(
            None, kp, mask, vis, center, side, self.keypoint_set.name, "synthetic",
            f"synthetic/{self.split}/{i}", (self.canvas, self.canvas),
        )  # fmt: skip

    def load_image(self, i: int, reduce: int = 1):
        img = render_scene(self.scene(i), self.canvas)
        if reduce > 1:
            img = cv2.resize(img, (0, 0), fx=1.0 / reduce, fy=1.0 / reduce, interpolation=cv2.INTER_AREA)
        return img, (self.canvas, self.canvas)
