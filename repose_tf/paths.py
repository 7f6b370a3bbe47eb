"""The default places of the project's files, each defined once (the CLIs and tools import them).

- the shipped model: ``models/repose_lsp14.keras`` in the models directory (``$REPOSE_MODELS_DIR``,
  default a checkout's ``models/``; :mod:`repose_tf.config` holds that rule);
- the shared data beside the checkout: ``../shared`` (``$REPOSE_SHARED`` moves it), whose
  ``data/lspet`` is the LSPET folder every tool trains, calibrates, verifies and evaluates on.
"""

from __future__ import annotations

import os
from pathlib import Path

from repose_tf.config import DEFAULT_MODEL_FILE, missing_model_hint, models_dir, shipped_model_path

__all__ = [
    "DEFAULT_MODEL_FILE",
    "REPO",
    "SHARED_ENV",
    "default_model",
    "find_lspet_dir",
    "lspet_dir",
    "missing_model_hint",
    "models_dir",
    "shared_dir",
    "shipped_model_path",
]

#: A checkout's root (the folder holding ``repose_tf/``, ``models/`` and ``tools/``).
REPO = Path(__file__).resolve().parents[1]
#: Environment variable naming the shared folder (default: ``shared/`` beside the checkout).
SHARED_ENV = "REPOSE_SHARED"


def default_model() -> Path:
    """The model the CLIs use when given none: ``repose_lsp14.keras`` in the models directory."""
    return shipped_model_path(DEFAULT_MODEL_FILE)


def shared_dir() -> Path:
    """``$REPOSE_SHARED`` when set, else ``shared/`` beside the checkout (``../shared``)."""
    env = os.environ.get(SHARED_ENV)
    return Path(env).expanduser() if env else REPO.parent / "shared"


def find_lspet_dir() -> Path | None:
    """The LSPET folder that is there (``$REPOSE_SHARED/data/lspet``, then ``../shared/data/lspet``
    beside the checkout: the first holding ``joints.mat``), or None."""
    cands = [shared_dir() / "data" / "lspet", REPO.parent / "shared" / "data" / "lspet"]
    return next((c for c in cands if (c / "joints.mat").is_file()), None)


def lspet_dir() -> Path:
    """The default ``--data_dir`` of the LSPET tools: :func:`find_lspet_dir`, else where it belongs."""
    return find_lspet_dir() or shared_dir() / "data" / "lspet"
