"""Input pipelines: tf.data and PyDataset give identical batches; epochs; no TensorFlow for PyDataset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from repose_tf.data import ListDataset, MixedDataset, SampleTransform, SyntheticPoses, epoch_order, read_lspet
from repose_tf.data.pipeline import DEFAULT_KEYS, PosePyDataset, make_tf_dataset, num_batches

REPO = Path(__file__).resolve().parents[1]
B = 8


@pytest.fixture(scope="module")
def small_lspet(data_dir):
    full = read_lspet(data_dir / "lspet", "val")
    return ListDataset(full.samples[:36], "lspet", "val", full.keypoint_set, full.report)


def _tf_batches(ds, t, n_epochs, **kw):
    out = []
    for batch in make_tf_dataset(ds, t, B, seed=3, epochs=n_epochs, **kw).as_numpy_iterator():
        out.append(batch)
    return out


def test_tf_data_and_pydataset_identical(small_lspet):
    t = SampleTransform(64, train=True)
    keys = ("image", "heatmaps", "mask", "keypoints", "index")
    tf_b = _tf_batches(small_lspet, t, 2, keys=keys)
    py = PosePyDataset(small_lspet, t, B, seed=3, keys=keys)
    nb = len(py)
    assert nb == 36 // B == num_batches(36, B, True) and len(tf_b) == 2 * nb
    for e in range(2):
        for b in range(nb):
            pb, tb = py[b], tf_b[e * nb + b]
            assert set(tb) == set(keys)
            for k in keys:
                assert tb[k].shape == pb[k].shape
                np.testing.assert_array_equal(tb[k], pb[k], err_msg=f"epoch {e} batch {b} {k}")
        py.on_epoch_end()
    # per-epoch shuffling: epochs see different orders, each a permutation of the data
    i0 = np.concatenate([tf_b[b]["index"] for b in range(nb)])
    i1 = np.concatenate([tf_b[nb + b]["index"] for b in range(nb)])
    assert not np.array_equal(i0, i1)
    assert len(set(i0)) == nb * B and set(i0) <= set(range(36))
    np.testing.assert_array_equal(i0, epoch_order(36, 3, 0)[: nb * B])
    # resuming mid-epoch gives the same stream from there on
    resumed = list(
        make_tf_dataset(small_lspet, t, B, seed=3, start_batch=2, epochs=2, keys=keys).as_numpy_iterator()
    )
    assert len(resumed) == 2 * nb - 2
    for r, full in zip(resumed, tf_b[2:], strict=True):
        np.testing.assert_array_equal(r["image"], full["image"])


def test_tf_data_static_shapes_and_nondeterministic_mode(small_lspet):
    t = SampleTransform(64, train=True)
    ds = make_tf_dataset(small_lspet, t, B, seed=0)
    spec = ds.element_spec
    assert set(spec) == set(DEFAULT_KEYS)
    assert spec["image"].shape.as_list() == [B, 64, 64, 3]
    assert spec["heatmaps"].shape.as_list() == [B, 64, 64, 14]
    assert spec["mask"].shape.as_list() == [B, 14]
    # deterministic=False may reorder batches but never changes their content
    a = _tf_batches(small_lspet, t, 1)
    b = _tf_batches(small_lspet, t, 1, deterministic=False)
    key = lambda x: x["mask"].tobytes() + x["image"][:, 0, 0].tobytes()
    assert sorted(map(key, a)) == sorted(map(key, b))


def test_evaluation_order_keeps_every_sample(small_lspet):
    t = SampleTransform(64, train=False)
    batches = _tf_batches(small_lspet, t, 1, shuffle=False, keys=("mask", "index"))
    idx = np.concatenate([b["index"] for b in batches])
    np.testing.assert_array_equal(idx, np.arange(36))  # no drop_remainder when not shuffling
    py = PosePyDataset(small_lspet, t, B, shuffle=False, keys=("index",))
    assert len(py) == 5 and len(py[4]["index"]) == 4


def test_mixture_through_both_paths(small_lspet):
    mix = MixedDataset([small_lspet, SyntheticPoses("val", num_samples=20)], weights=[1, 1], length=32)
    t = SampleTransform(64, train=True)
    tf_b = _tf_batches(mix, t, 1)
    py = PosePyDataset(mix, t, B, seed=3)
    for b in range(len(py)):
        for k in DEFAULT_KEYS:
            np.testing.assert_array_equal(tf_b[b][k], py[b][k])


def test_bad_image_error_names_the_file_in_tf_data(tmp_path, small_lspet):
    import shutil

    import tensorflow as tf

    samples = []
    for s in small_lspet.samples[:4]:
        dst = tmp_path / Path(s.image_path).name
        shutil.copy(s.image_path, dst)
        samples.append(type(s)(**{**s.__dict__, "image_path": str(dst)}))
    data = (tmp_path / Path(samples[2].image_path).name).read_bytes()
    Path(samples[2].image_path).write_bytes(data[: len(data) // 2])
    ds = ListDataset(samples, "lspet", "val", small_lspet.keypoint_set, small_lspet.report.__class__("t"))
    t = SampleTransform(64, train=False)
    with pytest.raises(tf.errors.OpError, match=r"im08003\.jpg: truncated JPEG"):
        list(make_tf_dataset(ds, t, 2, shuffle=False).as_numpy_iterator())
    # on_error="skip": replaced by the next sample and counted
    out = list(make_tf_dataset(ds, t, 2, shuffle=False, on_error="skip", keys=("index",)).as_numpy_iterator())
    assert len(out) == 2
    assert ds.report.count("unreadable image -> replaced by the next sample") == 1
    assert "im08003.jpg" in ds.report.summary()


def test_pydataset_path_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from repose_tf.data import SampleTransform, SyntheticPoses\n"
        "import repose_tf.data.inspect\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "from repose_tf.data import PosePyDataset\n"
        "ds = PosePyDataset(SyntheticPoses('val', num_samples=8), SampleTransform(64, train=True), 4)\n"
        "b = ds[1]\n"
        "assert b['image'].shape == (4, 64, 64, 3) and b['heatmaps'].shape == (4, 64, 64, 14)\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
        "print('ok')\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-2000:]
