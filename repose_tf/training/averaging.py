"""Checkpoint averaging: the element-wise mean of several checkpoints of one run.

Checkpoints taken along the low-rate end of a schedule sit in one basin of the loss; their mean
often generalises better than any single one of them (Izmailov et al. 2018, "Averaging Weights
Leads to Wider Optima"; timm's ``avg_checkpoints.py``), at no training cost. BatchNorm moving
statistics are averaged like every other variable, as timm does. The result is a float32 RePose in
the sources' form (a training checkpoint gives the training form) without optimizer state: what
``tools/ship_model.py`` packages and ``--init_weights`` continues from. A ``<stem>.averaging.json``
beside it says which checkpoints went into it; a release made from it copies that into its manifest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from repose_tf.io import atomic_save, atomic_write_text, portable_path, sha256
from repose_tf.loading import load_float32


def averaging_record_path(model_path: str | os.PathLike) -> Path:
    """Where the record of an averaged model's sources lives: ``X.keras`` -> ``X.averaging.json``."""
    p = Path(model_path)
    return p.with_name(p.stem + ".averaging.json")


def read_averaging_record(model_path: str | os.PathLike) -> dict | None:
    """The averaging record beside ``model_path``, or None when it was not made by averaging."""
    rec = averaging_record_path(model_path)
    if not rec.is_file():
        return None
    try:
        record = json.loads(rec.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{rec}: not a readable averaging record ({e})") from None
    if not isinstance(record, dict) or not isinstance(record.get("averaged_from"), list):
        raise ValueError(f"{rec}: an averaging record needs an 'averaged_from' list")
    return record


def _load(path: Path):
    return load_float32(path)  # float32, training form, no optimizer; ModelLoadError names a bad file


def average_checkpoints(
    paths: list[str | os.PathLike],
    output: str | os.PathLike,
    *,
    weights: list[float] | None = None,
    log=print,
) -> dict[str, Any]:
    """Write the (weighted) mean of ``paths`` to ``output`` (.keras); returns the averaging record.

    Every checkpoint must hold the same RePose architecture (same config); ValueError names the
    first that does not. ``weights`` (default: equal) are normalised to sum to 1.
    """
    from repose_tf.model import RePose
    from repose_tf.training.precision import float32_policy

    paths = [Path(p) for p in paths]
    output = Path(output)
    if len(paths) < 2:
        raise ValueError(f"averaging needs at least two checkpoints, got {len(paths)}")
    if output.suffix != ".keras":
        raise ValueError(f"{output}: the averaged model is written as a .keras file")
    if weights is None:
        weights = [1.0] * len(paths)
    if len(weights) != len(paths):
        raise ValueError(f"{len(weights)} weights for {len(paths)} checkpoints")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be non-negative and not all zero, got {weights}")
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"{p}: checkpoint not found")
    w = np.asarray(weights, np.float64) / float(np.sum(weights))

    first = _load(paths[0])
    total = [np.asarray(a, np.float64) * w[0] for a in first.get_weights()]
    kept = first.get_weights()  # non-float variables (none today) are taken from the first
    log(f"averaging {len(paths)} checkpoints: {paths[0]} (weight {w[0]:.3f})")
    for p, wi in zip(paths[1:], w[1:], strict=True):
        m = _load(p)
        if m.repose_config != first.repose_config or m.inference != first.inference:
            raise ValueError(
                f"{p}: a different RePose config or form (training / inference) from {paths[0]}; "
                "only checkpoints of one run average"
            )
        arrays = m.get_weights()
        if len(arrays) != len(total) or any(a.shape != t.shape for a, t in zip(arrays, total, strict=True)):
            raise ValueError(f"{p}: its variables do not match {paths[0]}'s")
        for i, a in enumerate(arrays):
            total[i] += np.asarray(a, np.float64) * wi
        log(f"  + {p} (weight {wi:.3f})")
        del m
    mean = [
        t.astype(k.dtype) if np.issubdtype(k.dtype, np.floating) else k
        for t, k in zip(total, kept, strict=True)
    ]
    with float32_policy():
        model = RePose(first.repose_config, inference=first.inference)
    model.set_weights(mean)
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(model, output)
    record = {
        "averaged_from": [
            {"checkpoint": portable_path(p), "sha256": sha256(p), "weight": round(float(wi), 6)}
            for p, wi in zip(paths, w, strict=True)
        ],
        "output": portable_path(output),
    }
    atomic_write_text(averaging_record_path(output), json.dumps(record, indent=2))
    log(f"wrote {output} and {averaging_record_path(output).name}")
    return record
