"""Shared bits of the thin export CLIs in ``tools/`` (the logic lives in ``repose_tf.export``)."""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The module docstring as description; defaults shown where they say something."""

    def _get_help_string(self, action):
        h = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in h:
            h += " (default: %(default)s)"
        return h


def add_model_args(p: argparse.ArgumentParser) -> None:
    """``--model`` / ``--config``: the source model of every export tool (default: the shipped one)."""
    p.add_argument(
        "--model", help="RePose .keras (or .weights.h5 + --config); default: models/repose_lsp14.keras"
    )
    p.add_argument(
        "--config", help="architecture for a .weights.h5: preset name or JSON (default: X.config.json)"
    )


def invocation(script: str, argv=None) -> str:
    """The command line that produced a report, as written into docs (``python tools/X.py ...``)."""
    import shlex
    import sys

    return shlex.join(["python", f"tools/{script}", *map(str, argv if argv is not None else sys.argv[1:])])


def write_marked_section(path, start: str, end: str, text: str, heading: str = "") -> None:
    """Put ``text`` between the ``start``/``end`` markers of a Markdown file, atomically.

    Everything outside the markers is kept. Without markers the block is appended (after
    ``heading`` if given); a missing file is created with a "# Benchmarks"-style title line.
    """
    import os
    from pathlib import Path

    path = Path(path)
    block = f"{start}\n{text.rstrip(chr(10))}\n{end}"
    lead = f"{heading}\n\n" if heading else ""
    if path.is_file():
        doc = path.read_text(encoding="utf-8")
        if start in doc and end in doc:
            a, b = doc.index(start), doc.index(end) + len(end)
            doc = doc[:a] + block + doc[b:]
        else:
            doc = doc.rstrip("\n") + "\n\n" + lead + block + "\n"
    else:
        doc = f"# {path.stem.replace('_', ' ').capitalize()}\n\n" + lead + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)
