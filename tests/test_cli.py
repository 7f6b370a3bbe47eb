"""evaluate / predict CLIs on real data with a real model file: the suite's small trained model
(conftest.py ``tiny_model``). Each CLI run is a real process (absl flags are process-global)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def _run(module, *args, check=True):
    res = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=600, env=ENV
    )
    if check:
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    return res


def test_evaluate_cli_writes_table_json_and_plot(tiny_model, data_dir, tmp_path):
    out = tmp_path / "eval.json"
    res = _run(
        "repose_tf.evaluate", f"--model={tiny_model}", "--dataset=lspet", f"--data_dir={data_dir / 'lspet'}",
        "--split=val", "--limit=24", "--flip_test", f"--output_json={out}",
    )  # fmt: skip
    assert "| Head | Shoulder | Elbow | Wrist | Hip | Knee | Ankle | Mean |" in res.stdout
    rep = json.loads(out.read_text())
    assert rep["metric"] == "PCK@0.2" and rep["num_images"] <= 24
    assert set(rep["per_group"]) >= {"Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Mean"}
    assert 0.0 <= rep["mean"] <= 100.0 and rep["num_joints"] > 0
    assert len(rep["curve"]["thresholds"]) == len(rep["curve"]["mean"]) == 51
    assert "PCK@0.1" in rep["results"] and "PCK@0.2 (12 limb joints)" in rep["results"]
    assert out.with_suffix(".png").stat().st_size > 1000


def test_evaluate_matches_in_memory_path(tiny_model, data_dir):
    """The CLI's numbers come from the same code path as the library (file vs in-memory model)."""
    import keras

    from repose_tf.evaluate import evaluate_predictor

    a = evaluate_predictor(str(tiny_model), "lspet", data_dir / "lspet", "val", limit=16)
    b = evaluate_predictor(keras.saving.load_model(tiny_model), "lspet", data_dir / "lspet", "val", limit=16)
    np.testing.assert_allclose(a.per_joint, b.per_joint)
    assert a.num_images == b.num_images == 16 - a.num_skipped_images


def test_evaluate_mpii_pckh(tiny_model, data_dir, tmp_path):
    # an LSP-14 model on MPII: joints it lacks (pelvis, thorax) count as misses, PCKh table still prints
    _run(
        "repose_tf.evaluate", f"--model={tiny_model}", "--dataset=mpii",
        f"--data_dir={data_dir / 'mpii_sample'}",
        "--split=test", f"--output_json={tmp_path / 'm.json'}",
    )  # fmt: skip
    rep = json.loads((tmp_path / "m.json").read_text())
    assert rep["metric"].startswith("PCKh@0.5")
    assert rep["num_images"] == 5


def test_evaluate_bad_input(tmp_path, data_dir):
    res = _run("repose_tf.evaluate", f"--model={tmp_path / 'missing.keras'}", "--dataset=lspet",
               f"--data_dir={data_dir / 'lspet'}", check=False)  # fmt: skip
    assert res.returncode == 2 and "missing.keras" in res.stderr and "Traceback" not in res.stderr
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    res = _run("repose_tf.evaluate", f"--model={bad}", "--dataset=lspet", f"--data_dir={data_dir / 'lspet'}",
               check=False)  # fmt: skip
    assert res.returncode == 2 and "bad.keras" in res.stderr and "Traceback" not in res.stderr


def test_predict_image_dir_and_video(tiny_model, data_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    img = cv2.imread(str(data_dir / "images" / "squat.bmp"))
    cv2.imwrite(str(src / "squat.png"), img)
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    vid = cv2.VideoWriter(
        str(src / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 5, (img.shape[1], img.shape[0])
    )
    for _ in range(3):
        vid.write(img)
    vid.release()
    out = tmp_path / "out"
    res = _run("repose_tf.predict", f"--model={tiny_model}", f"--input={src}", f"--output_dir={out}",
               "--min_score=-1e9")  # fmt: skip
    overlay = cv2.imread(str(out / "squat_pose.png"))
    assert overlay.shape == img.shape and np.abs(overlay.astype(int) - img.astype(int)).sum() > 0
    pred = json.loads((out / "keypoints.json").read_text())
    assert pred["keypoint_set"] == "lsp14"
    recs = pred["predictions"]
    assert [r["file"] for r in recs].count("clip.avi") == 3 and (out / "clip_pose.mp4").exists()
    kp = next(r for r in recs if r["file"] == "squat.png")["keypoints"]
    assert len(kp) == 14 and set(kp["l_wrist"]) == {"x", "y", "score"}
    assert "broken.jpg" in res.stderr and "skipped 1" in res.stderr
    # a person box changes the crop and so the coordinates
    out2 = tmp_path / "out2"
    _run("repose_tf.predict", f"--model={tiny_model}", f"--input={src / 'squat.png'}", f"--output_dir={out2}",
         "--box=10,10,100,200")  # fmt: skip
    kp2 = json.loads((out2 / "keypoints.json").read_text())["predictions"][0]["keypoints"]
    assert kp2["l_wrist"] != kp["l_wrist"]


def test_predict_bad_input(tiny_model, tmp_path):
    res = _run("repose_tf.predict", f"--model={tiny_model}", f"--input={tmp_path / 'nope.jpg'}", check=False)
    assert res.returncode == 2 and "nope.jpg" in res.stderr and "Traceback" not in res.stderr
    res = _run("repose_tf.predict", f"--model={tiny_model}", f"--input={tmp_path}", "--box=1,2", check=False)
    assert res.returncode == 2 and "--box" in res.stderr
