"""RePose model: shapes, serialization, the kinematic update's semantics, backend portability."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from repose_tf import RePose, get_preset, list_presets
from repose_tf.config import RePoseConfig
from repose_tf.keypoints import get_keypoint_set
from repose_tf.layers import KinematicUpdate
from repose_tf.model import FINAL_OUTPUT
from repose_tf.profile import profile_model

TINY = get_preset("repose_tiny")


def _image(n=128, batch=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (batch, n, n, 3)).astype("float32")


def _updates(model) -> dict[str, KinematicUpdate]:
    return {layer.name: layer for layer in model.layers if isinstance(layer, KinematicUpdate)}


@pytest.mark.parametrize(
    "overrides, n_stacks",
    [
        ({}, 5),  # pre, post, refine 32/64/128
        ({"keypoint_set": "mpii16"}, 5),
        ({"keypoint_set": "coco17"}, 5),
        ({"input_size": 256}, 6),
        ({"num_stages": 2}, 10),
        ({"coarsest_resolution": 8}, 6),
        ({"coarsest_resolution": 32}, 4),
        ({"joint_post_head": True}, 5),
        ({"ordering": "sequential"}, 5),
        ({"ordering": "top_down", "update_strategy": "add"}, 5),
    ],
)
def test_output_shapes(overrides, n_stacks):
    cfg = TINY.replace(**overrides)
    model = RePose(cfg)
    n, k = cfg.input_size, cfg.num_keypoints
    out = model(_image(n, batch=1), training=False)
    assert set(out) >= {FINAL_OUTPUT}
    assert len(out) == n_stacks
    for name, hm in out.items():
        assert tuple(hm.shape) == (1, n, n, k), name
    inf = model.inference_model()
    final = inf(_image(n, batch=1), training=False)
    assert tuple(final.shape) == (1, n, n, k)
    np.testing.assert_allclose(np.asarray(final), np.asarray(out[FINAL_OUTPUT]), atol=1e-5)


def test_update_count_and_passes_have_own_weights():
    model = RePose(TINY)
    ups = _updates(model)
    k = TINY.num_keypoints
    assert len(ups) == 2 * k  # one per keypoint and pass
    for kk in range(k):
        a, b = ups[f"s1_update_p0_k{kk}"], ups[f"s1_update_p1_k{kk}"]
        assert a is not b
        ids_a = {id(v) for v in a.weights}
        assert ids_a.isdisjoint({id(v) for v in b.weights})
    # the sequential baseline has no kinematic updates, but about the same number of parameters
    seq = RePose(TINY.replace(ordering="sequential"))
    assert not _updates(seq)


def test_updates_are_sequential_in_the_graph():
    """A later keypoint's update consumes the *updated* features of its earlier neighbours."""
    model = RePose(TINY)
    kps = get_keypoint_set(TINY.keypoint_set)
    ups = _updates(model)
    order = kps.update_order
    rank = {j: i for i, j in enumerate(order)}
    checked = 0
    for k in order:
        layer = ups[f"s1_update_p0_k{k}"]
        inputs = layer.input if isinstance(layer.input, list) else [layer.input]
        for pos, j in enumerate(kps.neighbours(k), start=1):
            producer = inputs[pos]._keras_history.operation
            if rank[j] < rank[k]:
                assert producer is ups[f"s1_update_p0_k{j}"], (k, j)
                checked += 1
            else:
                assert not isinstance(producer, KinematicUpdate), (k, j)
    assert checked >= 10
    # reverse pass: head_top (last in the forward order) goes first and sees forward-pass features
    first_rev = ups[f"s1_update_p1_k{order[-1]}"]
    assert first_rev.input[0]._keras_history.operation is ups[f"s1_update_p0_k{order[-1]}"]


def test_updates_are_sequential_numerically():
    """Changing an earlier keypoint's lambda changes a later neighbour's updated features."""
    model = RePose(TINY)
    kps = get_keypoint_set(TINY.keypoint_set)
    r_hip, r_knee = kps.index("r_hip"), kps.index("r_knee")  # hips update before knees
    ups = _updates(model)
    knee = ups[f"s1_update_p0_k{r_knee}"]
    probe = keras.Model(model.input, knee.output)
    x = _image(batch=1)
    before = np.asarray(probe(x, training=False))
    ups[f"s1_update_p0_k{r_hip}"].lam.assign(5.0)
    after = np.asarray(probe(x, training=False))
    assert np.abs(after - before).max() > 1e-4


def test_lambdas_are_trainable_and_move(tiny_one_step):
    """One Adam step (conftest.py ``tiny_one_step``: the engine's compile, every stack supervised)
    moves every lambda off its init."""
    model, initial = tiny_one_step.model, tiny_one_step.initial
    lams = [v for v in model.trainable_weights if v.path.endswith("lambda")]
    assert len(lams) == 2 * TINY.num_keypoints
    before = np.array([float(initial[v.path]) for v in lams])
    np.testing.assert_allclose(before, TINY.lambda_init)
    after = np.array([float(v.numpy()) for v in lams])
    assert np.all(np.abs(after - before) > 1e-6)
    assert not any(v.path.endswith("lambda") for v in RePose(TINY.replace(update_strategy="add")).weights)


