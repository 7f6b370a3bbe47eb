"""Data: readers (LSP, LSPET, MPII, COCO, synthetic), the shared sample transform, input pipelines.

Importing this package imports neither TensorFlow nor Keras (see :mod:`repose_tf.data.pipeline`).

    ds = get_dataset("lspet", data_dir="../shared/data/lspet", split="train")
    t = SampleTransform(128, ds.keypoint_set, train=True)
    tf_ds = make_tf_dataset(ds, t, batch_size=64, seed=0)       # tf.data
    py_ds = PosePyDataset(ds, t, batch_size=64, seed=0)          # keras.utils.PyDataset, no TF
    print(ds.report.summary())                                   # skipped / changed samples
"""

from __future__ import annotations

from pathlib import Path

from repose_tf.data.coco import read_coco
from repose_tf.data.errors import DataError, SkipReport
from repose_tf.data.images import read_image
from repose_tf.data.lsp import read_lsp
from repose_tf.data.lspet import read_lspet
from repose_tf.data.mix import MixedDataset
from repose_tf.data.mpii import read_mpii
from repose_tf.data.pipeline import (
    DEFAULT_KEYS,
    epoch_order,
    load_batch,
    load_example,
    make_tf_dataset,
    num_batches,
)
from repose_tf.data.sample import BOX_SCALE, ListDataset, PoseDataset, Sample, box_from_keypoints
from repose_tf.data.synthetic import SyntheticPoses
from repose_tf.data.transforms import (
    Augmentation,
    AugmentConfig,
    SampleTransform,
    crop_affine,
    forward_map,
    inverse_map,
    prepare_image,
    whole_image_box,
)

__all__ = [
    "BOX_SCALE",
    "DATASETS",
    "DEFAULT_KEYS",
    "AugmentConfig",
    "Augmentation",
    "DataError",
    "ListDataset",
    "MixedDataset",
    "PoseDataset",
    "PosePyDataset",
    "Sample",
    "SampleTransform",
    "SkipReport",
    "SyntheticPoses",
    "box_from_keypoints",
    "crop_affine",
    "epoch_order",
    "forward_map",
    "get_dataset",
    "get_mixture",
    "inverse_map",
    "load_batch",
    "load_example",
    "make_tf_dataset",
    "num_batches",
    "prepare_image",
    "read_coco",
    "read_image",
    "read_lsp",
    "read_lspet",
    "read_mpii",
    "whole_image_box",
]


def _synthetic(data_dir=None, split="train", keypoint_set="lsp14", **kw):
    return SyntheticPoses(split=split, keypoint_set=keypoint_set, **kw)


#: name -> reader(data_dir, split, keypoint_set, **options)
DATASETS = {
    "lsp": read_lsp,
    "lspet": read_lspet,
    "mpii": read_mpii,
    "coco": read_coco,
    "synthetic": _synthetic,
}
#: Default data_dir under the shared data root for each dataset (None: needs no files).
DEFAULT_SUBDIRS = {"lsp": "lsp", "lspet": "lspet", "mpii": "mpii", "coco": "coco", "synthetic": None}


def get_dataset(
    name: str, data_dir=None, split: str = "train", keypoint_set="lsp14", **options
) -> PoseDataset:
    """A dataset by registry name (``lsp``, ``lspet``, ``mpii``, ``coco``, ``synthetic``)."""
    key = name.lower()
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if data_dir is None and key != "synthetic":
        raise ValueError(f"dataset {name!r} needs data_dir")
    return DATASETS[key](
        data_dir=Path(data_dir) if data_dir else None, split=split, keypoint_set=keypoint_set, **options
    )


def get_mixture(specs, keypoint_set="lsp14", length=None, seed=0) -> PoseDataset:
    """Weighted mixture from ``[(name, data_dir, split, weight), ...]``; one spec returns that dataset.

    Trailing items may be left out: data_dir None, split "train", weight 1. The mixture's
    ``report`` gathers the skip reports of its parts.
    """
    parts, weights = [], []
    defaults = (None, None, "train", 1.0)
    for spec in specs:
        spec = tuple(spec)
        if not 1 <= len(spec) <= 4:
            raise ValueError(f"dataset spec {spec!r} must be (name[, data_dir[, split[, weight]]])")
        name, data_dir, split, weight = spec + defaults[len(spec) :]
        parts.append(get_dataset(name, data_dir, split, keypoint_set))
        weights.append(float(weight))
    if len(parts) == 1 and length is None:
        return parts[0]
    return MixedDataset(parts, weights, length=length, seed=seed)


def __getattr__(name: str):
    if name == "PosePyDataset":
        from repose_tf.data import pipeline

        return pipeline.PosePyDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
