"""Progressive resolution: depth-named layers, one set of weights at every size, phases, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from inprocess import train_cli

from repose_tf.training.errors import TrainingError
from repose_tf.training.resolution import Phase, config_at_size, parse_schedule, phase_at, phases


def test_phases_land_on_checkpoint_chunks_and_end_at_the_run_length():
    plan = phases("64:0.6,96:0.2,128:0.2", total_steps=1000, chunk=50, input_size=128, coarsest=16)
    assert plan == [Phase(64, 0, 600), Phase(96, 600, 800), Phase(128, 800, 1000)]
    plan = phases("64:0.33,128:0.67", total_steps=100, chunk=20, input_size=128, coarsest=16)
    assert plan == [Phase(64, 0, 40), Phase(128, 40, 100)]  # 33 rounds to the chunk at 40
    assert phases("none", total_steps=100, chunk=10, input_size=128, coarsest=16) == [Phase(128, 0, 100)]
    assert phases(None, total_steps=100, chunk=10, input_size=128, coarsest=16) == [Phase(128, 0, 100)]
    assert phase_at(plan, 0).size == 64 and phase_at(plan, 39).size == 64 and phase_at(plan, 40).size == 128
    assert phase_at(plan, 100).size == 128  # a finished run is at the preset's size


@pytest.mark.parametrize(
    "text, message",
    [
        ("64", "is not SIZE:FRACTION"),
        ("64:abc,128:1", "is not SIZE:FRACTION"),
        ("64:0,128:1", "is not SIZE:FRACTION"),
        ("64:0.5,128:0.6", "add up to 1.1"),
        ("60:0.5,128:0.5", "not a multiple of 8"),
        ("128:0.5,64:0.5", "last size must be the preset's input size 128"),
        ("64:0.99,128:0.01", "gets no whole checkpoint chunk"),
    ],
)
def test_bad_schedules_are_refused_in_one_line(text, message):
    with pytest.raises(TrainingError, match=message):
        parse_schedule(text)
        phases(text, total_steps=100, chunk=10, input_size=128, coarsest=16)


def test_train_config_refuses_bad_schedules_and_budgets_before_anything_runs():
    from repose_tf.training import TrainConfig
    from repose_tf.training.config import TrainConfigError

    base = {"dataset": ("lspet",), "data_dir": ("/x",), "steps": 100, "checkpoint_every": 10}
    assert TrainConfig(**base, resolution_schedule=" 64:0.5, 128:0.5").resolution_schedule == "64:0.5,128:0.5"
    assert TrainConfig(**base).resolution_schedule == "none"
    assert TrainConfig(**base, time_budget_minutes=0).time_budget_minutes is None  # 0: no budget
    with pytest.raises(TrainConfigError, match="add up to"):
        TrainConfig(**base, resolution_schedule="64:0.5")
    with pytest.raises(TrainConfigError, match="time_budget_minutes must be >= 0"):
        TrainConfig(**base, time_budget_minutes=-1)
    with pytest.raises(TrainConfigError, match="jit_compile does not combine with strategy multi_worker"):
        TrainConfig(**base, strategy="multi_worker", jit_compile=True)
    TrainConfig(**base, strategy="multi_worker")  # trains (tests/test_multi_worker.py)


def test_a_saved_config_from_before_progressive_resolution_resumes_without_it(tmp_path):
    """train_config.json written before these fields existed means "none", whatever the default."""
    from repose_tf.training import TrainConfig

    c = TrainConfig(
        dataset=("lspet",), data_dir=("/x",), steps=100, checkpoint_every=10, model_dir=str(tmp_path)
    )
    c.write(tmp_path)
    d = json.loads((tmp_path / "train_config.json").read_text())
    for key in ("resolution_schedule", "time_budget_minutes"):
        del d["train_config"][key]
    (tmp_path / "train_config.json").write_text(json.dumps(d))
    saved = TrainConfig.read(tmp_path)
    assert saved.resolution_schedule == "none" and saved.time_budget_minutes is None


def test_every_layer_has_the_same_name_and_weight_shapes_at_64_and_128_px():
    """Levels are named by depth, so a 64 px model (coarsest 8) is the 128 px model's weights."""
    from repose_tf.config import get_preset
    from repose_tf.model import RePose

    cfg = get_preset("repose_tiny")
    big, small = RePose(cfg), RePose(config_at_size(cfg, 64))
    assert small.repose_config.coarsest_resolution == 8 and small.repose_config.input_size == 64
    shapes = lambda m: [(w.path, tuple(w.shape)) for w in m.weights]  # noqa: E731
    assert shapes(big) == shapes(small)
    names = [layer.name for layer in big.layers]
    assert "s1_enc_d0_0_conv" in names and "s1_heatmap_d1" in names and "s1_up_d0" in names
    assert not [
        n for n in names if any(f"{k}128" in n or f"{k}16" in n for k in ("enc", "dec", "up", "down"))
    ]
    assert set(big.output) == {"heatmaps", "s1_pre_update", "s1_post_update", "s1_refine_d1", "s1_refine_d2"}
    assert small.output["heatmaps"].shape[1:] == (64, 64, 14)


