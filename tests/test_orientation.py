"""Body-orientation groups (repose_tf.metrics.orientation), scoring a run per group, and the
split helpers the report tools share (repose_tf.evaluate: parse_splits, load_splits, split_title)."""

from __future__ import annotations

import numpy as np
import pytest

from repose_tf.keypoints import LSP14
from repose_tf.metrics import ORIENTATION_GROUPS, orientation_groups, torso_angles

J = LSP14.index


def _pose(neck=None, hips=(), shoulders=(), head=None, junk=(500.0, 500.0)):
    """One LSP-14 pose: the given joints annotated, every other joint unannotated at ``junk``
    (a far-away point, so a rule that read an unannotated joint would change the group)."""
    kp = np.tile(np.asarray(junk, np.float64), (14, 1))
    mask = np.zeros(14, bool)
    for name, xy in [("neck", neck), ("head_top", head), *hips, *shoulders]:
        if xy is not None:
            kp[J(name)] = xy
            mask[J(name)] = True
    return kp, mask


def _groups(*poses):
    kp, mask = zip(*poses, strict=True)
    return list(orientation_groups(np.stack(kp), np.stack(mask))), torso_angles(np.stack(kp), np.stack(mask))


HIPS = (("r_hip", (40.0, 100.0)), ("l_hip", (60.0, 100.0)))  # mid-hip (50, 100)


def test_groups_from_the_hip_to_neck_direction_against_image_up():
    groups, angles = _groups(
        _pose(neck=(50, 20), hips=HIPS),  # straight up (y down): 0 deg
        _pose(neck=(90, 60), hips=HIPS),  # exactly 45 deg: still upright
        _pose(neck=(130, 100), hips=HIPS),  # lying: 90 deg
        _pose(neck=(10, 140), hips=HIPS),  # exactly 135 deg: still sideways
        _pose(neck=(50, 180), hips=HIPS),  # head down: 180 deg
        _pose(neck=(60, 190), hips=HIPS),  # ~174 deg
    )
    assert groups == ["upright", "upright", "sideways", "sideways", "upside_down", "upside_down"]
    np.testing.assert_allclose(angles[:5], [0, 45, 90, 135, 180])
    # mirrored poses (left/right in the image) fall in the same groups
    mirrored, _ = _groups(_pose(neck=(10, 60), hips=HIPS), _pose(neck=(-30, 100), hips=HIPS))
    assert mirrored == ["upright", "sideways"]


def test_missing_joints_fall_back_and_no_direction_is_unknown():
    groups, angles = _groups(
        # one hip: that hip is the lower end (the unannotated l_hip at (500, 500) is ignored)
        _pose(neck=(50, 20), hips=(("r_hip", (50.0, 100.0)),)),
        # no neck: mid-shoulder is the upper end
        _pose(shoulders=(("r_shoulder", (30.0, 30.0)), ("l_shoulder", (70.0, 30.0))), hips=HIPS),
        # no neck, no shoulder: head top
        _pose(head=(130, 100), hips=HIPS),
        # no hip at all: unknown, counted, not dropped
        _pose(neck=(50, 20), shoulders=(("r_shoulder", (30.0, 30.0)),)),
        # nothing above the hips: unknown
        _pose(hips=HIPS),
        # neck on the mid-hip: no direction
        _pose(neck=(50, 100), hips=HIPS),
    )
    assert groups == ["upright", "upright", "sideways", "unknown", "unknown", "unknown"]
    assert np.isnan(angles[3:]).all()
    # the neck wins over the shoulders when annotated (here the shoulders alone would say upside down)
    g, _ = _groups(_pose(neck=(50, 20), shoulders=(("r_shoulder", (50.0, 180.0)),), hips=HIPS))
    assert g == ["upright"]
    # a NaN coordinate counts as not annotated
    kp, mask = _pose(neck=(50, 20), hips=HIPS)
    kp[J("neck")] = np.nan
    kp[J("head_top")], mask[J("head_top")] = (50, 180), True
    assert list(orientation_groups(kp[None], mask[None])) == ["upside_down"]


def test_orientation_refuses_the_wrong_shape():
    with pytest.raises(ValueError, match=r"expected gt \(N, 14, 2\) and mask \(N, 14\) for lsp14"):
        orientation_groups(np.zeros((2, 16, 2)), np.ones((2, 16), bool))


