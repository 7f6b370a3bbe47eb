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


@pytest.mark.slow
def test_an_installed_wheel_finds_the_models_through_the_setting(tmp_path):
    """The wheel (no models/ inside) in a fresh venv outside the checkout: refuses in one line
    without the setting, finds the shipped model with it (reusing this interpreter's packages)."""
    import os
    import shutil
    import subprocess
    import sys

    if not (REPO / "models" / "repose_lsp14.keras").is_file():
        pytest.skip("models/repose_lsp14.keras not present")
    wheels, venv, work = tmp_path / "wheels", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    src = tmp_path / "src"  # build from a copy: setuptools writes build/ and *.egg-info beside the source
    shutil.copytree(REPO / "repose_tf", src / "repose_tf", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, src]
    subprocess.run(pip, check=True, cwd=tmp_path)
    (wheel,) = wheels.glob("repose_tf-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True)
    py = venv / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", wheel], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", config.MODELS_DIR_ENV)}
    where = subprocess.run(
        [py, "-c", "import repose_tf; print(repose_tf.__file__)"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert str(venv) in where.stdout, where.stdout + where.stderr  # the wheel, not the checkout
    image = tmp_path / "image.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(image), np.zeros((64, 64, 3), np.uint8))
    res = subprocess.run(
        [py, "-m", "repose_tf.predict", "--input", image], env=env, cwd=work, capture_output=True, text=True
    )
    assert res.returncode == 2 and config.MODELS_DIR_ENV in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    found = subprocess.run(
        [py, "-c", "from repose_tf.config import PRESETS; print(PRESETS['repose_lsp14'].weights_path)"],
        env={**env, config.MODELS_DIR_ENV: str(REPO / "models")},
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert found.stdout.strip() == str(REPO / "models" / "repose_lsp14.keras"), found.stderr
