"""Peer comparison: MoveNet through LiteRT on the project's crops, and tools/compare_peers.py."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest
from inprocess import run_tool


@pytest.fixture(scope="module")
def movenet(shared_dir):
    path = shared_dir / "peers" / "movenet_single_pose_lightning_ptq.tflite"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path


def test_movenet_predictor_matches_its_reference_output(movenet, data_dir):
    """On squat.bmp (padded to a square, resized to 192) the wrapper returns MoveNet's own answer:
    [y, x, score] read in the right order and mapped to crop pixels."""
    from repose_tf.peers import MoveNetPredictor

    pred = MoveNetPredictor(movenet, num_threads=1)
    assert pred.input_size == 192 and pred.keypoint_set.name == "coco17"
    img = cv2.cvtColor(cv2.imread(str(data_dir / "images" / "squat.bmp")), cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    side = max(h, w)
    square = np.zeros((side, side, 3), np.uint8)
    square[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = img
    x = cv2.resize(square, (192, 192), interpolation=cv2.INTER_AREA).astype("float32")
    rows = list(csv.DictReader((movenet.parent / f"{movenet.stem}_reference.csv").open()))
    ref_xy = np.array([[float(r["keypoint_x"]), float(r["keypoint_y"])] for r in rows]) * 192 - 0.5
    xy, scores = pred.predict(x[None])
    assert xy.shape == (1, 17, 2) and scores.shape == (1, 17)
    err = np.linalg.norm(xy[0] - ref_xy, axis=-1)
    # the reference was made with a resize we cannot reproduce bit for bit: within a few pixels
    assert np.median(err) < 4.0, err
    swapped = np.linalg.norm(xy[0][:, ::-1] - ref_xy, axis=-1)
    assert np.median(swapped) > 4 * np.median(err)
    with pytest.raises(ValueError, match="expects"):
        pred.predict(np.zeros((1, 128, 128, 3), "float32"))


def test_peer_has_no_flip_test(movenet, data_dir):
    from repose_tf.data import get_dataset
    from repose_tf.evaluate import predict_dataset
    from repose_tf.peers import MoveNetPredictor

    ds = get_dataset("lspet", data_dir / "lspet", "val", "lsp14")
    with pytest.raises(ValueError, match="flip test needs heatmaps"):
        predict_dataset(MoveNetPredictor(movenet), ds, flip_test=True, limit=2, progress=False)


def test_compare_peers_cli(tmp_path, movenet, data_dir):
    """Both models on the same 8 crops of each validation part (select and report, each on its
    own): MoveNet (a trained peer) scores far above chance on the 12 limb joints, so crop,
    COCO->LSP mapping and coordinates are right; an untrained RePose scores near zero; every part
    has its orientation groups, which add up to its scored images; overlays, JSON and the doc
    section are written."""
    from repose_tf import RePose

    model = tmp_path / "tiny.keras"
    RePose.from_preset("repose_tiny", inference=True, load_weights=False).save(model)
    doc = tmp_path / "results.md"
    doc.write_text("# Results\n\nkept text\n")
    args = [
        "--model", str(model), "--peer", str(movenet),
        "--data_dir", str(data_dir / "lspet"), "--limit", "8", "--latency_runs", "3", "--no_progress",
        "--overlay_dir", str(tmp_path / "ov"), "--overlays", "2", "--output_json", str(tmp_path / "c.json"),
        "--doc", str(doc),
    ]  # fmt: skip
    for _ in range(2):  # the second run replaces the doc section instead of appending
        res = run_tool("compare_peers.py", *args, cwd=tmp_path)  # in this process (tests/inprocess.py)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    out = json.loads((tmp_path / "c.json").read_text())
    assert out["splits"] == ["select", "report"] and list(out["parts"]) == ["select", "report"]
    titles = {}
    for split, part in out["parts"].items():
        repose, peer = part["rows"]
        assert (repose["role"], peer["role"]) == ("RePose", "peer")
        assert repose["num_images"] == peer["num_images"] > 0 and repose["num_joints"] == peer["num_joints"]
        assert repose["num_images"] + repose["num_skipped_images"] == 8  # --limit is per part
        assert peer["input"] == 192 and repose["input"] == 128
        assert peer["pck02_limbs"] > 30.0, (split, peer)
        assert repose["pck02_limbs"] < peer["pck02_limbs"]
        assert set(peer["per_group"]) >= {"Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Mean"}
        counts = part["orientation_counts"]
        assert set(counts) == {"upright", "sideways", "upside_down", "unknown"}
        assert sum(counts.values()) == repose["num_images"]
        for r in part["rows"]:
            groups = r["orientation"]
            assert {g: v["num_images"] for g, v in groups.items()} == counts
            assert sum(v["num_joints"] for v in groups.values()) == r["num_joints"]
            hits = sum(v["mean"] * v["num_joints"] / 100 for v in groups.values() if v["num_joints"])
            assert hits == pytest.approx(r["pck02_limbs"] * r["num_joints"] / 100)
        titles[split] = part["title"]
    assert "published figures" in titles["report"] and "choosing" in titles["select"]
    assert all(r["latency_ms"] > 0 for p in out["parts"].values() for r in p["rows"])
    assert len(list((tmp_path / "ov").glob("compare_*.png"))) == 4  # --overlays per part
    text = doc.read_text()
    assert text.count("<!-- compare-peers:start -->") == 1 and "kept text" in text
    for stdout_or_doc in (res.stdout, text):
        assert "PCK@0.2 (12 limbs)" in stdout_or_doc
        assert "**LSPET `select` (odd images 8001-8999): the part for choosing" in stdout_or_doc
        assert "**LSPET `report` (even images 8002-9000): the part for published figures" in stdout_or_doc
        c = out["parts"]["report"]["orientation_counts"]
        assert f"upright (n={c['upright']}) | sideways (n={c['sideways']})" in stdout_or_doc


def test_compare_peers_refuses_a_bad_split(movenet):
    """Unknown or empty split names: one line, exit 2, before any model is loaded."""
    for split, msg in [("select,bogus", "unknown split 'bogus'"), ("select,", "empty split name")]:
        res = run_tool("compare_peers.py", "--split", split, "--peer", movenet)
        assert res.returncode == 2, res.stderr[-2000:]
        assert msg in res.stderr and "Traceback" not in res.stderr
        assert res.stderr.strip().splitlines()[-1].startswith("error: ")


def test_compare_peers_missing_model_is_a_clear_error(tmp_path, movenet):
    res = run_tool("compare_peers.py", "--model", tmp_path / "nope.keras")
    assert res.returncode == 2
    assert "nope.keras: model not found" in res.stderr and "Traceback" not in res.stderr
