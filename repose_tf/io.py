"""Atomic file writes: a temp file in the same directory, then a rename.

Training checkpoints and release packaging both write files that another process (a resumed run,
a test, the Android fixtures) may read at any moment; a rename is atomic on POSIX, so a reader sees
the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def _atomic(path: Path, tmp: Path) -> Iterator[Path]:
    """Yield ``tmp`` to write; move it onto ``path`` on success, remove it on any failure."""
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_save(model: Any, path: str | os.PathLike) -> None:
    """Save ``model`` (``.keras``: whole model, else weights only) to ``path`` atomically."""
    path = Path(path)
    # keep the suffixes: Keras picks the format from them (.keras, .weights.h5)
    with _atomic(path, path.with_name(f".{path.stem}.tmp{os.getpid()}{''.join(path.suffixes)}")) as tmp:
        if path.suffix == ".keras":
            model.save(tmp)
        else:
            model.save_weights(tmp)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    path = Path(path)
    with _atomic(path, path.with_name(f".{path.name}.tmp{os.getpid()}")) as tmp:
        tmp.write_text(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    path = Path(path)
    with _atomic(path, path.with_name(f".{path.name}.tmp{os.getpid()}")) as tmp:
        tmp.write_bytes(data)


def remove_stale_temps(directory: str | os.PathLike) -> list[Path]:
    """Delete temp files left by a process killed mid-write (never a real checkpoint)."""
    stale = list(Path(directory).glob(".*.tmp*"))
    for p in stale:
        p.unlink()
    return stale


__all__ = ["atomic_save", "atomic_write_bytes", "atomic_write_text", "remove_stale_temps"]
