"""The console scripts of pyproject.toml (``repose-train`` ...): each target imports and ``--help`` exits 0.

A target is called as the generated script calls it (``sys.exit(target())`` with ``sys.argv`` set),
without installing the package. The absl-based CLIs (train, evaluate, predict) register flags in
absl's process-wide registry, some of the same name, so each runs in a process of its own; their
``--help`` does not import TensorFlow (under a second each). The argparse ones run in this process.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest
from inprocess import REPO, _call

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

SCRIPTS = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
EXPECTED = {"repose-train", "repose-evaluate", "repose-predict", "repose-export", "repose-serve"}
#: What each one's help must mention (a flag of its own).
FLAG = {
    "repose-train": "--preset",
    "repose-evaluate": "--model",
    "repose-predict": "--input",
    "repose-export": "--quantize",
    "repose-serve": "--port",
}
ABSL = {"repose-train", "repose-evaluate", "repose-predict"}


def _target(spec: str):
    module, _, attr = spec.partition(":")
    return module, attr


def test_the_documented_scripts_are_declared():
    assert set(SCRIPTS) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_target_imports_and_is_callable(name):
    module, attr = _target(SCRIPTS[name])
    assert callable(getattr(importlib.import_module(module), attr))


def _help_in_process(name: str):
    module, attr = _target(SCRIPTS[name])
    fn = getattr(importlib.import_module(module), attr)
    argv = sys.argv
    sys.argv = [name, "--help"]
    try:
        return _call(lambda: sys.exit(fn()))
    finally:
        sys.argv = argv


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout, not an editable install elsewhere


def _help_in_subprocess(name: str):
    module, attr = _target(SCRIPTS[name])
    code = f"import sys; sys.argv = [{name!r}, '--help']; from {module} import {attr}; sys.exit({attr}())"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=_env(), timeout=120
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_help_exits_0_with_usage(name):
    res = _help_in_subprocess(name) if name in ABSL else _help_in_process(name)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "usage:" in res.stdout and FLAG[name] in res.stdout, res.stdout[-2000:]
    assert "Traceback" not in res.stderr
    if name in ABSL:  # absl's own --help would show neither the docstring nor the flags here
        assert f"usage: {name} [flags]" in res.stdout


@pytest.mark.parametrize("module", ["repose_tf.train", "repose_tf.evaluate", "repose_tf.predict"])
def test_python_m_help_exits_0(module):
    res = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=_env(),
        timeout=120,
    )
    assert res.returncode == 0 and f"usage: python -m {module} [flags]" in res.stdout, res.stderr[-2000:]
