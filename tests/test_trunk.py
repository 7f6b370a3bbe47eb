"""The campaign trunk (issue 34): a steady-rate schedule, weight averages kept while training and
resumed with the checkpoint, the trunk state saved into the repository and continued from it in a
new run (another machine), the select/report halves of LSPET validation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from inprocess import run_tool, train_cli

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}


def _train(*args):
    """``python -m repose_tf.train ARGS``, in this process (tests/inprocess.py); its output."""
    res = train_cli(*args)
    return res.stdout + res.stderr


def _tool(*args):
    """``python tools/trunk.py ARGS``, in this process."""
    return run_tool("trunk.py", *args, cwd=REPO)


@pytest.fixture(scope="module")
def trunk_run(killed_and_resumed_run):
    """A tiny trunk (conftest.py ``trunk_flags``: averages 0.5 and 0.9, checkpoints every 2 steps)
    killed after a checkpoint and resumed to step 8: (run dir, output of the resumed stretch).
    The same run conftest.py's ``killed_and_resumed_run`` gives test_train.test_kill_and_resume."""
    return killed_and_resumed_run.run_dir, killed_and_resumed_run.resume_output


def test_warmup_constant_ramps_then_holds_the_rate():
    from repose_tf.training.schedules import TRUNK_WARMUP_STEPS, lr_schedule

    s = lr_schedule(100_000, 3e-4, "warmup_constant")
    lr = lambda step: float(s(step))  # noqa: E731
    assert lr(0) == pytest.approx(3e-6, rel=1e-3)
    assert lr(TRUNK_WARMUP_STEPS // 2) == pytest.approx(3e-6 + 0.5 * (3e-4 - 3e-6), rel=1e-3)
    for step in (TRUNK_WARMUP_STEPS, 5_000, 99_999, 10**6):
        assert lr(step) == pytest.approx(3e-4, rel=1e-6)
    short = lr_schedule(40, 1e-3, "warmup_constant")  # a short run warms up over 5% of it
    assert float(short(2)) == pytest.approx(1e-3, rel=1e-6)


def test_weight_averages_follow_the_ema_recursion():
    """The averages are d * avg + (1 - d) * w after every step, of every variable (BatchNorm
    statistics included), starting at the first step's weights."""
    import keras

    from repose_tf.training.ema import WeightAverages

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.BatchNormalization()])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append([v.numpy().copy() for v in self.model.weights])

        def on_train_batch_end(self, batch, logs=None):
            seen.append([v.numpy().copy() for v in self.model.weights])

    avg = WeightAverages((0.5, 0.9), Path("never-written") / "ema.npz")
    x, y = np.random.default_rng(0).normal(size=(12, 3)), np.random.default_rng(1).normal(size=(12, 2))
    model.fit(x, y, batch_size=4, epochs=1, callbacks=[Record(), avg], verbose=0, shuffle=False)
    for d in (0.5, 0.9):
        want = [a.copy() for a in seen[0]]
        for ws in seen[1:]:
            want = [d * a + (1 - d) * w for a, w in zip(want, ws, strict=True)]
        for got, exp in zip(avg.averages[d], want, strict=True):
            np.testing.assert_allclose(got, exp, rtol=1e-5, atol=1e-6)
    assert avg.step == 3
    # moving statistics move too: the BatchNorm mean average is not its initial zeros
    assert np.abs(avg.averages[0.5][4]).max() > 0


def test_averages_are_saved_validated_and_resumed_with_the_checkpoint(trunk_run):
    run, out = trunk_run
    state = json.loads((run / "state.json").read_text())
    assert [h["step"] for h in state["history"]] == [2, 4, 6, 8]
    assert all(set(h["ema_val"]) == {"0.5", "0.9"} for h in state["history"])
    assert "EMA: continuing decays 0.5, 0.9" in out
    from repose_tf.training.ema import WeightAverages, ema_decays_in

    assert ema_decays_in(run / "ema.npz") == ["0.5", "0.9"]
    loaded = WeightAverages.load(run / "ema.npz", expect_step=8)
    assert loaded["__step__"] == 8
    # an average file behind its checkpoint (killed between the two writes) restarts, with a note
    assert WeightAverages.load(run / "ema.npz", expect_step=10) is None


