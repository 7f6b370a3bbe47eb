"""THE sample transform (numpy + OpenCV, no TF): training, evaluation, export calibration, inference.

A crop is one affine warp ``A`` (2x3) taking original-image pixel coordinates to crop pixel
coordinates (0-based, pixel centres at integers, as in :mod:`repose_tf.codec`): the square of
side ``box_size * scale`` around ``center`` -> ``input_size`` x ``input_size``, rotated by the
augmentation angle and optionally mirrored. Predictions map back with :func:`inverse_map`.

Training augmentation (paper, section 4): scale in [0.7, 1.3], rotation in +-60 deg,
horizontal flip (joint labels swapped with ``KeypointSet.flip_permutation()``), colour noise
(per-channel jitter, brightness, contrast). Targets: ``codec.encode`` Gaussians with sigma
``codec.default_sigma(input_size)`` (5 px at 128). Annotated joints that land outside the crop
become unannotated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from repose_tf import codec
from repose_tf.data.images import REDUCE_FACTORS, reduced_to_original
from repose_tf.data.sample import Sample
from repose_tf.keypoints import KeypointSet, get_keypoint_set

__all__ = [
    "AugmentConfig",
    "Augmentation",
    "SampleTransform",
    "crop_affine",
    "forward_map",
    "inverse_map",
    "prepare_image",
    "whole_image_box",
]

#: Annotated joints further than this outside the image (px) are made unannotated (counted).
OUTSIDE_IMAGE_TOLERANCE = 1.0


@dataclass(frozen=True)
class AugmentConfig:
    """Training augmentation ranges (defaults: the paper's)."""

    scale_range: tuple[float, float] = (0.7, 1.3)
    rotation: float = 60.0  # degrees, uniform in [-rotation, rotation]
    rotation_prob: float = 1.0
    flip_prob: float = 0.5
    brightness: float = 32.0  # added, uniform in [-b, b] (0..255 scale)
    contrast: tuple[float, float] = (0.7, 1.3)  # around the image mean
    channel_jitter: tuple[float, float] = (0.85, 1.15)  # per-channel gain
    color_prob: float = 1.0


@dataclass(frozen=True)
class Augmentation:
    """One draw of augmentation parameters (identity = evaluation)."""

    scale: float = 1.0
    rotation: float = 0.0
    flip: bool = False
    brightness: float = 0.0
    contrast: float = 1.0
    gains: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @classmethod
    def draw(cls, rng: np.random.Generator, cfg: AugmentConfig) -> Augmentation:
        # Always draw the same numbers in the same order so samples reproduce across code paths.
        u = rng.random(9)
        scale = cfg.scale_range[0] + u[0] * (cfg.scale_range[1] - cfg.scale_range[0])
        rot = (2 * u[1] - 1) * cfg.rotation if u[2] < cfg.rotation_prob else 0.0
        flip = bool(u[3] < cfg.flip_prob)
        use_color = u[4] < cfg.color_prob
        b = (2 * u[5] - 1) * cfg.brightness if use_color else 0.0
        c = cfg.contrast[0] + u[6] * (cfg.contrast[1] - cfg.contrast[0]) if use_color else 1.0
        g = rng.uniform(cfg.channel_jitter[0], cfg.channel_jitter[1], size=3) if use_color else np.ones(3)
        return cls(float(scale), float(rot), flip, float(b), float(c), tuple(float(x) for x in g))


def whole_image_box(height: int, width: int) -> tuple[np.ndarray, float]:
    """(center, box_size) of a square crop that holds the whole image (inference on a photo)."""
    return np.array([(width - 1) / 2.0, (height - 1) / 2.0], np.float32), float(max(height, width))


def crop_affine(
    center, box_size: float, input_size: int, scale: float = 1.0, rotation: float = 0.0, flip=False
):
    """(2, 3) float64 affine: original pixel coords -> crop pixel coords.

    The square of side ``box_size * scale`` centred on ``center`` fills the ``input_size`` crop
    (its edges at -0.5 and input_size - 0.5), rotated by ``rotation`` degrees about the centre,
    then mirrored left-right if ``flip``.
    """
    k = input_size / (float(box_size) * float(scale))
    a = math.radians(rotation)
    cs, sn = math.cos(a) * k, math.sin(a) * k
    r = np.array([[cs, -sn], [sn, cs]])
    half = (input_size - 1) / 2.0
    t = np.array([half, half]) - r @ np.asarray(center, np.float64)
    m = np.concatenate([r, t[:, None]], axis=1)
    if flip:
        m = np.array([[-1.0, 0.0, input_size - 1.0], [0.0, 1.0, 0.0]]) @ np.vstack([m, [0, 0, 1]])
    return m


def forward_map(points, affine) -> np.ndarray:
    """Apply (..., 2, 3) affine(s) to (..., K, 2) points."""
    p = np.asarray(points, np.float64)
    a = np.asarray(affine, np.float64)
    return np.einsum("...ij,...kj->...ki", a[..., :2], p) + a[..., None, :, 2]


def inverse_map(points, affine) -> np.ndarray:
    """Map (..., K, 2) crop coordinates back to original-image coordinates with the inverse of ``affine``.

    Note: for a flipped crop the joint *labels* were also swapped; un-permute them yourself
    (``points[..., flip_perm, :]``) if you invert a training sample.
    """
    a = np.asarray(affine, np.float64)
    lin = a[..., :2]
    inv = np.linalg.inv(lin)
    p = np.asarray(points, np.float64) - a[..., None, :, 2]
    return np.einsum("...ij,...kj->...ki", inv, p).astype(np.float32)


def prepare_image(image: np.ndarray, input_size: int = 128, center=None, box_size=None):
    """Crop an RGB uint8 image for inference: returns (float32 crop (S, S, 3) in 0..255, affine (2, 3)).

    Without ``center``/``box_size`` the whole image is used (centred, padded to a square).
    """
    if center is None or box_size is None:
        center, box_size = whole_image_box(*image.shape[:2])
    m = crop_affine(center, box_size, input_size)
    crop = cv2.warpAffine(image, m, (input_size, input_size), flags=cv2.INTER_LINEAR, borderValue=0)
    return crop.astype(np.float32), m.astype(np.float32)


class SampleTransform:
    """Crop (+ augment) one sample and build its targets. Callable: ``t(image, sample, rng)``.

    ``train=False`` (or ``augment=None``) is the deterministic evaluation / inference crop.
    """

    def __init__(
        self,
        input_size: int = 128,
        keypoint_set: str | KeypointSet = "lsp14",
        train: bool = False,
        augment: AugmentConfig | None = None,
        sigma: float | None = None,
        reduce_images: bool = True,
    ):
        self.input_size = int(input_size)
        self.keypoint_set = get_keypoint_set(keypoint_set)
        self.train = bool(train)
        self.augment = (augment or AugmentConfig()) if train else None
        self.sigma = float(sigma) if sigma is not None else codec.default_sigma(self.input_size)
        self.reduce_images = reduce_images
        self.flip_perm = self.keypoint_set.flip_permutation()

    def draw(self, rng: np.random.Generator | None) -> Augmentation:
        if self.augment is None or rng is None:
            return Augmentation()
        return Augmentation.draw(rng, self.augment)

    def reduce_factor(self, sample: Sample, aug: Augmentation) -> int:
        """Largest JPEG reduction (1, 2, 4, 8) that still leaves >= input_size source px across the crop."""
        if not self.reduce_images:
            return 1
        ratio = sample.box_size * aug.scale / self.input_size
        r = 1
        for f in REDUCE_FACTORS:
            if ratio >= f:
                r = f
        return r

    def outside_image(self, sample: Sample, image_hw) -> np.ndarray:
        """Annotated joints that lie outside the image (beyond ``OUTSIDE_IMAGE_TOLERANCE``)."""
        h, w = image_hw
        x, y = sample.keypoints[:, 0], sample.keypoints[:, 1]
        tol = 0.5 + OUTSIDE_IMAGE_TOLERANCE
        out = (x < -tol) | (y < -tol) | (x > w - 1 + tol) | (y > h - 1 + tol)
        return out & sample.mask

    def __call__(
        self,
        image: np.ndarray,
        sample: Sample,
        rng: np.random.Generator | None = None,
        aug: Augmentation | None = None,
        reduce: int = 1,
        image_hw: tuple[int, int] | None = None,
        report=None,
        out: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Crop ``image`` (uint8 RGB, decoded at 1/``reduce`` of the original) for ``sample``.

        Returns ``image`` (S,S,3) float32 0..255, ``heatmaps`` (S,S,K) float32, ``mask`` (K,)
        float32, ``keypoints`` (K,2) float32 crop coords, ``visible`` (K,) float32, ``affine``
        (2,3) float32 original -> crop. ``out`` may hold preallocated ``image`` / ``heatmaps``
        arrays (slices of a batch) that are filled in place instead of allocating new ones.
        """
        out = out or {}
        if aug is None:
            aug = self.draw(rng)
        s = self.input_size
        mask = sample.mask.copy()
        if image_hw is not None:
            outside = self.outside_image(sample, image_hw)
            if outside.any():
                mask &= ~outside
                if report is not None:
                    names = ",".join(sample_names(sample, outside))
                    report.add("annotated joint outside the image -> unannotated", f"{sample.id}:{names}")
        m = crop_affine(sample.center, sample.box_size, s, aug.scale, aug.rotation, aug.flip)
        m_img = m @ reduced_to_original(reduce) if reduce != 1 else m
        crop = cv2.warpAffine(image, m_img, (s, s), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        img = out.get("image")
        if img is None:
            img = np.empty((s, s, 3), np.float32)
        if aug.contrast != 1.0 or aug.brightness != 0.0 or aug.gains != (1.0, 1.0, 1.0):
            mean = float(crop.mean())
            gains = np.asarray(aug.gains, np.float32) * np.float32(aug.contrast)
            offset = np.float32((1.0 - aug.contrast) * mean + aug.brightness)
            np.multiply(crop, gains, out=img)
            img += offset
            np.clip(img, 0.0, 255.0, out=img)
        else:
            img[...] = crop
        kp = forward_map(sample.keypoints, m)
        vis = sample.visible & mask
        if aug.flip:
            kp, mask, vis = kp[self.flip_perm], mask[self.flip_perm], vis[self.flip_perm]
        inside = (kp[:, 0] >= 0) & (kp[:, 0] <= s - 1) & (kp[:, 1] >= 0) & (kp[:, 1] <= s - 1)
        mask = mask & inside
        kp = kp.astype(np.float32)
        return {
            "image": img,
            "heatmaps": codec.encode(kp, mask, s, self.sigma, out=out.get("heatmaps")),
            "mask": mask.astype(np.float32),
            "keypoints": kp,
            "visible": (vis & mask).astype(np.float32),
            "affine": m.astype(np.float32),
        }


def sample_names(sample: Sample, which: np.ndarray) -> list[str]:
    ks = get_keypoint_set(sample.keypoint_set)
    return [ks.names[i] for i in np.nonzero(which)[0]]
