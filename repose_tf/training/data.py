"""The training data stream: which datasets, in what order, from which step.

The order is a pure function of (seed, step), so ``--resume`` continues with the batch the killed
run would have seen next. TensorFlow builds a ``tf.data`` pipeline; the other backends read a
``PyDataset`` (no TensorFlow needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from repose_tf.training.errors import TrainingError


class DatasetSpec(NamedTuple):
    """One training dataset of a weighted mixture."""

    name: str
    data_dir: str | None
    weight: float

    def to_dict(self) -> dict:
        return {"name": self.name, "data_dir": self.data_dir, "weight": self.weight}


SYNTHETIC = (DatasetSpec("synthetic", None, 1.0),)


def parse_dataset_names(names: tuple[str, ...] | list[str]) -> list[tuple[str, float]]:
    """``("lspet:3", "mpii:1")`` -> ``[("lspet", 3.0), ("mpii", 1.0)]``; unknown names are refused."""
    from repose_tf.data import DATASETS

    out = []
    for item in names:
        name, _, w = item.partition(":")
        name = name.strip().lower()
        if name not in DATASETS:
            raise TrainingError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
        try:
            out.append((name, float(w) if w else 1.0))
        except ValueError:
            raise TrainingError(f"bad weight in --dataset {item!r} (expected name:number)") from None
    return out


def parse_datasets(names: tuple[str, ...] | list[str] | None, dirs) -> tuple[DatasetSpec, ...]:
    """``--dataset lspet:3,mpii:1`` + ``--data_dir`` -> one :class:`DatasetSpec` per dataset.

    ``dirs`` is one directory per dataset, or one root holding ``<dataset>/`` subdirectories.
    """
    from repose_tf.data import DEFAULT_SUBDIRS

    if not names:
        return SYNTHETIC
    parsed = parse_dataset_names(names)
    dirs = list(dirs or [])
    specs = []
    for i, (name, weight) in enumerate(parsed):
        if name == "synthetic":
            d = None
        elif not dirs:
            raise TrainingError(f"--dataset {name} needs --data_dir")
        elif len(dirs) == len(parsed):
            d = dirs[i]
        elif len(dirs) == 1 and (Path(dirs[0]) / DEFAULT_SUBDIRS[name]).is_dir() and len(parsed) > 1:
            d = str(Path(dirs[0]) / DEFAULT_SUBDIRS[name])
        elif len(dirs) == 1:
            d = dirs[0]
        else:
            raise TrainingError("give one --data_dir per dataset, or one root holding <dataset>/ dirs")
        if d is not None and not Path(d).exists():
            raise TrainingError(f"data_dir {d} does not exist (dataset {name})")
        specs.append(DatasetSpec(name, d, weight))
    return tuple(specs)


def training_set(specs: tuple[DatasetSpec, ...], keypoint_set: str, seed: int, max_samples: int | None):
    """The weighted mixture of ``specs`` (its first ``max_samples`` samples when given)."""
    from repose_tf.data import get_mixture

    ds = get_mixture(
        [(s.name, s.data_dir, "train", s.weight) for s in specs], keypoint_set=keypoint_set, seed=seed
    )
    return _head_cls()(ds, max_samples) if max_samples else ds


def validation_set(name: str, data_dir: str | None, split: str) -> tuple[str, Any] | None:
    """``(name, dataset)`` for periodic validation, or None (printed) when it cannot be read."""
    from repose_tf.data import DataError, get_dataset
    from repose_tf.evaluate import DATASET_KEYPOINTS

    try:
        ds = get_dataset(name, data_dir, split, DATASET_KEYPOINTS.get(name, "lsp14"))
    except (ValueError, DataError, FileNotFoundError) as e:
        print(f"no validation set ({name}/{split}: {e}); periodic validation disabled")
        return None
    return (name, ds) if len(ds) else None


def to_training_batch(batch: dict, output_names: list[str]):
    """dict batch -> (image, {output: heatmaps}, {output: keypoint weights}) for Model.fit."""
    from repose_tf.losses import keypoint_weights

    w = keypoint_weights(batch["mask"])
    return (
        batch["image"],
        {n: batch["heatmaps"] for n in output_names},
        {n: w for n in output_names},
    )


def make_train_data(
    train_ds,
    transform,
    *,
    batch_size: int,
    seed: int,
    start_step: int,
    output_names: list[str],
    workers: int = 1,
):
    """Infinite stream of training batches starting exactly at ``start_step`` (resume-safe order)."""
    import keras

    from repose_tf.data import num_batches

    per_epoch = num_batches(len(train_ds), batch_size, True)
    if per_epoch == 0:
        raise TrainingError(f"batch_size {batch_size} is larger than the dataset ({len(train_ds)} samples)")
    start_epoch, offset = divmod(start_step, per_epoch)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        from repose_tf.data import make_tf_dataset

        ds = make_tf_dataset(
            train_ds,
            transform,
            batch_size,
            seed=seed,
            start_epoch=start_epoch,
            start_batch=offset,
            deterministic=True,
            on_error="skip",
        )
        ds = ds.map(lambda b: to_training_batch(b, output_names))
        opts = tf.data.Options()
        opts.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return ds.with_options(opts)
    from repose_tf.data import PosePyDataset

    py = PosePyDataset(
        train_ds, transform, batch_size, seed=seed, start_epoch=start_epoch, on_error="skip", workers=workers
    )
    return iter(PyStream(py, offset, output_names))


class PyStream:
    """Infinite generator over PosePyDataset batches (JAX / torch backends: no TensorFlow)."""

    def __init__(self, ds, offset: int, output_names: list[str]):
        self.ds, self.offset, self.names = ds, offset, output_names

    def __iter__(self):
        import numpy as np

        b = self.offset
        while True:
            if b >= len(self.ds):
                self.ds.on_epoch_end()
                b = 0
            batch = self.ds[b]
            w = batch["mask"] * batch["mask"].shape[-1] / np.maximum(batch["mask"].sum(-1, keepdims=True), 1)
            yield batch["image"], {n: batch["heatmaps"] for n in self.names}, {n: w for n in self.names}
            b += 1


def _head_cls():
    from repose_tf.data import PoseDataset

    class Head(PoseDataset):
        """The first ``n`` samples of a dataset (same images, same order)."""

        def __init__(self, base, n: int):
            self.name, self.split = base.name, getattr(base, "split", "train")
            super().__init__(base.keypoint_set, base.report)
            self.base, self.n = base, min(int(n), len(base))

        def __len__(self) -> int:
            return self.n

        def sample(self, i: int):
            return self.base.sample(i)

        def load_image(self, i: int, reduce: int = 1):
            return self.base.load_image(i, reduce)

        def locate(self, i: int, epoch: int = 0):
            return self.base.locate(i, epoch)

    return Head


__all__ = [
    "SYNTHETIC",
    "DatasetSpec",
    "PyStream",
    "make_train_data",
    "parse_dataset_names",
    "parse_datasets",
    "to_training_batch",
    "training_set",
    "validation_set",
]