def test_trunk_is_saved_into_the_repo_and_continued_on_another_machine(trunk_run, data_dir, tmp_path):
    """save -> a float16 weight set + ledger; continue -> a new run from it at the same rate with the
    averages starting at the carried weights; a second save appends a stretch to the ledger."""
    import keras

    from repose_tf.model import RePose
    from repose_tf.training.ema import WeightAverages
    from repose_tf.training.trunk import load_into, read_ledger

    run, _ = trunk_run
    trunk_dir = tmp_path / "models" / "trunk"
    res = _tool("--trunk_dir", trunk_dir, "save", "--run_dir", run, "--decay", "0.9", "--label", "s1")
    assert res.returncode == 0, res.stderr
    ledger = read_ledger(trunk_dir)
    assert ledger["carried_average"] == 0.9 and ledger["learning_rate"] == 1e-3
    assert [s["label"] for s in ledger["stretches"]] == ["s1"]
    assert [h["step"] for h in ledger["stretches"][0]["history"]] == [2, 4, 6, 8]
    w = trunk_dir / "trunk.weights.npz"
    with np.load(w) as z:
        assert any(z[k].dtype == np.float16 for k in z.files if k.startswith("w"))
    # the weight set restores the 0.9 average into a fresh model, to float16 precision
    keras.utils.set_random_seed(3)
    model = RePose.from_preset("repose_tiny", load_weights=False)
    done, missing = load_into(model, w)
    assert done == len(model.weights) and not missing
    ema = WeightAverages.load(run / "ema.npz")["0.9"]
    for v, a in zip(model.weights, ema, strict=True):
        np.testing.assert_allclose(v.numpy(), a, rtol=2e-3, atol=1e-4)

    res = _tool("--trunk_dir", trunk_dir, "continue", "--model_dir", tmp_path / "next",
                "--data_dir", data_dir / "lspet")  # fmt: skip
    assert res.returncode == 0, res.stderr
    cmd = res.stdout.split()
    for flag, value in (("--lr_schedule", "warmup_constant"), ("--learning_rate", "0.001"),
                        ("--ema_decays", "0.5,0.9"), ("--init_weights", str(w)),
                        ("--seed", "101")):  # fmt: skip
        assert cmd[cmd.index(flag) + 1] == value
    # run that command (small: 2 steps on 32 images) as a new machine would
    args = cmd[3:]
    args[args.index("--steps") + 1] = "2"
    args[args.index("--checkpoint_every") + 1] = "2"
    args[args.index("--val_limit") + 1] = "4"
    out = _train(*args, "--max_samples=32", "--batch_size=4", "--eval_limit=4")
    assert f"initialised {len(model.weights)} variables from {w}" in out
    res = _tool(
        "--trunk_dir", trunk_dir, "save", "--run_dir", tmp_path / "next", "--decay", "0.5", "--label", "s2"
    )
    assert res.returncode == 0, res.stderr
    ledger = read_ledger(trunk_dir)
    assert [s["label"] for s in ledger["stretches"]] == ["s1", "s2"] and ledger["carried_average"] == 0.5
    status = _tool("--trunk_dir", trunk_dir, "status")
    assert (
        status.returncode == 0 and "s1: 4 checkpoints to step 8" in status.stdout and "s2:" in status.stdout
    )


def test_an_average_exports_as_a_model_the_tools_load(trunk_run, tmp_path):
    from repose_tf.runtime import load_repose
    from repose_tf.training.averaging import read_averaging_record
    from repose_tf.training.ema import WeightAverages

    run, _ = trunk_run
    out = tmp_path / "ema.keras"
    res = _tool("export", "--run_dir", run, "--decay", "0.5", "--output", out)
    assert res.returncode == 0, res.stderr
    model = load_repose(out)
    for v, a in zip(model.weights, WeightAverages.load(run / "ema.npz")["0.5"], strict=True):
        np.testing.assert_array_equal(v.numpy(), a)
    record = read_averaging_record(out)
    assert record["ema"] == {"decay": 0.5, "step": 8, "file": record["ema"]["file"]}


