"""repose_tf.runtime.Predictor: one API over .keras, .weights.h5 (+config), .tflite and .onnx."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import test_export_helpers as H

from repose_tf import codec


@pytest.fixture(scope="module")
def model_path(tiny_model):  # the suite's small trained model (conftest.py)
    return tiny_model


@pytest.fixture(scope="module")
def crops(shared_dir):
    return H.check_crops(shared_dir)["image"][:6]


@pytest.fixture(scope="module")
def keras_pred(model_path):
    from repose_tf.runtime import Predictor

    return Predictor.load(model_path)


def test_keras_predictor(keras_pred, crops):
    assert keras_pred.kind == "keras" and keras_pred.input_size == 128
    assert keras_pred.keypoint_set.name == "lsp14" and keras_pred.keypoint_set.num_keypoints == 14
    hm = keras_pred.heatmaps(crops)
    assert hm.shape == (6, 128, 128, 14) and hm.dtype == np.float32
    one = keras_pred.heatmaps(crops[2])  # a single (n, n, 3) image is a batch of one
    np.testing.assert_allclose(one[0], hm[2], atol=1e-5)
    kp, sc = keras_pred.predict(crops)
    np.testing.assert_array_equal(kp, codec.decode(hm)[0])
    with pytest.raises(ValueError, match=r"\(B, 128, 128, 3\)"):
        keras_pred.heatmaps(np.zeros((1, 64, 64, 3), np.float32))


def test_training_form_keras_runs_its_inference_form(tmp_path):
    from repose_tf.model import RePose
    from repose_tf.runtime import Predictor

    m = RePose.from_preset("repose_tiny", load_weights=False)  # training form: a dict of stacks
    m.save(tmp_path / "train_form.keras")
    p = Predictor.load(tmp_path / "train_form.keras")
    x = np.random.default_rng(0).uniform(0, 255, (2, 128, 128, 3)).astype(np.float32)
    ref = np.asarray(m(x, training=False)["heatmaps"])
    np.testing.assert_allclose(p.heatmaps(x), ref, atol=1e-5)


def test_weights_h5_with_config_beside_or_given(tmp_path, keras_pred, crops):
    from repose_tf.runtime import ModelLoadError, Predictor

    w = tmp_path / "tiny.weights.h5"
    keras_pred.source_model.save_weights(w)
    with pytest.raises(ModelLoadError, match=r"tiny\.config\.json"):
        Predictor.load(w)
    ref = keras_pred.heatmaps(crops)
    p = Predictor.load(w, config="repose_tiny")  # a preset name
    np.testing.assert_allclose(p.heatmaps(crops), ref, atol=1e-5)
    (tmp_path / "tiny.config.json").write_text(json.dumps(keras_pred.config.to_dict()))
    p = Predictor.load(w)  # X.config.json beside X.weights.h5
    assert p.kind == "keras" and p.path == w
    np.testing.assert_allclose(p.heatmaps(crops), ref, atol=1e-5)
    (tmp_path / "tiny.config.json").write_text(json.dumps({"preset": "repose_small"}))
    with pytest.raises(ModelLoadError, match="do not fit"):
        Predictor.load(w)


def test_tflite_predictor_sidecar_threads_and_quantised_io(tiny_exports, keras_pred, crops, tmp_path):
    from repose_tf.runtime import Predictor

    exports = tiny_exports
    ref = keras_pred.heatmaps(crops)
    p = Predictor.load(exports["none"], num_threads=2)
    assert p.kind == "tflite" and p.num_threads == 2 and p.sidecar["quantize"] == "none"
    np.testing.assert_allclose(p.heatmaps(crops), ref, atol=1e-4)
    q = Predictor.load(exports["int8"], num_threads=1)
    assert q.input_dtype == np.uint8 and q.input_quant is not None and q.output_quant is not None
    assert np.abs(q.heatmaps(crops) - ref).max() <= H.TOLERANCE["int8"]
    # without a sidecar the keypoint set comes from the channel count
    lone = tmp_path / "lone.tflite"
    shutil.copy(exports["int8"], lone)
    r = Predictor.load(lone)
    assert r.sidecar is None and r.keypoint_set.name == "lsp14"
    np.testing.assert_array_equal(r.heatmaps(crops), q.heatmaps(crops))


def test_onnx_predictor(tiny_onnx, keras_pred, crops):
    from repose_tf.runtime import Predictor

    p = Predictor.load(tiny_onnx, num_threads=1)
    assert p.kind == "onnx" and p.input_size == 128 and p.keypoint_set.name == "lsp14"
    np.testing.assert_allclose(p.heatmaps(crops), keras_pred.heatmaps(crops), atol=1e-4)


def test_evaluate_path_accepts_every_predictor(tiny_exports, shared_dir, model_path):
    from repose_tf.evaluate import evaluate_predictor
    from repose_tf.runtime import Predictor

    exports = tiny_exports
    res = [
        evaluate_predictor(Predictor.load(p), "lspet", H.lspet_dir(shared_dir), "val", limit=8)
        for p in (model_path, exports["none"])
    ]
    assert res[0].metric.startswith("PCK") and res[0].num_images + res[0].num_skipped_images == 8
    assert res[0].mean == pytest.approx(res[1].mean)


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("missing.keras", None, "not found"),
        ("model.pb", b"x", "unknown model file type"),
        ("empty.tflite", b"", "is empty"),
        ("junk.tflite", b"definitely not a flatbuffer" * 10, "not a valid TFLite model"),
        ("junk.onnx", b"definitely not protobuf" * 10, "not a valid ONNX model"),
        ("junk.keras", b"no zip", "not a Keras archive"),
        ("lonely.weights.h5", b"x", "needs its architecture"),
    ],
)
def test_load_errors(tmp_path, name, content, match):
    from repose_tf.runtime import ModelLoadError, Predictor

    p = tmp_path / name
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(ModelLoadError, match=match):
        Predictor.load(p)


def test_non_repose_models_are_refused(tmp_path):
    import keras
    import tensorflow as tf

    from repose_tf.runtime import ModelLoadError, Predictor

    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    m.save(tmp_path / "dense.keras")
    with pytest.raises(ModelLoadError, match="not a RePose model"):
        Predictor.load(tmp_path / "dense.keras")
    (tmp_path / "dense.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(m).convert())
    with pytest.raises(ModelLoadError, match="not a RePose model"):
        Predictor.load(tmp_path / "dense.tflite")
