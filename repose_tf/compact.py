"""Half-precision storage for weights that travel through git (releases and the campaign trunk).

Every byte committed under ``models/`` stays in every clone forever, so weights are stored in
float16 wherever float16 holds them to :data:`FLOAT16_TOLERANCE` relative error (arrays it cannot
hold, such as large BatchNorm variances or tiny values, stay float32). They are read back as float32:
a model loaded from a compact file computes exactly as one built from the rounded weights, so a
release is rounded *before* it is exported and evaluated, and every file of it is the same model.

A compact ``.keras`` is an ordinary Keras archive whose ``model.weights.h5`` holds float16 datasets;
Keras casts them to the variables' float32 when it loads (any backend), so nothing that reads it
needs to know.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from repose_tf.io import atomic_write_bytes

#: Largest relative float16 round-trip error accepted for an array; worse ones stay float32.
FLOAT16_TOLERANCE = 1e-3


def compact_array(a: np.ndarray) -> np.ndarray:
    """``a`` in float16 if float16 holds every value to the tolerance, else float32 (non-floats as is)."""
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.floating):
        return a
    h = a.astype(np.float16)
    if not np.all(np.isfinite(h)):
        return a.astype(np.float32)
    scale = np.maximum(np.abs(a), 1e-3)
    err = float(np.max(np.abs(h.astype(np.float32) - a) / scale, initial=0.0))
    return h if err <= FLOAT16_TOLERANCE else a.astype(np.float32)


def round_weights(model) -> int:
    """Round ``model``'s float variables in place to what a compact file stores; returns how many
    variables are stored in float16."""
    n = 0
    for v in model.weights:
        a = np.asarray(v.numpy())
        c = compact_array(a)
        if c.dtype == np.float16:
            v.assign(c.astype(a.dtype))
            n += 1
    return n


def _compact_h5(data: bytes) -> bytes:
    import h5py

    out = io.BytesIO()
    with h5py.File(io.BytesIO(data), "r") as src, h5py.File(out, "w") as dst:
        dst.attrs.update(dict(src.attrs))

        def copy(name: str, obj) -> None:
            if isinstance(obj, h5py.Dataset):
                arr = obj[()]
                arr = compact_array(arr) if isinstance(arr, np.ndarray) and arr.dtype == np.float32 else arr
                dst.create_dataset(name, data=arr).attrs.update(dict(obj.attrs))
            else:
                dst.require_group(name).attrs.update(dict(obj.attrs))

        src.visititems(copy)
    return out.getvalue()


def save_compact_keras(model, path: str | os.PathLike) -> Path:
    """Save ``model`` as a ``.keras`` archive with float16 weight storage, atomically.

    Round the model first (:func:`round_weights`) so the saved file and the in-memory model agree.
    """
    path = Path(path)
    buf = io.BytesIO()
    tmp = path.with_name(f".{path.stem}.full{os.getpid()}.keras")
    try:
        model.save(tmp)
        with zipfile.ZipFile(tmp) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename == "model.weights.h5":
                    data = _compact_h5(data)
                zout.writestr(info.filename, data)
    finally:
        tmp.unlink(missing_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return path


def float16_share(path: str | os.PathLike) -> float:
    """Fraction of a ``.keras`` archive's weight values stored in float16 (0.0 for a float32 archive)."""
    import h5py

    with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
        sizes = {"half": 0, "all": 0}

        def count(_name: str, obj) -> None:
            if isinstance(obj, h5py.Dataset) and np.issubdtype(obj.dtype, np.floating):
                sizes["all"] += obj.size
                sizes["half"] += obj.size if obj.dtype == np.float16 else 0

        f.visititems(count)
    return sizes["half"] / max(sizes["all"], 1)


__all__ = ["FLOAT16_TOLERANCE", "compact_array", "float16_share", "round_weights", "save_compact_keras"]