def test_model_at_size_carries_weights_and_optimizer_state_both_ways(tiny_one_step):
    """The suite's one-step repose_tiny (conftest.py: compiled as the engine compiles, one Adam step
    at 128 px) rebuilt at 64 px and back: weights and optimizer state carried both ways."""
    from repose_tf.config import get_preset
    from repose_tf.training.initialise import build_training_state
    from repose_tf.training.resolution import model_at_size

    m128, kw = tiny_one_step.model, tiny_one_step.compile_kwargs
    cfg = get_preset("repose_tiny")
    assert m128.repose_config == cfg and int(m128.optimizer.iterations.numpy()) == 1
    rng = np.random.default_rng(0)

    def batch(n):
        x = rng.uniform(0, 255, (2, n, n, 3)).astype("float32")
        y = {k: rng.uniform(0, 1, (2, n, n, 14)).astype("float32") for k in m128.output}
        return x, y

    m64 = model_at_size(m128, config_at_size(cfg, 64), kw)
    assert m64 is not m128 and m64.repose_config.input_size == 64
    for a, b in zip(m128.weights, m64.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(m64.optimizer.iterations.numpy()) == 1
    for a, b in zip(m128.optimizer.variables, m64.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a.numpy()), np.asarray(b.numpy()))
    assert max(float(np.abs(v.numpy()).max()) for v in m64.optimizer.variables[2:]) > 0  # real moments
    build_training_state(m64, batch(64))
    m64.train_on_batch(*batch(64))  # trains at 64 px with the carried state
    back = model_at_size(m64, cfg, kw)
    assert int(back.optimizer.iterations.numpy()) == 2
    for a, b in zip(m64.weights, back.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert model_at_size(back, cfg, kw) is back  # already at the size: nothing rebuilt


def test_progressive_run_stops_at_its_time_budget_then_resumes_mid_schedule(tmp_path, data_dir):
    """64 px then 128 px on real LSPET images: a tiny time budget stops the run at its first
    checkpoint (inside the 64 px phase); the saved model is at 128 px anyway; --resume with the
    budget lifted continues at 64 px from that step, switches to 128 px at the phase boundary
    with the optimizer's step count carried, and ends with a 128 px checkpoint and model.

    Both runs go through the training CLI's flags in this process (tests/inprocess.py): what is
    checked is the engine's schedule, not a process boundary (test_train.test_kill_and_resume
    kills and resumes a real process)."""
    import keras

    import repose_tf.model  # noqa: F401  (registers RePose for load_model)

    out = tmp_path / "run"
    args = [
        "--preset=repose_tiny", "--dataset=lspet", f"--data_dir={data_dir / 'lspet'}", "--max_samples=32",
        "--batch_size=4", "--steps=12", "--checkpoint_every=3", "--resolution_schedule=64:0.5,128:0.5",
        "--lr_schedule=warmup_cosine", "--val_limit=4", "--eval_limit=4", f"--model_dir={out}",
    ]  # fmt: skip
    first = train_cli(*args, "--time_budget_minutes=0.001")
    assert "resolution: 64 px steps 0-6, 128 px steps 6-12" in first.stdout
    assert "time budget reached" in first.stdout
    state = json.loads((out / "state.json").read_text())
    assert [h["step"] for h in state["history"]] == [3]
    assert all(h.get("val_mean") is not None for h in state["history"])  # validated at 128 px
    ckpt = keras.saving.load_model(out / "checkpoint.keras")
    assert ckpt.repose_config.input_size == 64 and int(ckpt.optimizer.iterations.numpy()) == 3
    final = keras.saving.load_model(out / "model.keras")
    assert final.repose_config.input_size == 128 and final.repose_config.coarsest_resolution == 16
    src = {layer.name: layer for layer in ckpt.layers}
    for layer in final.layers:
        for a, b in zip(layer.get_weights(), src[layer.name].get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)  # the 128 px model is the 64 px checkpoint's weights

    second = train_cli(*args, "--resume", "--time_budget_minutes=0")
    assert "resolution phase: 64 px, steps 3->6" in second.stdout
    assert "resolution phase: 128 px, steps 6->12" in second.stdout
    assert "time budget reached" not in second.stdout
    state = json.loads((out / "state.json").read_text())
    assert [h["step"] for h in state["history"]] == [3, 6, 9, 12]
    ckpt = keras.saving.load_model(out / "checkpoint.keras")
    assert ckpt.repose_config.input_size == 128 and int(ckpt.optimizer.iterations.numpy()) == 12
    assert json.loads((out / "train_config.json").read_text())["train_config"]["time_budget_minutes"] is None
