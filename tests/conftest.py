"""Shared test fixtures: the real data in ../shared, and a small model config."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REPOSE_SHARED", REPO.parent / "shared"))


#: Session fixtures that train or export (a minute or more each on a 2-core machine): a test that
#: uses one is ``slow`` (``pytest -m "not slow"`` is the quick loop; CI runs everything).
EXPENSIVE_FIXTURES = frozenset(
    {"tiny_model", "tiny_exports", "tiny_onnx", "tiny_one_step", "killed_and_resumed_run"}
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if EXPENSIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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


# ------------------------------------------------------------------ shared models, built once per run
# The one small trained model of the suite and its exports (tests/test_export_helpers.py builds and
# caches them under the session's temp dir): the export, runtime, QAT, CLI, averaging, fit-diagnosis
# and release tests all read these files instead of training or exporting their own.


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, shared_dir) -> Path:
    """repose_tiny (inference form) fitted to 16 real LSPET crops: real, image-dependent peaks."""
    import test_export_helpers as H

    return H.trained_tiny(tmp_path_factory, shared_dir)


@pytest.fixture(scope="session")
def tiny_exports(tmp_path_factory, shared_dir, tiny_model) -> dict[str, Path]:
    """{variant: .tflite} of ``tiny_model`` for none / float16 / dynamic / int8 (uint8 I/O)."""
    import test_export_helpers as H

    return H.tiny_exports(tmp_path_factory, shared_dir)


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory, shared_dir, tiny_model) -> Path:
    """``tiny_model`` exported to ONNX (opset 17)."""
    import test_export_helpers as H

    return H.tiny_onnx(tmp_path_factory, shared_dir)


#: How ``tiny_one_step`` is compiled: the training engine's ``compile_model`` with a short schedule.
ONE_STEP_COMPILE = {
    "total_steps": 10,
    "learning_rate": 1e-3,
    "lr_schedule": "warmup_cosine",
    "jit_compile": False,
}


@pytest.fixture(scope="session")
def tiny_one_step() -> SimpleNamespace:
    """repose_tiny in training form (every stack), compiled as the training engine compiles it
    (Adam on a schedule, the partial MSE on every stack: ``ONE_STEP_COMPILE``) and trained one step
    on random 128 px data: its lambdas and BatchNorm statistics have left their init and its
    optimizer holds real moments. ``initial``: every weight before the step, by path.

    One train-step trace (about a minute on a 2-core machine) for test_model (round trip, moving
    lambdas) and test_resolution (carrying weights and optimizer state across sizes). Read it only:
    a test that trains further builds a new model from it (``model_at_size`` does).
    """
    import keras
    import numpy as np

    from repose_tf.config import get_preset
    from repose_tf.model import RePose
    from repose_tf.training.initialise import build_training_state, compile_model

    keras.utils.set_random_seed(0)
    model = RePose(get_preset("repose_tiny"))
    initial = {v.path: v.numpy().copy() for v in model.weights}
    compile_model(model, **ONE_STEP_COMPILE)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (2, 128, 128, 3)).astype("float32")
    y = {k: rng.uniform(0, 1, (2, 128, 128, 14)).astype("float32") for k in model.output}
    build_training_state(model, (x, y))  # as the engine does: the step is traced once, not twice
    model.train_on_batch(x, y)
    return SimpleNamespace(model=model, compile_kwargs=dict(ONE_STEP_COMPILE), initial=initial)


# ------------------------------------------------------------------ one training run, killed and resumed
KILLED_RUN_STEPS = 8


def trunk_flags(data_dir: Path, model_dir: Path, steps: int = KILLED_RUN_STEPS) -> list[str]:
    """A campaign-trunk run of repose_tiny on 32 real LSPET images (steady rate, weight averages)."""
    return [
        "--preset=repose_tiny", "--dataset=lspet", f"--data_dir={data_dir / 'lspet'}", "--max_samples=32",
        "--batch_size=4", f"--steps={steps}", "--checkpoint_every=2", "--lr_schedule=warmup_constant",
        "--learning_rate=1e-3", "--ema_decays=0.5,0.9", "--val_split=select", "--val_limit=4",
        "--eval_limit=4", f"--model_dir={model_dir}",
    ]  # fmt: skip


@pytest.fixture(scope="session")
def killed_and_resumed_run(tmp_path_factory, data_dir) -> SimpleNamespace:
    """``python -m repose_tf.train`` (``trunk_flags``: checkpoints and averages every 2 steps to step
    8) started as a real process and SIGKILLed once it has written a checkpoint, then continued with
    ``--resume`` to the end (in this process: tests/inprocess.py). Its train_config.json is deleted
    before the resume, as in a run directory written before TrainConfig existed.

    What the kill left is recorded before the resume overwrites it: ``killed_at`` (state.json's
    step), ``killed_checkpoint_step`` (the checkpoint's optimizer step, loaded back: not corrupt),
    ``killed_ema_step``; ``resume_output`` is the resumed run's stdout + stderr. Two files read it:
    test_train.test_kill_and_resume (the kill and the resume) and test_trunk (averages resumed with
    the checkpoint, the trunk saved from the run, exported, continued elsewhere).
    """
    import keras
    import numpy as np
    from inprocess import train_cli

    import repose_tf.losses  # noqa: F401  (registers PartialMSE for load_model)
    import repose_tf.model  # noqa: F401  (registers RePose for load_model)

    run = tmp_path_factory.mktemp("killed") / "run"
    flags = trunk_flags(data_dir, run)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "repose_tf.train", "--progress=false", *flags],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=REPO,
    )  # fmt: skip
    state_path = run / "state.json"
    deadline = time.time() + 900
    try:
        while time.time() < deadline:
            if state_path.exists() and json.loads(state_path.read_text())["step"] >= 2:
                break
            assert proc.poll() is None, "training exited before it could be killed"
            time.sleep(0.5)
        else:
            pytest.fail("no checkpoint within the deadline")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed_at = json.loads(state_path.read_text())["step"]
    ckpt = keras.saving.load_model(run / "checkpoint.keras")
    with np.load(run / "ema.npz") as z:
        ema_step = int(z["__step__"])
    (run / "train_config.json").unlink()
    res = train_cli(*flags, "--resume")
    return SimpleNamespace(
        run_dir=run,
        flags=flags,
        killed_at=killed_at,
        killed_checkpoint_step=int(ckpt.optimizer.iterations.numpy()),
        killed_ema_step=ema_step,
        resume_output=res.stdout + res.stderr,
    )
