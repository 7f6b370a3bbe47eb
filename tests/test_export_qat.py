"""QAT (tensorflow-model-optimization on tf_keras) on the small trained model: mirror, fine-tune, int8."""

from __future__ import annotations

import importlib.util
import re
from types import SimpleNamespace

import numpy as np
import pytest
import test_export_helpers as H

from repose_tf import codec

# find_spec, not import: importing tfmot sets TF_USE_LEGACY_KERAS=1 in this process (and every
# subprocess started after it), which must not leak into the rest of the test session.
_MISSING = [m for m in ("tf_keras", "tensorflow_model_optimization") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(_MISSING), reason=f"QAT needs requirements-qat.txt ({_MISSING})")


def test_qat_runs_in_a_legacy_subprocess_from_here():
    """This pytest process uses Keras 3 as tf.keras, so run_qat must not run tfmot in-process."""
    import os

    from repose_tf.export.qat import legacy_keras_ready

    assert os.environ.get("TF_USE_LEGACY_KERAS") != "1"
    assert not legacy_keras_ready()


#: What run_qat measures and the export CLI prints under its summary ("  name: value").
QAT_FIGURES = ("mirror_max_abs_diff", "qat_steps", "qat_last_loss", "tflite_vs_fake_quant_max_abs_diff")


@pytest.fixture(scope="module")
def qat_cli(tiny_model, shared_dir, tmp_path_factory) -> SimpleNamespace:
    """One QAT run (4 steps, 8 calibration crops, uint8 I/O) through the export CLI's qat mode,
    which runs run_qat in a legacy tf_keras subprocess: the two tests below judge the same run
    (about four minutes each on a 2-core machine). ``figures``: run_qat's measurements, read
    from the printed summary."""
    from inprocess import REPO, run_tool

    out = tmp_path_factory.mktemp("qat") / "tiny_qat.tflite"
    r = run_tool(
        "export_tflite.py", "--model", tiny_model, "--quantize", "qat", "--steps", 4, "--batch_size", 4,
        "--num_calibration", 8, "--io", "uint8", "--data_dir", H.lspet_dir(shared_dir), "--output", out,
        "--no_verify", cwd=REPO,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    found = re.findall(rf"^  ({'|'.join(QAT_FIGURES)}): (\S+)$", r.stdout, re.M)
    return SimpleNamespace(out=out, stdout=r.stdout, figures={k: float(v) for k, v in found})


@pytest.mark.slow
def test_qat_tiny_model_to_int8(qat_cli, tiny_model, shared_dir):
    from repose_tf.export.sidecar import read_sidecar
    from repose_tf.export.tflite import inspect_tflite
    from repose_tf.runtime import Predictor

    model, out, figures = tiny_model, qat_cli.out, qat_cli.figures  # the suite's small trained model
    assert set(figures) == set(QAT_FIGURES), qat_cli.stdout[-2000:]
    # the tf_keras mirror (same layer names, every weight matched) reproduces Keras 3
    assert figures["mirror_max_abs_diff"] < 1e-4
    assert figures["qat_steps"] == 4 and np.isfinite(figures["qat_last_loss"])
    # the converted model keeps the fake-quant ranges (TFLite ~ the QAT Keras model)
    assert figures["tflite_vs_fake_quant_max_abs_diff"] < 0.15
    ops = inspect_tflite(out)
    assert ops.builtin_only and ops.float_ops == 0 and "CONV_2D" in ops.histogram
    sc = read_sidecar(out)
    assert sc["quantize"] == "int8" and sc["input"]["dtype"] == "uint8"
    crops = H.check_crops(shared_dir)
    keras_hm = Predictor.load(model).heatmaps(crops["image"])
    q = Predictor.load(out)
    hm = q.heatmaps(crops["image"])
    # Judged in output quantisation steps, not max |diff| (see INT8_STEPS): the worst pixel is a
    # clipped peak of a memorised crop, and it grows with how hard the fixture was fitted.
    err, limit = H.int8_error_steps(hm, keras_hm, q.output_quant, q.output_dtype), H.INT8_STEPS["qat"]
    assert err["judged"] >= H.INT8_MIN_JUDGED and all(err[k] <= v for k, v in limit.items()), (
        f"QAT: {err} output steps (limits {limit})"
    )
    # keypoints on the maps int8 can represent: a clipped peak is a plateau whose argmax is arbitrary
    # (measured median 0.71-0.75 px there vs 1.12-1.95 px over all maps; a 2 px shift gives 2.2)
    d = np.linalg.norm(codec.decode(hm)[0] - codec.decode(keras_hm)[0], axis=-1)
    assert np.median(d[H.representable_maps(keras_hm, q.output_quant, q.output_dtype)]) <= 1.5


def test_qat_errors_are_clear(tmp_path, shared_dir):
    from repose_tf.export.qat import QATError, run_qat

    with pytest.raises(QATError, match="not found"):
        run_qat(tmp_path / "missing.keras", tmp_path / "q.tflite", data_dir=H.lspet_dir(shared_dir))
    (tmp_path / "m.keras").write_bytes(b"x")
    with pytest.raises(QATError, match="data_dir not found"):
        run_qat(tmp_path / "m.keras", tmp_path / "q.tflite", data_dir=tmp_path / "nodata")
    assert not (tmp_path / "q.tflite").exists()


def test_qat_is_a_mode_of_the_export_cli(tmp_path):
    """``--quantize qat`` of tools/export_tflite.py (= repose-export): refusals before any QAT work."""
    from inprocess import REPO, run_tool

    r = run_tool("export_tflite.py", "--quantize", "qat", "--model", tmp_path / "nope.keras", cwd=REPO)
    assert r.returncode == 2 and "error: model file not found" in r.stderr and "Traceback" not in r.stderr
    r = run_tool("export_tflite.py", "--help", cwd=REPO)
    assert r.returncode == 0 and "qat" in r.stdout and "--steps" in r.stdout and "--data_dir" in r.stdout
    assert not list(tmp_path.glob("*.tflite"))


@pytest.mark.slow
def test_export_cli_qat_mode_writes_int8_with_sidecar(qat_cli):
    """The CLI's qat mode runs run_qat (a legacy tf_keras subprocess from this Keras 3 process)."""
    from repose_tf.export.sidecar import read_sidecar

    assert "quantize=int8 (QAT)" in qat_cli.stdout and qat_cli.out.is_file()
    assert read_sidecar(qat_cli.out)["quantize"] == "int8"