def test_trunk_refusals_are_one_line(trunk_run, tmp_path):
    run, _ = trunk_run
    for args, message in (
        (["export", "--run_dir", run, "--decay", "0.7", "--output", tmp_path / "x.keras"],
         "no average with decay 0.7"),
        (["export", "--run_dir", tmp_path, "--decay", "0.5", "--output", tmp_path / "x.keras"], "not found"),
        (["save", "--run_dir", tmp_path, "--decay", "0.5"], "state.json: not found"),
        (["--trunk_dir", tmp_path / "none", "continue", "--model_dir", tmp_path / "r"], "no trunk saved yet"),
    ):  # fmt: skip
        res = _tool(*args)
        assert res.returncode == 2 and message in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.stderr
    bad = train_cli("--ema_decays=0.9,1.5", f"--model_dir={tmp_path / 'b'}", check=False)
    assert bad.returncode != 0 and "strictly between 0 and 1" in bad.stderr and "Traceback" not in bad.stderr


def test_warmup_stable_decay_holds_the_rate_then_falls_to_zero():
    import keras

    from repose_tf.training.errors import TrainingError
    from repose_tf.training.schedules import lr_schedule
    from repose_tf.training.wsd import WarmupStableDecay

    s = lr_schedule(550, 3e-4, "warmup_stable_decay", decay_steps=150)
    lr = lambda step: float(s(step))  # noqa: E731
    assert lr(0) == pytest.approx(3e-6, rel=1e-3)  # the trunk's ramp
    for step in (100, 399, 400):  # steady until the decay starts
        assert lr(step) == pytest.approx(3e-4, rel=1e-6)
    assert lr(475) == pytest.approx(1.5e-4, rel=1e-5)  # linear: half way down at half the decay
    assert lr(550) == 0.0 and lr(600) == 0.0
    back = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(s))
    assert isinstance(back, WarmupStableDecay) and back.get_config() == s.get_config()
    with pytest.raises(TrainingError, match="needs decay_steps"):
        lr_schedule(550, 3e-4, "warmup_stable_decay")


def test_decay_steps_refusals_name_the_flag():
    from repose_tf.training.config import TrainConfig, TrainConfigError

    for kw, message in (
        ({"lr_schedule": "warmup_stable_decay"}, "needs decay_steps >= 1"),
        ({"lr_schedule": "constant", "decay_steps": 5}, "decay_steps is for lr_schedule warmup_stable_decay"),
        ({"lr_schedule": "warmup_stable_decay", "decay_steps": 900, "steps": 500}, "decay_steps 900 >"),
    ):
        with pytest.raises(TrainConfigError, match=message):
            TrainConfig(dataset=("lspet",), **kw)


def test_a_decay_branch_anneals_a_copy_and_leaves_the_trunk(trunk_run, tmp_path):
    """``trunk.py branch`` copies the trunk's run (checkpoint, averages, state) and its command
    resumes the copy under warmup_stable_decay to zero; the trunk's files are untouched."""
    import hashlib

    import keras

    import repose_tf.losses  # noqa: F401  (registers PartialMSE for load_model)
    import repose_tf.model  # noqa: F401
    from repose_tf.training.wsd import WarmupStableDecay

    run, _ = trunk_run
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    before = {name: digest(run / name) for name in ("checkpoint.keras", "ema.npz", "state.json")}
    trunk_steps = [h["step"] for h in json.loads((run / "state.json").read_text())["history"]]
    assert trunk_steps[-1] == 8
    branch = tmp_path / "branch"
    res = _tool("branch", "--run_dir", run, "--output_dir", branch, "--decay_steps", "4")
    assert res.returncode == 0, res.stderr
    cmd = res.stdout.strip().splitlines()[-1].split()
    assert cmd[cmd.index("--steps") + 1] == "12" and cmd[cmd.index("--decay_steps") + 1] == "4"
    out = _train(*cmd[3:])
    assert "warmup_stable_decay" in out and "steps 8->12" in out
    state = json.loads((branch / "state.json").read_text())
    # the trunk's history, continued by one checkpoint (every gcd(8, 4) = 4 steps) at the branch's end
    assert [h["step"] for h in state["history"]] == [*trunk_steps, 12]
    assert state["history"][-1]["lr"] == pytest.approx(0.0, abs=1e-12)  # annealed to zero
    ckpt = keras.saving.load_model(branch / "checkpoint.keras")  # the schedule saves and loads
    assert isinstance(ckpt.optimizer._learning_rate, WarmupStableDecay)
    assert int(ckpt.optimizer.iterations.numpy()) == 12
    assert before == {name: digest(run / name) for name in before}  # the trunk goes on as it was
    for args, message in (
        (["branch", "--run_dir", run, "--output_dir", branch, "--decay_steps", "4"], "already holds a run"),
        (["branch", "--run_dir", run, "--output_dir", run, "--decay_steps", "4"], "its own --output_dir"),
        (["branch", "--run_dir", tmp_path, "--output_dir", tmp_path / "b2"], "no checkpoint.keras"),
        (["branch", "--run_dir", run, "--output_dir", tmp_path / "b3", "--decay_steps", "0"], ">= 1"),
    ):  # fmt: skip
        res = _tool(*args)
        assert res.returncode == 2 and message in res.stderr, (args, res.stderr)


