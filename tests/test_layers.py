"""Custom layers through the shared config round-trip harness, and a mixed-precision repose_tiny."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from layer_harness import run_layer_config_round_trip

from repose_tf.cpu import cpu_info
from repose_tf.layers import KinematicUpdate, ResizeTo

RNG = np.random.default_rng(0)


def test_resize_to_config_round_trip():
    x = RNG.uniform(0, 1, (2, 8, 8, 3)).astype("float32")
    run_layer_config_round_trip(
        ResizeTo, {"height": 16, "width": 12}, x, expected_output_shape=(2, 16, 12, 3)
    )


@pytest.mark.parametrize("strategy", ["trainable", "add", "replace"])
def test_kinematic_update_config_round_trip(strategy):
    f_k, f_j = (RNG.uniform(0, 1, (2, 8, 8, 8)).astype("float32") for _ in range(2))
    kwargs = {"filters": 8, "num_blocks": 2, "strategy": strategy, "lambda_init": 0.25, "bn_momentum": 0.9}
    run_layer_config_round_trip(KinematicUpdate, kwargs, [f_k, f_j], expected_output_shape=(2, 8, 8, 8))


def test_kinematic_update_refuses_a_bad_strategy():
    with pytest.raises(ValueError, match="strategy must be"):
        KinematicUpdate(strategy="multiply")


# --------------------------------------------------------------------------------------------
# Mixed precision: bfloat16 where this CPU has it natively, else a float16 policy build
# --------------------------------------------------------------------------------------------
POLICY = "mixed_bfloat16" if cpu_info().native_bf16 else "mixed_float16"


@pytest.fixture
def mixed_policy():
    keras.mixed_precision.set_global_policy(POLICY)
    yield POLICY
    keras.mixed_precision.set_global_policy("float32")


def _compiled_tiny():
    from repose_tf.losses import PartialMSE
    from repose_tf.model import RePose

    model = RePose.from_preset("repose_tiny", load_weights=False)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss={n: PartialMSE() for n in model.output})
    return model


def test_mixed_precision_tiny_forward_train_step_save_load(mixed_policy, tmp_path):
    """repose_tiny under a mixed policy: computes in the low dtype with float32 variables, takes a
    finite train step, and what it saves loads (and is rebuilt for inference) in float32."""
    from repose_tf.export.package import release_model
    from repose_tf.runtime import load_repose
    from repose_tf.training.initialise import build_training_state

    compute = mixed_policy.removeprefix("mixed_")
    keras.utils.set_random_seed(0)
    model = _compiled_tiny()
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    assert {layer.compute_dtype for layer in model.layers if layer.weights} == {compute}
    x = RNG.uniform(0, 255, (2, 128, 128, 3)).astype("float32")
    out = model(x, training=False)["heatmaps"]  # computed in the low dtype, heatmaps come out float32
    assert keras.backend.standardize_dtype(out.dtype) == "float32" and np.isfinite(np.asarray(out)).all()
    before = [v.numpy().copy() for v in model.trainable_variables]
    y = {n: np.zeros((2, 128, 128, 14), "float32") for n in model.output}
    w = {n: np.ones((2, 14), "float32") for n in model.output}
    build_training_state(model, (x, y, w))  # as the training engine does: the step is traced once
    loss = model.train_on_batch(x, y, sample_weight=w, return_dict=True)["loss"]
    assert np.isfinite(loss)
    assert any(
        not np.array_equal(a, v.numpy()) for a, v in zip(before, model.trainable_variables, strict=True)
    )

    ckpt = tmp_path / "checkpoint.keras"
    model.save(ckpt)
    config = json.loads(zipfile.ZipFile(ckpt).read("config.json"))
    assert "mixed_" not in json.dumps(config["config"])  # RePose records its RePoseConfig, no policy
    # still under the mixed global policy (as at the end of a training run): loading, packaging and
    # the inference copy come back in float32 with the trained weights
    for loaded in (load_repose(ckpt), release_model(ckpt)):
        assert {layer.dtype_policy.name for layer in loaded.layers} == {"float32"}
        for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    from repose_tf.export.tflite import load_inference_model

    for source in (model, ckpt):  # what every TFLite/ONNX export converts
        exported, _ = load_inference_model(source)
        assert exported.inference and {layer.dtype_policy.name for layer in exported.layers} == {"float32"}
    assert keras.mixed_precision.global_policy().name == mixed_policy  # restored after the export
    keras.mixed_precision.set_global_policy("float32")
    ref = _float32_copy(model)(x, training=False)["heatmaps"]
    got = load_repose(ckpt).inference_model()(x, training=False)
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref), atol=1e-5)


def _float32_copy(model):
    from repose_tf.model import RePose

    fresh = RePose(model.repose_config)
    fresh.set_weights(model.get_weights())
    return fresh


def test_training_finish_writes_a_float32_inference_model(mixed_policy, tmp_path):
    """The engine's final model.keras is built in float32 even though the run trained mixed."""
    from repose_tf.training.checkpoint import RunFiles
    from repose_tf.training.config import TrainConfig
    from repose_tf.training.engine import finish

    model = _compiled_tiny()
    cfg = TrainConfig(model_dir=str(tmp_path), steps=1)
    finish(model, RunFiles(Path(tmp_path)), {"history": []}, cfg, val=None, chief=True, specs=(), seconds=0.0)
    keras.mixed_precision.set_global_policy(POLICY)  # a leftover global policy must not matter
    from repose_tf.runtime import load_repose

    for name in ("model.keras", "model.weights.h5"):
        loaded = load_repose(tmp_path / name)
        assert loaded.inference
        if name.endswith(".keras"):
            assert {layer.dtype_policy.name for layer in loaded.layers} == {"float32"}
