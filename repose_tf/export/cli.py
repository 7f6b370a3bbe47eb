"""The export tools' model flags; the general CLI helpers live in :mod:`repose_tf.cli` (re-exported)."""

from __future__ import annotations

import argparse

from repose_tf.cli import HelpFormatter, invocation, write_marked_section
from repose_tf.config import DEFAULT_MODEL_FILE

__all__ = ["HelpFormatter", "add_model_args", "invocation", "write_marked_section"]


def add_model_args(p: argparse.ArgumentParser) -> None:
    """``--model`` / ``--config``: the source model of every export tool (default: the shipped one)."""
    p.add_argument(
        "--model", help=f"RePose .keras (or .weights.h5 + --config); default: models/{DEFAULT_MODEL_FILE}"
    )
    p.add_argument(
        "--config", help="architecture for a .weights.h5: preset name or JSON (default: X.config.json)"
    )
