"""Input pipelines: ``make_tf_dataset`` (tf.data) and ``PosePyDataset`` (keras.utils.PyDataset, numpy only).

Both produce identical batches for the same seed: the epoch's order is
``np.random.default_rng([seed, epoch]).permutation(n)`` and every example is built by
:func:`load_example` from ``np.random.default_rng([seed, epoch, index])``. Importing this
module imports neither TensorFlow nor Keras: TF is imported inside ``make_tf_dataset``, Keras
when ``PosePyDataset`` is first used (so JAX-backend training never loads TensorFlow).
"""

from __future__ import annotations

import math

import numpy as np

from repose_tf.data.errors import DataError
from repose_tf.data.sample import PoseDataset
from repose_tf.data.transforms import SampleTransform

__all__ = [
    "DEFAULT_KEYS",
    "PosePyDataset",  # noqa: F822 (created lazily by __getattr__: importing Keras is deferred)
    "epoch_order",
    "example_specs",
    "load_batch",
    "load_example",
    "make_tf_dataset",
    "num_batches",
]

DEFAULT_KEYS = ("image", "heatmaps", "mask")
ALL_KEYS = ("image", "heatmaps", "mask", "keypoints", "visible", "affine", "index")
_MAX_REPLACEMENTS = 100


def example_specs(transform: SampleTransform, keys=DEFAULT_KEYS) -> dict[str, tuple[tuple[int, ...], str]]:
    """Per-example (shape, dtype) of each key."""
    s, k = transform.input_size, transform.keypoint_set.num_keypoints
    specs = {
        "image": ((s, s, 3), "float32"),
        "heatmaps": ((s, s, k), "float32"),
        "mask": ((k,), "float32"),
        "keypoints": ((k, 2), "float32"),
        "visible": ((k,), "float32"),
        "affine": ((2, 3), "float32"),
        "index": ((), "int64"),
    }
    unknown = set(keys) - set(specs)
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}; available: {', '.join(specs)}")
    return {key: specs[key] for key in keys}


def epoch_order(n: int, seed: int, epoch: int, shuffle: bool = True) -> np.ndarray:
    """Index order of one epoch (a fresh permutation per epoch when shuffling)."""
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n).astype(np.int64)


def num_batches(n: int, batch_size: int, drop_remainder: bool) -> int:
    return n // batch_size if drop_remainder else math.ceil(n / batch_size)


def _build(
    source: PoseDataset, transform: SampleTransform, index: int, epoch: int, seed: int, out=None
) -> dict:
    rng = np.random.default_rng([int(seed), int(epoch), int(index)])
    ds, j = source.locate(int(index), int(epoch))
    sample = ds.sample(j)
    aug = transform.draw(rng)
    reduce = transform.reduce_factor(sample, aug)
    image, hw = ds.load_image(j, reduce)
    ex = transform(image, sample, aug=aug, reduce=reduce, image_hw=hw, report=ds.report, out=out)
    ex["index"] = np.int64(index)
    return ex


