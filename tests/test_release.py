"""Release tooling: packaging a checkpoint (tools/ship_model.py), scoring it with every runtime and
flip test off/on (tools/evaluate_models.py), the learning-curve report (tools/learning_curve.py),
and the release shipped in models/ itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import test_export_helpers as H

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
pytestmark = pytest.mark.slow


def _tool(script, *args, check=True):
    res = subprocess.run(
        [sys.executable, str(REPO / "tools" / script), *map(str, args)],
        capture_output=True, text=True, timeout=900, env=ENV, cwd=REPO,
    )  # fmt: skip
    if check:
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


@pytest.fixture(scope="module")
def release(tmp_path_factory, shared_dir):
    """The fitted tiny fixture packaged the way models/ is (through the CLI)."""
    ckpt = H.trained_tiny(tmp_path_factory, shared_dir)
    out = tmp_path_factory.mktemp("release")
    res = _tool(
        "ship_model.py", "--checkpoint", ckpt, "--output_dir", out, "--name", "tiny", "--num_calibration", 16
    )
    assert "manifest.json" in res.stdout
    return ckpt, out


def test_release_holds_weights_exports_and_a_matching_manifest(release, data_dir):
    import keras

    from repose_tf.compact import float16_share, round_weights
    from repose_tf.export.package import check_manifest
    from repose_tf.export.sidecar import read_sidecar
    from repose_tf.runtime import Predictor

    ckpt, out = release
    manifest = json.loads((out / "manifest.json").read_text())
    # committed: the weights and the int8 model (rebuilding it needs calibration data) ...
    assert set(manifest["files"]) == {"tiny.keras", "tiny_int8.tflite", "tiny_int8.json"}
    # ... derived (git-ignored, remade from tiny.keras without data): the float16 model
    assert set(manifest["derived"]) == {"tiny_float16.tflite", "tiny_float16.json"}
    assert all(f["from"] == "tiny.keras" for f in manifest["derived"].values())
    assert manifest["model"]["preset"] == "repose_tiny" and manifest["calibration"]["num_images"] == 16
    committed = sum(f["bytes"] for f in manifest["files"].values()) / 1e6
    derived = sum(f["bytes"] for f in manifest["derived"].values()) / 1e6
    assert abs(manifest["committed_mb"] - committed) < 0.01
    assert abs(manifest["total_mb"] - committed - derived) < 0.01
    assert check_manifest(out) == []
    for stem in ("tiny_float16", "tiny_int8"):
        sc = read_sidecar(out / f"{stem}.json")  # validates the schema
        assert sc["model"]["preset"] == "repose_tiny"
    # the weights are stored in float16 (half the bytes) and load as float32
    assert float16_share(out / "tiny.keras") > 0.9
    loaded = keras.saving.load_model(out / "tiny.keras", compile=False)
    assert {v.dtype for v in loaded.weights} == {"float32"}
    # the packaged model is the checkpoint rounded to that storage: the same heatmaps as the
    # rounded checkpoint, and within float16 rounding of the checkpoint itself
    crops = H.check_crops(data_dir.parent)["image"][:4]
    original = Predictor.load(ckpt)
    a = original.heatmaps(crops)
    b = Predictor.load(out / "tiny.keras").heatmaps(crops)
    round_weights(original.model)
    np.testing.assert_allclose(original.heatmaps(crops), b, atol=1e-5)
    assert np.abs(a - b).max() < 0.02 * np.abs(a).max()
    # a changed file is caught
    (out / "tiny_int8.json").write_text((out / "tiny_int8.json").read_text() + " ")
    problems = check_manifest(out)
    assert len(problems) == 1 and "tiny_int8.json" in problems[0] and "SHA-256" in problems[0]
    (out / "tiny_int8.json").write_text((out / "tiny_int8.json").read_text()[:-1])
    assert check_manifest(out) == []


def test_a_fresh_clone_regenerates_the_derived_float16_model(release, data_dir, tmp_path):
    """What git carries is the committed files only; --regenerate remakes the same float16 model."""
    import shutil

    from repose_tf.runtime import ModelLoadError, Predictor

    _, out = release
    clone = tmp_path / "models"
    clone.mkdir()
    manifest = json.loads((out / "manifest.json").read_text())
    for name in [*manifest["files"], "manifest.json"]:
        shutil.copy2(out / name, clone / name)
    # a command given the missing file says how to make it, in one line
    with pytest.raises(ModelLoadError, match=r"derived file of the release.*--regenerate"):
        Predictor.load(clone / "tiny_float16.tflite")
    res = _tool("ship_model.py", "--regenerate", "--output_dir", clone)
    assert "made tiny_float16.tflite, tiny_float16.json" in res.stdout
    assert _tool("ship_model.py", "--regenerate", "--output_dir", clone).stdout.strip().endswith("up to date")
    crops = H.check_crops(data_dir.parent)["image"][:4]
    np.testing.assert_allclose(
        Predictor.load(clone / "tiny_float16.tflite").heatmaps(crops),
        Predictor.load(out / "tiny_float16.tflite").heatmaps(crops),
        atol=1e-6,
    )
    # flag combinations that make no sense are refused in one line
    res = _tool("ship_model.py", "--regenerate", "--checkpoint", out / "tiny.keras", check=False)
    assert res.returncode == 2 and "not both" in res.stderr
    res = _tool("ship_model.py", "--regenerate", "--output_dir", tmp_path / "empty", check=False)
    assert res.returncode == 2 and "no manifest.json" in res.stderr and "Traceback" not in res.stderr


def test_release_keras_is_training_form_without_optimizer(tmp_path, shared_dir):
    """Packaging a training checkpoint keeps every supervised head (so --init_weights continues all
    of them) but drops the optimizer state, which roughly halves the file."""
    import keras

    from repose_tf.export.package import release_model
    from repose_tf.losses import PartialMSE
    from repose_tf.model import RePose

    m = RePose.from_preset("repose_tiny", load_weights=False)
    m.compile(optimizer=keras.optimizers.Adam(1e-3), loss={n: PartialMSE() for n in m.output})
    x = np.random.default_rng(0).uniform(0, 255, (2, 128, 128, 3)).astype("float32")
    y = {n: np.zeros((2, 128, 128, 14), "float32") for n in m.output}
    m.train_on_batch(x, y)
    ckpt = tmp_path / "checkpoint.keras"
    m.save(ckpt)
    rel = release_model(ckpt)
    assert not rel.inference and set(rel.output) == set(m.output)
    assert getattr(rel, "optimizer", None) is None
    for a, b in zip(rel.get_weights(), m.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    rel.save(tmp_path / "release.keras")
    assert (tmp_path / "release.keras").stat().st_size < 0.75 * ckpt.stat().st_size


def test_ship_model_refuses_a_release_over_budget_and_a_missing_checkpoint(release, tmp_path):
    ckpt, _ = release
    res = _tool("ship_model.py", "--checkpoint", ckpt, "--output_dir", tmp_path, "--max_mb", 0.5,
                "--num_calibration", 4, check=False)  # fmt: skip
    assert (
        res.returncode == 2 and "over the 0.5 MB budget" in res.stderr and "nothing was written" in res.stderr
    )
    assert [p.name for p in tmp_path.iterdir()] == []  # all or nothing: no partial release, no staging left
    res = _tool("ship_model.py", "--checkpoint", tmp_path / "nope.keras", check=False)
    assert res.returncode == 2 and "nope.keras" in res.stderr and "Traceback" not in res.stderr


def test_flip_pair_equals_two_separate_evaluations(release, data_dir):
    from repose_tf.data import get_dataset
    from repose_tf.evaluate import predict_dataset, predict_dataset_flip_pair

    _, out = release
    ds = get_dataset("lspet", data_dir / "lspet", "val", "lsp14")
    pair = predict_dataset_flip_pair(out / "tiny_float16.tflite", ds, limit=12, batch_size=5, progress=False)
    for flip in (False, True):
        one = predict_dataset(
            out / "tiny_float16.tflite", ds, flip_test=flip, limit=12, batch_size=5, progress=False
        )
        np.testing.assert_allclose(pair[flip].pred, one.pred, atol=1e-4)
        assert pair[flip].ids == one.ids
    assert not np.allclose(pair[False].pred, pair[True].pred)  # the flip test does change predictions
    assert pair[False].seconds < pair[True].seconds


def test_evaluate_models_scores_every_runtime_with_and_without_flip(release, data_dir, tmp_path):
    """Every runtime, flip off and on, on 8 images of each validation part (select and report, each
    on its own), with an orientation table per part whose groups add up to its scored images."""
    _, out = release
    js, doc, png = tmp_path / "r.json", tmp_path / "results.md", tmp_path / "curve.png"
    doc.write_text("# Results\n\nintro kept\n")
    res = _tool(
        "evaluate_models.py", "--model", out / "tiny.keras", "--model", out / "tiny_float16.tflite",
        "--model", out / "tiny_int8.tflite", "--data_dir", data_dir / "lspet", "--limit", 8,
        "--no_progress", "--output_json", js, "--doc", doc, "--plot", png,
    )  # fmt: skip
    rep = json.loads(js.read_text())
    assert rep["splits"] == ["select", "report"] and list(rep["parts"]) == ["select", "report"]
    text = doc.read_text()
    for split, part in rep["parts"].items():
        rows = {(Path(r["model"]).name, r["flip"]): r for r in part["rows"]}
        assert len(rows) == 6
        for r in rows.values():
            assert set(r["results"]) == {
                "PCK@0.2", "PCK@0.1", "PCK@0.2 (12 limb joints)", "PCK@0.1 (12 limb joints)",
            }  # fmt: skip
            assert r["results"]["PCK@0.1"]["mean"] <= r["results"]["PCK@0.2"]["mean"]
            limbs = r["results"]["PCK@0.2 (12 limb joints)"]
            assert limbs["num_images"] + limbs["num_skipped_images"] == 8  # --limit is per part
            groups = r["orientation"]
            assert set(groups) == {"upright", "sideways", "upside_down", "unknown"}
            assert sum(g["num_images"] for g in groups.values()) == limbs["num_images"]
            assert sum(g["num_joints"] for g in groups.values()) == limbs["num_joints"]
            assert {k: g["num_images"] for k, g in groups.items()} == part["orientation_counts"]
        # float16 reproduces the Keras model's figures (same keypoints to well under a pixel)
        for flip in (False, True):
            k = rows[("tiny.keras", flip)]["results"]["PCK@0.2"]["mean"]
            f = rows[("tiny_float16.tflite", flip)]["results"]["PCK@0.2"]["mean"]
            assert abs(k - f) <= 1.0
        c = part["orientation_counts"]
        head = f"| model | runtime | upright (n={c['upright']}) | sideways (n={c['sideways']}) |"
        for shown in (res.stdout, text):
            assert f"Per body orientation, PCK@0.2 (12 limb joints), flip test off, lspet {split}:" in shown
            assert head in shown
    for shown in (res.stdout, text):
        assert "**LSPET `select` (odd images 8001-8999): the part for choosing" in shown
        assert "**LSPET `report` (even images 8002-9000): the part for published figures" in shown
    assert (
        "intro kept" in text and "<!-- model-results:start -->" in text and "tiny_int8.tflite +flip" in text
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| tiny.keras | keras | off |" in res.stdout
    bad = _tool("evaluate_models.py", "--model", tmp_path / "missing.tflite", check=False)
    assert bad.returncode == 2 and "missing.tflite" in bad.stderr and "Traceback" not in bad.stderr


def test_evaluate_models_refuses_a_bad_split(data_dir, tmp_path):
    """Unknown or empty split names and an empty --limit: one line, exit 2, before any inference."""
    model = MODELS / "repose_lsp14_int8.tflite"
    if not model.is_file():
        pytest.skip(f"{model} not found")
    cases = [
        (["--split", "report,bogus"], "unknown split 'bogus'"),
        (["--split", "select,,report"], "empty split name"),
        (["--split", ""], "empty split name"),
        (["--split", "select,select"], "listed more than once"),
        (["--limit", "0"], "expected at least 1 image per split"),
    ]
    for extra, msg in cases:
        bad = _tool(
            "evaluate_models.py", "--model", model, "--data_dir", data_dir / "lspet", *extra, check=False
        )
        assert bad.returncode == 2, (extra, bad.stderr[-2000:])
        assert msg in bad.stderr and "Traceback" not in bad.stderr
        assert bad.stderr.strip().splitlines()[-1].startswith("error: ")


def test_flagged_names_a_model_too_far_below_the_reference():
    sys.path.insert(0, str(REPO / "tools"))
    from evaluate_models import flagged

    from repose_tf.metrics import lsp_pck

    gt = np.random.default_rng(0).uniform(0, 100, (4, 14, 2))
    good, bad = lsp_pck(gt, gt), lsp_pck(gt + 30, gt)
    rows = [
        {"model": "a.keras", "label": "a.keras", "flip": False, "results": {"PCK@0.2": good}},
        {"model": "b.tflite", "label": "b.tflite", "flip": False, "results": {"PCK@0.2": good}},
        {"model": "c.tflite", "label": "c.tflite", "flip": False, "results": {"PCK@0.2": bad}},
    ]
    out = flagged(rows, 1.0)
    assert len(out) == 1 and out[0].startswith("c.tflite") and "below a.keras" in out[0]


def test_learning_curve_plots_and_tabulates_a_run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    hist = [
        {"step": s, "samples_seen": 16 * s, "loss": 0.03 - s * 1e-5, "samples_per_s": 1.5, "wall_s": 300.0,
         "val_metric": "PCK@0.2", "val_mean": s / 10}
        for s in (50, 100, 150)
    ]  # fmt: skip
    (run / "state.json").write_text(json.dumps({"step": 150, "history": hist}))
    png, doc = tmp_path / "lc.png", tmp_path / "d.md"
    res = _tool("learning_curve.py", "--run", run, "--output", png, "--doc", doc, "--target", 56.7)
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 10_000
    assert "| 150 | 2,400 | 0.02850 | 1.50 | 300 | 15.00 |" in res.stdout
    assert "0.25 h of recorded chunk wall time" in res.stdout
    assert "<!-- learning-curve:start -->" in doc.read_text() and "lc.png" in doc.read_text()
    (run / "state.json").write_text(json.dumps({"history": []}))
    bad = _tool("learning_curve.py", "--run", run, check=False)
    assert bad.returncode == 2 and "no checkpoints recorded yet" in bad.stderr


# ------------------------------------------------------------------------------- models/ itself
@pytest.fixture(scope="module")
def shipped(shipped_models):
    return json.loads((shipped_models / "manifest.json").read_text())


def test_shipped_release_is_intact_small_and_documented(shipped):
    from repose_tf.export.package import check_manifest
    from repose_tf.export.sidecar import read_sidecar

    assert check_manifest(MODELS) == []
    assert shipped["total_mb"] < 30
    names = set(shipped["files"]) | set(shipped.get("derived", {}))
    assert {"repose_lsp14.keras", "repose_lsp14_float16.tflite", "repose_lsp14_int8.tflite"} <= names
    assert "repose_lsp14_float16.tflite" in shipped["derived"]  # git-ignored, made on a fresh clone
    for stem in ("repose_lsp14_float16", "repose_lsp14_int8"):
        assert read_sidecar(MODELS / f"{stem}.json")["model"]["preset"] == "repose_lsp14"
    card = (MODELS / "MODEL_CARD.md").read_text()
    for name in names:
        assert name in card, f"model card does not mention {name}"
    assert f"{shipped['training']['samples_seen']:,}" in card  # the card states how far training got


def test_predict_without_model_uses_the_shipped_release(shipped, data_dir, tmp_path):
    import cv2

    res = subprocess.run(
        [sys.executable, "-m", "repose_tf.predict", "--input", str(data_dir / "images" / "squat.bmp"),
         "--output_dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, env=ENV, cwd=REPO,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert "model: keras repose_lsp14.keras" in res.stdout and "(default)" in res.stdout
    overlay = cv2.imread(str(tmp_path / "squat_pose.png"))
    src = cv2.imread(str(data_dir / "images" / "squat.bmp"))
    assert overlay is not None and overlay.shape == src.shape
    assert np.abs(overlay.astype(int) - src.astype(int)).sum() > 0  # the skeleton was drawn
    rec = json.loads((tmp_path / "keypoints.json").read_text())
    assert "repose_lsp14.keras" in rec["model"]
    xy = np.array([[k["x"], k["y"]] for k in rec["predictions"][0]["keypoints"].values()])
    assert xy.shape == (14, 2) and np.isfinite(xy).all()
