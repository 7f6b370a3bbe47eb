"""Int8 calibration data: real images through the evaluation crop (a dataset or a folder of images).

Representative crops decide the int8 ranges, so they go through exactly the preprocessing the
model sees at evaluation (:class:`repose_tf.data.SampleTransform` without augmentation), spread
evenly over the dataset with a fixed seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from repose_tf.export import ExportError
from repose_tf.paths import find_lspet_dir

DEFAULT_NUM_CALIBRATION = 200
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
CALIBRATION_DATASETS = ("auto", "images", "lspet", "lsp", "mpii", "coco")


def default_calibration_dir() -> Path | None:
    """LSPET beside the repository (``../shared/data/lspet``) when present."""
    return find_lspet_dir()


class CalibrationError(ExportError):
    """The int8 calibration data is missing, empty or unreadable."""


def _detect_dataset(root: Path) -> str:
    if (root / "joints.mat").is_file():
        return "lspet_or_lsp"
    if (root / "annot").is_dir():
        return "mpii"
    if (root / "annotations").is_dir():
        return "coco"
    return "images"


def _spread(n_total: int, n: int, seed: int) -> np.ndarray:
    if n >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, size=n, replace=False))


def _dataset_crops(name, root, split, n, input_size, keypoint_set, seed) -> tuple[np.ndarray, dict]:
    from repose_tf.data import SampleTransform, get_dataset, load_batch

    ds = get_dataset(name, root, split, keypoint_set)
    if len(ds) == 0:
        raise CalibrationError(f"calibration dataset {name} in {root} ({split}) has no samples")
    idx = _spread(len(ds), n, seed)
    t = SampleTransform(input_size, ds.keypoint_set, train=False)
    batch = load_batch(ds, t, idx, keys=("image",), on_error="skip")
    info = {"source": str(root), "dataset": name, "split": split, "crop": "annotated-joint box (eval crop)"}
    return batch["image"], info


def _image_dir_crops(root: Path, n, input_size, seed) -> tuple[np.ndarray, dict]:
    from repose_tf.data import DataError, prepare_image, read_image

    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise CalibrationError(
            f"calibration dir {root} has no images (looked for {', '.join(IMAGE_EXTENSIONS)}, recursively)"
        )
    order = [files[i] for i in np.random.default_rng(seed).permutation(len(files))]
    crops, bad = [], []
    for p in order:
        if len(crops) >= n:
            break
        try:
            img, _ = read_image(str(p))
        except (DataError, OSError, ValueError) as e:
            bad.append(f"{p.name}: {e}")
            continue
        crops.append(prepare_image(img, input_size)[0])
    if not crops:
        raise CalibrationError(
            f"none of the {len(files)} images in {root} could be read (first error: {bad[0] if bad else '?'})"
        )
    info = {"source": str(root), "dataset": "images", "crop": "whole image, centred square (prepare_image)"}
    if bad:
        info["unreadable"] = len(bad)
    return np.stack(crops), info


def calibration_images(
    source: Any,
    num: int = DEFAULT_NUM_CALIBRATION,
    input_size: int = 128,
    keypoint_set: str = "lsp14",
    *,
    dataset: str = "auto",
    split: str = "train",
    seed: int = 0,
) -> tuple[np.ndarray, dict]:
    """(N, n, n, 3) float32 RGB 0..255 crops for int8 calibration, and a description.

    ``source``: an array of crops; a directory (``dataset="auto"`` detects LSPET/LSP
    ``joints.mat``, MPII ``annot/``, COCO ``annotations/``, else a plain image dir); or a tuple
    ``(dataset_name, data_dir[, split])``. Dataset samples get THE evaluation crop (the box of
    the annotated joints, no augmentation); a plain image dir gets whole-image centred crops.
    ``num`` samples are drawn without replacement with ``seed`` (all of them if fewer).
    """
    if num < 1:
        raise CalibrationError(f"num_calibration must be >= 1, got {num}")
    if isinstance(source, np.ndarray):
        x = np.asarray(source, np.float32)
        if x.ndim != 4 or x.shape[1:] != (input_size, input_size, 3) or len(x) == 0:
            raise CalibrationError(
                f"calibration array must be (N, {input_size}, {input_size}, 3), got {x.shape}"
            )
        return x[:num], {"source": "array", "dataset": "array", "crop": "given"}
    if isinstance(source, (tuple, list)):
        dataset, source, *rest = source
        split = rest[0] if rest else split
    if source is None:
        raise CalibrationError("int8 export needs calibration data: a directory of images or a dataset dir")
    if dataset not in CALIBRATION_DATASETS:
        raise CalibrationError(
            f"unknown calibration dataset {dataset!r}; choose one of {CALIBRATION_DATASETS}"
        )
    root = Path(source)
    if not root.exists():
        raise CalibrationError(f"calibration dir not found: {root}")
    if not root.is_dir():
        raise CalibrationError(f"calibration source {root} is not a directory")
    kind = _detect_dataset(root) if dataset == "auto" else dataset
    from repose_tf.data import DataError

    try:
        if kind == "images":
            x, info = _image_dir_crops(root, num, input_size, seed)
        elif kind == "lspet_or_lsp":
            try:
                x, info = _dataset_crops("lspet", root, split, num, input_size, keypoint_set, seed)
            except (DataError, ValueError):
                x, info = _dataset_crops("lsp", root, split, num, input_size, keypoint_set, seed)
        else:
            x, info = _dataset_crops(kind, root, split, num, input_size, keypoint_set, seed)
    except CalibrationError:
        raise
    except (DataError, ValueError, OSError) as e:
        raise CalibrationError(f"cannot read calibration data from {root}: {e}") from None
    info["num_images"] = int(len(x))
    return x, info


__all__ = [
    "CALIBRATION_DATASETS",
    "DEFAULT_NUM_CALIBRATION",
    "IMAGE_EXTENSIONS",
    "CalibrationError",
    "calibration_images",
    "default_calibration_dir",
]
