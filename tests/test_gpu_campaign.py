"""tools/gpu_campaign.py on the CPU: a real LSPET pack, then a few JAX training steps from given weights.

The GPU stretch is one prepared device call; what can break there is tested here first: the pack
is an LSPET directory the usual reader reads (joints mapped into the crops exactly), and ``train``
runs under ``KERAS_BACKEND=jax`` from ``--init_weights`` and copies back weights that the
TensorFlow side loads.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from inprocess import run_tool

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("jax")


def _run(args):
    """``python tools/gpu_campaign.py ARGS`` in this process (tests/inprocess.py); ``train`` still
    starts the training run itself as a subprocess under KERAS_BACKEND=jax, as on the GPU machine."""
    return run_tool("gpu_campaign.py", *args, cwd=REPO)


@pytest.fixture(scope="module")
def pack(tmp_path_factory, data_dir) -> Path:
    out = tmp_path_factory.mktemp("pack")
    r = _run(["pack", f"--data_dir={data_dir / 'lspet'}", f"--output={out}", "--train_limit=12",
              "--val_limit=4", "--no_wheels"])  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert "packed 12 train + 4 val images (157 px WebP, box 112 px)" in r.stdout
    return out


def test_the_pack_is_an_lspet_directory_with_joints_mapped_into_the_crops(pack, data_dir):
    from repose_tf.data import get_dataset

    summary = json.loads((pack / "pack.json").read_text())
    assert summary["images"] == {"train": 12, "val": 4} and summary["side_px"] == 157
    files = sorted((pack / "lspet" / "images").iterdir())
    assert len(files) == 16 and all(f.suffix == ".webp" for f in files)
    assert files[0].read_bytes()[8:12] == b"WEBP"
    src = get_dataset("lspet", data_dir / "lspet", "train")
    packed = get_dataset("lspet", pack / "lspet", "train")
    assert len(packed) == 12 and packed.report.counts == {"no annotated joint": 8000 - 12}
    assert len(get_dataset("lspet", pack / "lspet", "val")) == 4
    for i in range(12):
        a, b = src[i], packed[i]
        assert a.id == b.id and (a.mask == b.mask).all()
        s = 112 / a.box_size  # the box becomes 112 px, centred in the 157 px crop
        np.testing.assert_allclose(
            b.keypoints[b.mask], (a.keypoints[a.mask] - a.center) * s + 78.5, atol=1e-3
        )
        np.testing.assert_allclose(b.box_size, 112, rtol=1e-4)
        img, size = packed.load_image(i)
        assert img.shape == (157, 157, 3) and size == (157, 157)


def test_bad_inputs_are_refused_in_one_line(tmp_path):
    r = _run(["pack", f"--data_dir={tmp_path}", f"--output={tmp_path / 'p'}", "--no_wheels"])
    assert r.returncode == 2 and "no joints.mat" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "joints.mat").write_text("not a MATLAB file")
    r = _run(["pack", f"--data_dir={tmp_path}", f"--output={tmp_path / 'p'}", "--no_wheels"])
    assert r.returncode == 2 and "joints.mat: cannot read MATLAB file" in r.stderr
    assert "Traceback" not in r.stderr
    r = _run(["train", f"--pack={tmp_path}", f"--output={tmp_path / 'o'}"])
    assert r.returncode == 2 and "not a pack" in r.stderr and "Traceback" not in r.stderr


def test_train_runs_under_jax_without_tensorflow_from_the_given_weights_and_brings_them_back(
    pack, tmp_path, monkeypatch
):
    """The training run (a process of its own, KERAS_BACKEND=jax) starts from weights saved by
    TensorFlow, with TensorFlow un-importable (as on a GPU box that has JAX only: the PyDataset
    path), and what it saves loads into the TensorFlow build: the ``.keras`` and the
    ``.weights.h5`` + ``.config.json`` pair give the same heatmaps. (This also covers what
    test_train.test_jax_backend_trains_without_tensorflow checked, with one JAX run fewer.)"""
    import keras

    from repose_tf.config import get_preset
    from repose_tf.model import RePose
    from repose_tf.runtime import Predictor

    init = RePose(get_preset("repose_tiny"))
    init.save(tmp_path / "init.keras")
    fake = tmp_path / "no_tf" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("TensorFlow is not installed on this machine")\n')
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))  # the training process the tool starts
    out, run = tmp_path / "out", tmp_path / "run"
    r = _run(
        ["train", f"--pack={pack}", f"--output={out}", f"--run_dir={run}", "--preset=repose_tiny",
         f"--init_weights={tmp_path / 'init.keras'}", "--batch_size=4", "--mixed_precision=float32",
         "--workers=2", "--checkpoint_every=2", "--steps=4", "--val_limit=4", "--minutes=5"],
    )  # fmt: skip
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-3000:]
    assert "backend jax" in log and "initialised" in log and "steps 0->4" in log
    assert {"model.keras", "state.json", "train_config.json", "log.csv", "train.log"} <= {
        p.name for p in out.iterdir()
    }
    state = json.loads((out / "state.json").read_text())
    assert [h["step"] for h in state["history"]] == [2, 4]
    assert state["step"] == 4 and state["history"][0]["val_metric"] == "PCK@0.2"
    back = keras.saving.load_model(out / "model.keras")  # the TensorFlow side reads the JAX weights
    convs = [ly.name for ly in back.layers if isinstance(ly, keras.layers.Conv2D)]
    assert convs
    diffs = []
    for name in convs:
        w0, w1 = init.get_layer(name).get_weights()[0], back.get_layer(name).get_weights()[0]
        diffs.append(float(np.abs(w1 - w0).max()) / float(np.abs(w0).max()))
    assert max(diffs) > 0  # trained: not the initial weights ...
    assert max(diffs) < 0.2  # ... but four small steps from them (a fresh init would differ by ~1)
    pred = Predictor.load(run / "model.weights.h5")  # architecture from model.config.json beside it
    x = np.random.default_rng(0).uniform(0, 255, (1, 128, 128, 3)).astype("float32")
    np.testing.assert_allclose(pred.heatmaps(x), Predictor.load(out / "model.keras").heatmaps(x), atol=1e-5)