def test_keras_and_weights_round_trip(tmp_path, tiny_one_step):
    """A trained model (its BatchNorm statistics moved, so a training-mode leak would show) saved
    as .keras and as .weights.h5 comes back identical."""
    model = tiny_one_step.model
    bns = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]
    assert all(np.abs(bn.moving_mean.numpy()).max() > 0 for bn in bns)  # statistics left their init
    x = _image(batch=2, seed=7)
    ref = model.predict(x, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded, RePose)
    assert loaded.repose_config == model.repose_config
    got = loaded.predict(x, verbose=0)
    for name in ref:
        np.testing.assert_array_equal(got[name], ref[name])
    model.save_weights(tmp_path / "m.weights.h5")
    fresh = RePose(TINY)
    fresh.load_weights(tmp_path / "m.weights.h5")
    got = fresh.predict(x, verbose=0)
    for name in ref:
        np.testing.assert_array_equal(got[name], ref[name])
    # the Resizing-leak guard: a loaded model called without training=False equals predict
    direct = loaded(x)
    for name in ref:
        np.testing.assert_allclose(np.asarray(direct[name]), ref[name], atol=1e-5)
    inf = loaded.inference_model()
    np.testing.assert_allclose(np.asarray(inf(x)), ref[FINAL_OUTPUT], atol=1e-5)


def test_config_errors():
    with pytest.raises(ValueError, match="unknown keypoint set"):
        RePoseConfig(keypoint_set="horse")
    with pytest.raises(ValueError, match="update_strategy"):
        RePoseConfig(update_strategy="mix")
    with pytest.raises(ValueError, match="power of two"):
        RePoseConfig(input_size=128, coarsest_resolution=24)
    with pytest.raises(ValueError, match="unknown preset"):
        RePose.from_preset("repose_nope")
    assert "repose_lsp14" in list_presets() and "repose_mpii16" in list_presets()
    with pytest.raises(ValueError, match="heatmap_gain"):
        RePoseConfig(heatmap_gain=0)
    with pytest.raises(ValueError, match="bn_momentum"):
        RePoseConfig(bn_momentum=1.0)


def test_heatmap_gain_is_a_reparameterisation():
    """The gain changes no parameter or FLOP, and a gain-g model equals a gain-1 model whose heatmap
    convs are divided by g: outputs stay peak-1 heatmaps whatever the gain."""
    gained, plain = RePose(TINY.replace(heatmap_gain=10.0)), RePose(TINY.replace(heatmap_gain=1.0))
    assert profile_model(gained) == profile_model(plain)
    heatmap_convs = set()
    for layer in plain.layers:
        src = gained.get_layer(layer.name).get_weights()
        if isinstance(layer, keras.layers.Conv2D) and "_heatmap" in layer.name:
            heatmap_convs.add(layer.name)
            src = [w / 10.0 for w in src]
        layer.set_weights(src)
    assert len(heatmap_convs) == 2 * TINY.num_keypoints + TINY.num_levels  # pre + post heads, refines
    x = _image(batch=1, seed=3)
    a, b = gained.predict(x, verbose=0), plain.predict(x, verbose=0)
    assert set(a) == set(b) == set(gained.output)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-6)


def test_bn_momentum_reaches_every_batchnorm(tmp_path):
    model = RePose(TINY.replace(bn_momentum=0.8))
    bns = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) > 50 and {bn.momentum for bn in bns} == {0.8}  # KinematicUpdate's nested BNs too
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.repose_config.bn_momentum == 0.8
    assert {
        bn.momentum for bn in loaded._flatten_layers() if isinstance(bn, keras.layers.BatchNormalization)
    } == {0.8}


def test_full_size_default_model_matches_paper_size():
    """The full-size paper model (jointly trained LSP+MPII, 16 outputs): 4.0M params, 13.5 GFLOPs."""
    model = RePose.from_preset("repose_mpii16", load_weights=False)
    prof = profile_model(model)
    assert abs(prof.params / 4.0e6 - 1) < 0.05, prof.params
    assert abs(prof.gflops / 13.5 - 1) < 0.05, prof.gflops
    out = model.inference_model()(_image(batch=1), training=False)
    assert tuple(out.shape) == (1, 128, 128, 16)
    lsp = profile_model(RePose.from_preset("repose_lsp14", load_weights=False))
    assert lsp.params < prof.params  # 14 keypoint branches instead of 16


