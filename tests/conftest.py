"""Shared test fixtures: the real data in ../shared, and a small model config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REPOSE_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repo (real LSPET, COCO, MPII, metric fixtures); skip if absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"../shared/data not found at {SHARED} (CI always has it; set REPOSE_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def data_dir(shared_dir: Path) -> Path:
    return shared_dir / "data"


@pytest.fixture(scope="session")
def shipped_models() -> Path:
    """The release in models/ with its derived files made (a fresh clone has the committed ones only)."""
    from repose_tf.export.package import regenerate_derived

    models = REPO / "models"
    if not (models / "manifest.json").is_file():
        pytest.skip("no release in models/ (tools/ship_model.py writes one)")
    regenerate_derived(models)
    return models
