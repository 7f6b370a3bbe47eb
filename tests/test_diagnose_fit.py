"""Fit diagnosis (tools/diagnose_fit.py, repose_tf.metrics.diagnostics): left/right swaps and the hip
offset measured on constructed predictions, and the tool on real LSPET images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from inprocess import run_tool

REPO = Path(__file__).resolve().parents[1]


def _ps(pred, gt):
    from repose_tf.evaluate import PredictionSet

    n = len(gt)
    ones = np.ones((n, 14), bool)
    return PredictionSet(pred, np.ones((n, 14)), gt, ones, ones, [f"p{i}" for i in range(n)], "lsp14", 0.0)


def _pose(dx=0.0):
    """An upright LSP-14 pose (x, y pixels) facing the camera, torso about 100 px."""
    xs = [40, 42, 45, 55, 58, 60, 20, 30, 40, 60, 70, 80, 50, 50]
    ys = [200, 160, 120, 120, 160, 200, 110, 80, 40, 40, 80, 110, 30, 5]
    return np.stack([np.array(xs, float) + dx, np.array(ys, float)], -1)


def test_swapped_predictions_are_counted_and_the_oracle_recovers_them():
    from repose_tf.keypoints import get_keypoint_set
    from repose_tf.metrics.diagnostics import lr_signatures

    gt = np.stack([_pose(), _pose(5), _pose(-5), _pose()])
    perm = get_keypoint_set("lsp14").flip_permutation()
    pred = gt.copy()
    pred[0] = gt[0][perm]  # every left/right pair swapped
    pred[1] = gt[1][perm]
    r = lr_signatures(_ps(pred, gt))
    assert r["poses"] == 4
    assert r["swapped_pct"] == pytest.approx(50.0)
    # poses 0 and 1 hit 4 of 12 limb joints as labelled, 12 mirrored: the oracle adds 2 x 8 of 48
    assert r["oracle_gain"] == pytest.approx(100.0 * 16 / 48)
    assert r["hip_width"] == pytest.approx(10 / np.hypot(0, 80), rel=0.2)


def test_hips_pulled_toward_each_other_read_as_inward():
    from repose_tf.metrics.diagnostics import lr_signatures

    gt = np.stack([_pose(), _pose(3)])
    pred = gt.copy()
    pred[:, 2, 0] += 2.0  # right hip (x 45) moves toward the left hip (x 55)
    pred[:, 3, 0] -= 2.0
    r = lr_signatures(_ps(pred, gt))
    torso = np.hypot(40 - 55, 40 - 120)  # r_shoulder to l_hip
    assert r["hip_inward"] == pytest.approx(2.0 / torso, rel=1e-6)
    pred[:, 2, 0] -= 4.0  # now outward
    pred[:, 3, 0] += 4.0
    assert lr_signatures(_ps(pred, gt))["hip_inward"] == pytest.approx(-2.0 / torso, rel=1e-6)
    with pytest.raises(ValueError, match="LSP-14"):
        from repose_tf.evaluate import PredictionSet

        lr_signatures(PredictionSet(pred[:, :4], pred[:, :4, 0], gt[:, :4], pred[:, :4, 0] > 0,
                                    pred[:, :4, 0] > 0, ["a", "b"], "coco17", 0.0))  # fmt: skip


def test_tool_scores_training_images_against_the_selection_split(tiny_model, shared_dir, tmp_path):
    model = tiny_model  # the suite's small trained model (conftest.py)
    out = tmp_path / "diag.json"
    doc = tmp_path / "doc.md"
    doc.write_text("# x\n")
    res = run_tool(  # in this process (tests/inprocess.py)
        "diagnose_fit.py", "--model", model, "--train_images", 6, "--select_limit", 6,
        "--data_dir", shared_dir / "data" / "lspet", "--output_json", out, "--doc", doc, cwd=REPO,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    rows = json.loads(out.read_text())
    assert [r["part"] for r in rows] == ["train (6 of 1-8000, no augmentation)", "select"]
    for r in rows:
        assert sum(n for _, n in r["groups"].values()) == r["images"]
        assert r["oracle_gain"] >= 0.0 and "limbs" in r and "pck14" in r
    assert "L/R swapped poses" in res.stdout and "diagnose-fit:start" in doc.read_text()
    bad = run_tool("diagnose_fit.py", "--model", tmp_path / "none.keras", cwd=REPO)
    assert bad.returncode == 2 and "model not found" in bad.stderr and "Traceback" not in bad.stderr