def test_summary_json_cli():
    out = subprocess.run(
        [sys.executable, "-m", "repose_tf.summary", "--json", "--presets=repose_mpii16,repose_tiny"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    rows = json.loads(out.stdout)
    assert [r["name"] for r in rows] == ["repose_mpii16", "repose_tiny"]
    assert set(rows[0]) == {"name", "params", "gflops", "paper_params", "paper_gflops"}
    assert rows[0]["paper_params"] == 4_000_000 and rows[0]["paper_gflops"] == 13.5
    bad = subprocess.run(
        [sys.executable, "-m", "repose_tf.summary", "--presets=nope"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bad.returncode == 2 and "unknown preset" in bad.stderr and "Traceback" not in bad.stderr


def test_jax_backend_builds_and_weights_load_into_tensorflow(tmp_path):
    pytest.importorskip("jax")
    script = textwrap.dedent(
        f"""
        import sys, numpy as np, keras
        assert keras.backend.backend() == "jax", keras.backend.backend()
        from repose_tf import RePose, get_preset
        model = RePose(get_preset("repose_tiny"))
        x = np.random.default_rng(0).uniform(0, 255, (2, 128, 128, 3)).astype("float32")
        out = model.predict(x, verbose=0)
        model.save_weights(r"{tmp_path}/jax.weights.h5")
        np.save(r"{tmp_path}/x.npy", x)
        np.save(r"{tmp_path}/y.npy", out["heatmaps"])
        assert "tensorflow" not in sys.modules, "the model code imported TensorFlow under JAX"
        """
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    model = RePose(TINY)
    model.load_weights(tmp_path / "jax.weights.h5")
    y = model.predict(np.load(tmp_path / "x.npy"), verbose=0)["heatmaps"]
    np.testing.assert_allclose(y, np.load(tmp_path / "y.npy"), atol=2e-4)


def test_from_preset_loads_the_shipped_weights():
    """Keras-Hub semantics: from_preset means trained weights where they ship; load_weights=False
    is a random init; a preset without weights says which presets have them."""
    import warnings

    from repose_tf.config import PRESETS, presets_with_weights
    from repose_tf.runtime import load_repose

    assert presets_with_weights() == ["repose_lsp14"]
    if PRESETS["repose_lsp14"].weights_path is None:
        pytest.skip("models/repose_lsp14.keras not present")
    shipped = load_repose(PRESETS["repose_lsp14"].weights_path).inference_model()
    ours = RePose.from_preset("repose_lsp14", inference=True)
    # the same graph holding the same values (compared as arrays: each prediction of the full-size
    # model would cost a trace, and equal weights in an equal graph give equal heatmaps)
    assert [v.path for v in ours.weights] == [v.path for v in shipped.weights]
    for a, b in zip(ours.get_weights(), shipped.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    random = RePose.from_preset("repose_lsp14", inference=True, load_weights=False)
    kernels = [(r.numpy(), s.numpy()) for r, s in zip(random.weights, shipped.weights, strict=True)
               if s.path.endswith("kernel")]  # fmt: skip
    assert kernels and not any(np.allclose(r, s, atol=1e-3) for r, s in kernels)
    with pytest.raises(ValueError, match="load_weights=False"):
        RePose.from_preset("repose_lsp14", width=32)  # another architecture cannot take the weights
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        RePose.from_preset("repose_tiny")
    assert any("presets with weights: repose_lsp14" in str(w.message) for w in caught)


def test_shipped_model_predicts_identically_after_the_depth_rename(tmp_path):
    """Layers are named by depth now (s1_enc_d0, not s1_enc128). Keras stores a .keras file's
    weights by position, so the shipped file must still load into exactly the same network: its
    heatmaps on a fixed input match a fingerprint made with the pixel-named code (tests/fixtures,
    from the release at model_commit; a later release is checked out of git history)."""
    import hashlib

    from repose_tf.runtime import load_repose

    fx = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "repose_lsp14_fingerprint.npz"))
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(repo, "models", "repose_lsp14.keras")
    from pathlib import Path

    shipped = Path(path).read_bytes() if os.path.isfile(path) else b""
    if hashlib.sha256(shipped).hexdigest() != str(fx["model_sha256"]):
        path = str(tmp_path / "old.keras")
        with open(path, "wb") as f:
            res = subprocess.run(
                ["git", "-C", repo, "show", f"{fx['model_commit']}:models/repose_lsp14.keras"], stdout=f
            )
        if res.returncode != 0:
            pytest.skip("the fingerprinted release is neither in models/ nor in git history (shallow clone?)")
    model = load_repose(path).inference_model()
    assert "s1_enc_d0_0_conv" in [layer.name for layer in model.layers]
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (2, 128, 128, 3)).astype(np.float32)
    yy, xx = np.mgrid[0:128, 0:128].astype(np.float32)
    x[1] = np.stack([xx * 2, yy * 2, 255 * np.exp(-((yy - 64) ** 2 + (xx - 50) ** 2) / 400.0)], -1)
    h = np.asarray(model.predict(x, verbose=0), np.float32)
    np.testing.assert_allclose(h[:, ::8, ::8, :], fx["heatmaps_stride8"], atol=2e-5)
    np.testing.assert_allclose(h.max(axis=(1, 2)), fx["peak"], atol=2e-5)