def _prediction_set(data_dir, split: str, n: int, seed: int = 0):
    """A run on the real ground truth without a model: predictions = ground truth + noise."""
    from repose_tf.data import get_dataset
    from repose_tf.evaluate import PredictionSet

    ds = get_dataset("lspet", data_dir / "lspet", split, "lsp14")
    samples = [ds.sample(i) for i in range(n)]
    gt = np.stack([s.keypoints for s in samples])
    noise = np.random.default_rng(seed).normal(0, 15, gt.shape)
    return PredictionSet(
        (gt + noise).astype(np.float32),
        np.ones(gt.shape[:2], np.float32),
        gt,
        np.stack([s.mask for s in samples]),
        np.stack([s.visible for s in samples]),
        [s.id for s in samples],
        "lsp14",
        float(n),
    )


def test_score_by_orientation_splits_a_run_and_adds_up(data_dir):
    """On real LSPET ground truth: every group is returned, the groups' scored images and joints
    add up to the whole run's, and so do their hits (the groups partition the run)."""
    from repose_tf.evaluate import score
    from repose_tf.metrics import LSP_LIMB_JOINTS, score_by_orientation

    ps = _prediction_set(data_dir, "report", 60)
    whole = score(ps, "lspet", joints=LSP_LIMB_JOINTS)
    by = score_by_orientation(ps, "lspet")
    assert tuple(by) == ORIENTATION_GROUPS
    assert sum(r.num_images for r in by.values()) == whole.num_images > 0
    assert sum(r.num_images + r.num_skipped_images for r in by.values()) == len(ps.ids)
    assert sum(r.num_joints for r in by.values()) == whole.num_joints
    hits = sum(r.mean * r.num_joints / 100 for r in by.values() if r.num_joints)
    assert hits == pytest.approx(whole.mean * whole.num_joints / 100)
    assert by["upright"].num_images > 0 and by["sideways"].num_images + by["upside_down"].num_images > 0
    # the groups come from the ground truth: the same for any prediction
    other = score_by_orientation(_prediction_set(data_dir, "report", 60, seed=1), "lspet")
    assert {g: r.num_images for g, r in other.items()} == {g: r.num_images for g, r in by.items()}
    # an empty group is reported with a NaN mean, not dropped
    empty = score_by_orientation(ps.subset(np.flatnonzero(orientation_groups(ps.gt, ps.mask) == "upright")))
    assert empty["sideways"].num_images == 0 and np.isnan(empty["sideways"].mean)


def test_prediction_set_subset_takes_a_mask_or_indices(data_dir):
    ps = _prediction_set(data_dir, "select", 10)
    keep = np.zeros(10, bool)
    keep[[1, 4, 7]] = True
    a, b = ps.subset(keep), ps.subset([1, 4, 7])
    assert a.ids == b.ids == [ps.ids[i] for i in (1, 4, 7)]
    np.testing.assert_array_equal(a.gt, ps.gt[[1, 4, 7]])
    np.testing.assert_array_equal(a.pred, b.pred)
    assert a.seconds == pytest.approx(3.0)
    with pytest.raises(ValueError, match=r"bool mask of shape \(10,\)"):
        ps.subset(np.ones(9, bool))
    with pytest.raises(ValueError, match="in 0..9"):
        ps.subset([10])


def test_parse_splits_and_titles(data_dir):
    from repose_tf.evaluate import load_splits, parse_splits, split_title

    assert parse_splits("select,report") == ["select", "report"]
    assert parse_splits(" report , select ") == ["report", "select"]
    assert parse_splits("val") == ["val"]
    bad_specs = [("", "empty split name"), ("select,", "empty split name"), ("val,val", "more than once")]
    for bad, msg in bad_specs:
        with pytest.raises(ValueError, match=msg):
            parse_splits(bad)
    select = split_title("lspet", "select")
    assert "odd images 8001-8999" in select and "choosing" in select
    assert "even images 8002-9000" in split_title("lspet", "report")
    assert "published figures" in split_title("lspet", "report")
    assert "select + report" in split_title("lspet", "val")
    parts = load_splits("lspet", data_dir / "lspet", ["select", "report"])
    assert list(parts) == ["select", "report"]
    ids = {s: {parts[s].sample(i).id for i in range(len(parts[s]))} for s in parts}
    assert not ids["select"] & ids["report"]  # disjoint halves
    with pytest.raises(ValueError, match="unknown split 'bogus'"):
        load_splits("lspet", data_dir / "lspet", ["select", "bogus"])
