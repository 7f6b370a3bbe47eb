"""Checkpoint averaging (tools/average_checkpoints.py, repose_tf.training.averaging): the mean of
real checkpoints, its record carried into a release manifest, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import test_export_helpers as H
from inprocess import run_tool

REPO = Path(__file__).resolve().parents[1]


def _cli(*args):
    """``python tools/average_checkpoints.py ARGS`` in this process (tests/inprocess.py)."""
    return run_tool("average_checkpoints.py", *args, cwd=REPO)


@pytest.fixture(scope="module")
def two_checkpoints(tmp_path_factory, tiny_model):
    """The fitted tiny fixture and a second, differently initialised repose_tiny of the same form."""
    import keras

    from repose_tf.model import RePose

    trained = tiny_model  # the suite's small trained model (conftest.py)
    keras.utils.set_random_seed(1)
    other = RePose.from_preset("repose_tiny", inference=True, load_weights=False)
    path = tmp_path_factory.mktemp("avg") / "other.keras"
    other.save(path)
    return trained, path


def test_cli_writes_the_weighted_mean_and_its_record(two_checkpoints, shared_dir, tmp_path):
    from repose_tf.export.package import sha256
    from repose_tf.runtime import Predictor, load_repose

    a, b = two_checkpoints
    out = tmp_path / "averaged.keras"
    res = _cli(a, b, "--weights", "3,1", "--output", out)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    wa, wb = load_repose(a).get_weights(), load_repose(b).get_weights()
    avg = load_repose(out)
    assert avg.inference  # the sources' form is kept
    assert any(not np.allclose(x, y) for x, y in zip(wa, wb, strict=True))  # the two really differ
    for x, y, m in zip(wa, wb, avg.get_weights(), strict=True):
        np.testing.assert_allclose(m, 0.75 * x + 0.25 * y, rtol=1e-6, atol=1e-6)
    record = json.loads((tmp_path / "averaged.averaging.json").read_text())
    assert [s["weight"] for s in record["averaged_from"]] == [0.75, 0.25]
    assert [s["sha256"] for s in record["averaged_from"]] == [sha256(a), sha256(b)]
    # the averaged model is a working model: heatmaps with a peak on real LSPET crops
    crops = H.check_crops(shared_dir)["image"][:2]
    heat = Predictor.load(out).heatmaps(crops)
    assert heat.shape[0] == 2 and np.isfinite(heat).all() and heat.max() > 0


def test_a_release_of_an_averaged_model_names_its_sources(two_checkpoints, tmp_path):
    from repose_tf.export.package import training_provenance
    from repose_tf.training.averaging import average_checkpoints

    out = tmp_path / "run" / "avg.keras"
    record = average_checkpoints(list(two_checkpoints), out, log=lambda *_: None)
    assert [s["weight"] for s in record["averaged_from"]] == [0.5, 0.5]
    assert training_provenance(out)["averaged_from"] == record["averaged_from"]
    plain = training_provenance(Path(two_checkpoints[0]))
    assert "averaged_from" not in plain  # a plain checkpoint says nothing of averaging


def test_refusals_name_the_problem(two_checkpoints, tmp_path):
    import keras

    from repose_tf.model import RePose
    from repose_tf.training.averaging import average_checkpoints

    a, b = two_checkpoints
    with pytest.raises(ValueError, match="at least two"):
        average_checkpoints([a], tmp_path / "x.keras")
    with pytest.raises(ValueError, match="2 weights for 3"):
        average_checkpoints([a, b, a], tmp_path / "x.keras", weights=[1, 2])
    with pytest.raises(ValueError, match="non-negative"):
        average_checkpoints([a, b], tmp_path / "x.keras", weights=[1, -1])
    with pytest.raises(ValueError, match="written as a .keras"):
        average_checkpoints([a, b], tmp_path / "x.h5")
    training_form = tmp_path / "training_form.keras"
    keras.utils.set_random_seed(2)
    RePose.from_preset("repose_tiny", load_weights=False).save(training_form)
    with pytest.raises(ValueError, match="training_form.keras: a different RePose config or form"):
        average_checkpoints([a, training_form], tmp_path / "x.keras")
    assert not (tmp_path / "x.keras").exists()  # nothing written by a refusal
    # the CLI: one line naming the file, exit 2, no traceback
    res = _cli(a, tmp_path / "missing.keras", "--output", tmp_path / "x.keras")
    assert res.returncode == 2 and "missing.keras: checkpoint not found" in res.stderr
    assert "Traceback" not in res.stderr
    res = _cli(a, b, "--weights", "1,x", "--output", tmp_path / "x.keras")
    assert res.returncode == 2 and "--weights '1,x'" in res.stderr


def test_a_broken_averaging_record_is_named_not_a_json_traceback(tmp_path):
    """ship_model reads X.averaging.json beside the checkpoint; a damaged one is a one-line error."""
    from repose_tf.export.package import training_provenance

    ckpt = tmp_path / "avg.keras"
    record = tmp_path / "avg.averaging.json"
    record.write_text("{not json")
    with pytest.raises(ValueError, match=r"avg\.averaging\.json: not a readable averaging record"):
        training_provenance(ckpt)
    record.write_text(json.dumps({"output": "avg.keras"}))
    with pytest.raises(ValueError, match=r"averaging\.json: an averaging record needs an 'averaged_from'"):
        training_provenance(ckpt)
    record.write_text(json.dumps({"averaged_from": [{"checkpoint": "a.keras", "weight": 1.0}]}))
    assert training_provenance(ckpt)["averaged_from"] == [{"checkpoint": "a.keras", "weight": 1.0}]