def load_example(
    source: PoseDataset,
    transform: SampleTransform,
    index: int,
    epoch: int = 0,
    seed: int = 0,
    on_error="raise",
    out: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Build example ``index`` of ``epoch``: image read, crop/augment, targets. Pure numpy/OpenCV.

    ``on_error='raise'``: a bad image raises :class:`DataError` naming the file.
    ``on_error='skip'``: it is counted in the dataset's report and replaced by the next index
    (deterministically, so every code path substitutes the same example).
    ``out``: preallocated ``image`` / ``heatmaps`` arrays to fill (see ``SampleTransform``).
    """
    n = len(source)
    for k in range(min(n, _MAX_REPLACEMENTS)):
        idx = (int(index) + k) % n
        try:
            return _build(source, transform, idx, epoch, seed, out)
        except DataError as e:
            if on_error == "raise":
                raise
            ds, j = source.locate(idx, int(epoch))
            ds.report.add(
                "unreadable image -> replaced by the next sample", e.path or ds.sample(j).id, e.problem
            )
    raise DataError(None, f"{_MAX_REPLACEMENTS} consecutive unreadable samples from index {index}; giving up")


def aligned_empty(shape, dtype, align: int = 64) -> np.ndarray:
    """``np.empty`` aligned to ``align`` bytes: TensorFlow wraps such arrays without copying
    (an unaligned 58 MB heatmap batch costs a copy of ~50 ms in ``tf.numpy_function``)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buf = np.empty(nbytes + align, np.uint8)
    off = (-buf.ctypes.data) % align
    return buf[off : off + nbytes].view(dtype).reshape(shape)


def load_batch(source, transform, indices, epoch=0, seed=0, keys=DEFAULT_KEYS, on_error="raise") -> dict:
    """Examples ``indices`` of ``epoch`` stacked into ``{key: (B, ...)}`` (images and targets are
    written straight into the batch arrays: no per-example copies)."""
    specs = example_specs(transform, keys)
    n = len(indices)
    batch = {k: aligned_empty((n, *shape), dtype) for k, (shape, dtype) in specs.items()}
    inplace = [k for k in ("image", "heatmaps") if k in batch]
    for r, i in enumerate(indices):
        ex = load_example(
            source, transform, int(i), epoch, seed, on_error, out={k: batch[k][r] for k in inplace}
        )
        for k in specs:
            if k not in inplace:
                batch[k][r] = ex[k]
    return batch


def make_tf_dataset(
    source: PoseDataset,
    transform: SampleTransform,
    batch_size: int = 64,
    *,
    seed: int = 0,
    shuffle: bool = True,
    epochs: int | None = None,
    start_epoch: int = 0,
    start_batch: int = 0,
    drop_remainder: bool | None = None,
    deterministic: bool = True,
    keys=DEFAULT_KEYS,
    on_error: str = "raise",
    num_parallel_calls: int | None = None,
    prefetch: int | None = None,
):
    """A ``tf.data.Dataset`` of dict batches ``{key: (B, ...)}`` (default keys image, heatmaps, mask).

    Epochs are laid end to end and never share a batch. ``epochs=None``: forever when
    shuffling (training: give Keras ``steps_per_epoch=num_batches(len(source), batch_size,
    drop_remainder)``; re-iterating a finite dataset would restart at ``start_epoch`` and
    repeat its augmentation), one pass otherwise (evaluation). ``start_batch`` skips the first
    batches of ``start_epoch`` without loading them (resuming mid-epoch: ``start_epoch,
    start_batch = divmod(step, steps_per_epoch)``). Each batch is
    built by :func:`load_batch` inside ``tf.numpy_function`` (the same code as
    ``PosePyDataset``), batches in parallel (AUTOTUNE; OpenCV and numpy release the GIL).
    ``deterministic=False`` lets a finished batch overtake a slower one (each batch's content is
    unchanged, only the order of batches in the stream may differ). ``drop_remainder`` defaults
    to ``shuffle`` (training)
    and gives a static batch dimension.
    """
    import tensorflow as tf

    n = len(source)
    if n == 0:
        raise ValueError(f"{source!r} is empty")
    drop = shuffle if drop_remainder is None else bool(drop_remainder)
    if num_batches(n, batch_size, drop) == 0:
        raise ValueError(f"batch_size {batch_size} > {n} samples with drop_remainder")
    specs = example_specs(transform, keys)
    keys = tuple(keys)
    tf_types = [tf.as_dtype(dt) for _, dt in specs.values()]

    nb = num_batches(n, batch_size, drop)

    def py_load(e, b):
        b = int(b)
        idx = epoch_order(n, seed, int(e), shuffle)[b * batch_size : (b + 1) * batch_size]
        out = load_batch(source, transform, idx, int(e), seed, keys, on_error)
        return [out[k] for k in keys]

    batch_dim = batch_size if drop else None

    def tf_load(e, b):
        vals = tf.numpy_function(py_load, [e, b], tf_types, stateful=False)
        return {k: tf.ensure_shape(v, (batch_dim, *specs[k][0])) for k, v in zip(keys, vals, strict=True)}

    if epochs is None and not shuffle:
        epochs = 1
    last = start_epoch + epochs if epochs is not None else np.iinfo(np.int64).max
    if not 0 <= start_batch < nb:
        raise ValueError(f"start_batch {start_batch} not in [0, {nb})")
    first = lambda e: tf.where(e == start_epoch, tf.constant(start_batch, tf.int64), tf.constant(0, tf.int64))
    ds = tf.data.Dataset.range(start_epoch, last).flat_map(
        lambda e: tf.data.Dataset.range(first(e), nb).map(lambda b: (e, b))
    )
    autotune = tf.data.AUTOTUNE
    ds = ds.map(tf_load, num_parallel_calls=num_parallel_calls or autotune, deterministic=deterministic)
    ds = ds.prefetch(prefetch or autotune)
    opts = tf.data.Options()
    opts.deterministic = deterministic
    return ds.with_options(opts)


_PYDATASET_CLASS = None


def _pydataset_class():
    global _PYDATASET_CLASS
    if _PYDATASET_CLASS is not None:
        return _PYDATASET_CLASS
    import keras

    class PosePyDataset(keras.utils.PyDataset):
        """``keras.utils.PyDataset`` giving the same batches as ``make_tf_dataset`` (numpy/OpenCV only).

        ``ds[b]`` is batch ``b`` of the current ``epoch`` (starting at ``start_epoch``; Keras
        calls ``on_epoch_end`` to advance it). Use ``workers`` > 1 (threads) for parallel
        decoding; OpenCV releases the GIL. (With ``use_multiprocessing=True`` the skip counts of
        the workers stay in the worker processes: ``source.report`` then misses them.)
        """

        def __init__(
            self,
            source: PoseDataset,
            transform: SampleTransform,
            batch_size: int = 64,
            *,
            seed: int = 0,
            shuffle: bool = True,
            start_epoch: int = 0,
            drop_remainder: bool | None = None,
            keys=DEFAULT_KEYS,
            on_error: str = "raise",
            workers: int = 1,
            use_multiprocessing: bool = False,
            max_queue_size: int = 10,
        ):
            super().__init__(
                workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size
            )
            self.source, self.transform = source, transform
            self.batch_size, self.seed, self.shuffle = int(batch_size), int(seed), bool(shuffle)
            self.drop_remainder = self.shuffle if drop_remainder is None else bool(drop_remainder)
            self.keys, self.on_error = tuple(keys), on_error
            example_specs(transform, self.keys)
            self.epoch = int(start_epoch)
            self._order_epoch, self._order = None, None
            if len(self) == 0:
                raise ValueError(f"no full batch of {batch_size} in {len(source)} samples")

        def __len__(self) -> int:
            return num_batches(len(self.source), self.batch_size, self.drop_remainder)

        def order(self) -> np.ndarray:
            if self._order_epoch != self.epoch:
                self._order = epoch_order(len(self.source), self.seed, self.epoch, self.shuffle)
                self._order_epoch = self.epoch
            return self._order

        def __getitem__(self, b: int) -> dict[str, np.ndarray]:
            if not 0 <= b < len(self):
                raise IndexError(f"batch {b} out of range ({len(self)} batches)")
            idx = self.order()[b * self.batch_size : (b + 1) * self.batch_size]
            return load_batch(
                self.source, self.transform, idx, self.epoch, self.seed, self.keys, self.on_error
            )

        def on_epoch_end(self) -> None:
            self.epoch += 1

    _PYDATASET_CLASS = PosePyDataset
    return PosePyDataset


def __getattr__(name: str):
    if name == "PosePyDataset":
        return _pydataset_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