def test_select_and_report_halve_validation_without_overlap(data_dir):
    from repose_tf.data import get_dataset

    parts = {s: get_dataset("lspet", data_dir / "lspet", s, "lsp14") for s in ("select", "report", "val")}
    ids = {s: {parts[s].sample(i).id for i in range(len(parts[s]))} for s in parts}
    assert not ids["select"] & ids["report"]
    assert ids["select"] | ids["report"] == ids["val"]
    assert all(int(i.split("/")[1]) % 2 == 1 for i in ids["select"])
    assert abs(len(ids["select"]) - len(ids["report"])) <= 10


def test_weight_averages_see_every_step_under_jax():
    """JAX keeps each step's state apart from the model's variables until a sync (Keras syncs
    when a callback reads ``self.model``, which the averages do): they must not average stale
    weights (the GPU campaign trains under JAX)."""
    script = """
import keras, numpy as np
from repose_tf.training.ema import WeightAverages
keras.utils.set_random_seed(0)
m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
avg = WeightAverages((0.5,), "never-written/ema.npz")
x, y = np.random.default_rng(0).normal(size=(12, 3)), np.random.default_rng(1).normal(size=(12, 2))
w0 = [np.array(v.numpy()) for v in m.weights]
m.fit(x, y, batch_size=4, epochs=1, callbacks=[avg], verbose=0, shuffle=False)
w3 = [np.array(v.numpy()) for v in m.weights]
# after 3 steps the 0.5 average is 1/8 w0 + ... + 1/2 w3: it must differ from w0 and lie off w3
a = avg.averages[0.5][0]
assert not np.allclose(a, w0[0]) and not np.allclose(a, w3[0]), "averages did not follow the steps"
assert avg.step == 3
print("ok")
"""
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
        env={**ENV, "KERAS_BACKEND": "jax"}, cwd=REPO,
    )  # fmt: skip
    assert res.returncode == 0 and res.stdout.strip().endswith("ok"), res.stderr[-2000:]


def test_a_decay_added_on_resume_starts_while_the_others_continue(tmp_path, capsys):
    import keras

    from repose_tf.training.ema import WeightAverages

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x, y = np.random.default_rng(0).normal(size=(8, 3)), np.random.default_rng(1).normal(size=(8, 2))
    first = WeightAverages((0.5,), tmp_path / "ema.npz")
    model.fit(x, y, batch_size=4, epochs=1, callbacks=[first], verbose=0, shuffle=False)
    first.save()
    saved = [a.copy() for a in first.averages[0.5]]
    again = WeightAverages((0.5, 0.9), tmp_path / "ema.npz")
    again.set_model(model)
    again.on_train_begin()
    out = capsys.readouterr().out
    assert "continuing decays 0.5" in out and "starting decays 0.9 at step 2" in out
    for a, b in zip(again.averages[0.5], saved, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, v in zip(again.averages[0.9], model.weights, strict=True):
        np.testing.assert_array_equal(a, v.numpy())
