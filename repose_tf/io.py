"""File helpers: atomic writes (a temp file in the same directory, then a rename), a file's
SHA-256, and the portable form of a path that a committed manifest or record names.

Training checkpoints and release packaging both write files that another process (a resumed run,
a test, the Android fixtures) may read at any moment; a rename is atomic on POSIX, so a reader sees
the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import hashlib
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


__all__ = [
    "atomic_save",
    "atomic_write_bytes",
    "atomic_write_text",
    "portable_path",
    "remove_stale_temps",
    "sha256",
]


def sha256(path: str | os.PathLike) -> str:
    """The hex SHA-256 of a file (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def portable_path(path: str | Path) -> str:
    """``path`` as a committed manifest should name it: relative to the working directory when it
    is beside it (``../shared/data/lspet``), ``~/...`` under the home directory, else as given.
    A release is read on other machines, where ``/root/...`` or ``/work/...`` mean nothing."""
    p = Path(os.path.abspath(os.path.expanduser(str(path))))
    cwd = Path.cwd()
    for base, prefix in ((cwd, ""), (cwd.parent, "../")):
        if p.is_relative_to(base) and base != Path(base.anchor):
            return prefix + str(p.relative_to(base))
    home = Path.home()
    if p.is_relative_to(home) and home != Path(home.anchor):
        return "~/" + str(p.relative_to(home))
    return str(path)
