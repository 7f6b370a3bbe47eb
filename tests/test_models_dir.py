"""Where shipped model files are found (issue 37): ``$REPOSE_MODELS_DIR``, default the checkout's
``models/``, and one line naming what to download when the file is absent (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from repose_tf import config

REPO = Path(__file__).resolve().parents[1]


def test_default_is_the_checkouts_models_dir(monkeypatch):
    monkeypatch.delenv(config.MODELS_DIR_ENV, raising=False)
    assert config.models_dir() == REPO / "models"
    assert config.shipped_model_path() == REPO / "models" / "repose_lsp14.keras"


def test_the_setting_moves_every_lookup(monkeypatch, tmp_path):
    monkeypatch.setenv(config.MODELS_DIR_ENV, str(tmp_path))
    assert config.models_dir() == tmp_path
    assert config.PRESETS["repose_lsp14"].weights_path is None  # not there
    (tmp_path / "repose_lsp14.keras").write_bytes(b"x")
    assert config.PRESETS["repose_lsp14"].weights_path == tmp_path / "repose_lsp14.keras"
    from repose_tf.export.tflite import default_model_path

    monkeypatch.chdir(tmp_path.parent)  # no models/ in the working directory either
    assert default_model_path() == tmp_path / "repose_lsp14.keras"


def test_absent_model_is_one_line_naming_the_download_and_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv(config.MODELS_DIR_ENV, str(tmp_path / "none"))
    hint = config.missing_model_hint()
    assert "\n" not in hint and "models/repose_lsp14.keras" in hint and config.MODELS_DIR_ENV in hint
    from repose_tf.predict import PosePredictor

    with pytest.raises(FileNotFoundError) as e:
        PosePredictor()
    msg = str(e.value)
    assert "\n" not in msg and config.MODELS_DIR_ENV in msg and "--model" in msg
    from repose_tf.export import ExportError
    from repose_tf.export.tflite import default_model_path

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExportError, match=config.MODELS_DIR_ENV):
        default_model_path()
