"""Dataset readers on the real data in ../shared: counts, coordinates, crops, registry, mixing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io

from repose_tf.data import (
    BOX_SCALE,
    MixedDataset,
    SyntheticPoses,
    get_dataset,
    get_mixture,
    read_coco,
    read_lsp,
    read_lspet,
    read_mpii,
)
from repose_tf.keypoints import LSP14, MPII16, get_keypoint_set


@pytest.fixture(scope="module")
def lspet_joints(data_dir):
    return scipy.io.loadmat(data_dir / "lspet" / "joints.mat")["joints"]


@pytest.fixture(scope="module")
def lspet_train(data_dir):
    return read_lspet(data_dir / "lspet", "train")


def test_lspet_counts(data_dir, lspet_train):
    val = read_lspet(data_dir / "lspet", "val")
    # every LSPET image has at least one visible joint, so nothing is skipped
    assert len(lspet_train) == 8000 and lspet_train.report.count() == 0
    assert len(val) == 1000 and val.report.count() == 0
    assert lspet_train[0].id == "lspet/00001" and val[0].id == "lspet/08001"
    assert val[-1].image_path.endswith("im09000.jpg")
    assert len(read_lspet(data_dir / "lspet", "all")) == 9000


def test_lspet_known_joints(lspet_train, lspet_joints, data_dir):
    val = read_lspet(data_dir / "lspet", "val")
    for ds, num in [(lspet_train, 1), (lspet_train, 4321), (val, 8001), (val, 9000)]:
        s = ds[num - 1 - (8000 if ds is val else 0)]
        j = lspet_joints[:, :, num - 1]  # (14, 3) x, y, visible, 0-based pixel coords
        vis = j[:, 2] > 0.5
        np.testing.assert_array_equal(s.mask, vis)
        np.testing.assert_allclose(s.keypoints[vis], j[vis, :2], atol=1e-4)
    # image 1: the right ankle lies outside the image (y < 0) and is not visible -> unannotated
    s = lspet_train[0]
    assert lspet_joints[0, 1, 0] < 0 and not s.mask[LSP14.index("r_ankle")]
    assert s.mask[LSP14.index("l_wrist")]


def test_lspet_crop_box(lspet_train):
    s = lspet_train[10]
    pts = s.keypoints[s.mask]
    lo, hi = pts.min(0), pts.max(0)
    np.testing.assert_allclose(s.center, (lo + hi) / 2, atol=1e-3)
    assert s.box_size == pytest.approx(BOX_SCALE * (hi - lo).max(), rel=1e-5)


def test_lspet_into_other_sets(data_dir):
    ds = read_lspet(data_dir / "lspet", "val", keypoint_set="mpii16")
    s = ds[0]
    assert s.keypoints.shape == (16, 2) and s.keypoint_set == "mpii16"
    assert not s.mask[MPII16.index("pelvis")] and not s.mask[MPII16.index("thorax")]
    ref = read_lspet(data_dir / "lspet", "val")[0]
    np.testing.assert_allclose(s.keypoints[MPII16.index("upper_neck")], ref.keypoints[LSP14.index("neck")])


def test_mpii_sample(data_dir):
    ds = read_mpii(data_dir / "mpii_sample", "test")
    entries = json.loads((data_dir / "mpii_sample" / "test_mpii.json").read_text())
    assert len(ds) == len(entries) == 5
    for s, e in zip(ds.samples, entries, strict=True):
        j, v = np.asarray(e["joints"]), np.asarray(e["joints_vis"]) > 0
        mpii = get_keypoint_set("mpii16")
        for name in ("r_ankle", "l_wrist", "head_top"):
            k = mpii.index(name)
            if v[k]:
                np.testing.assert_allclose(s.keypoints[LSP14.index(name)], j[k] - 1, atol=1e-4)
        neck = mpii.index("upper_neck")
        np.testing.assert_allclose(s.keypoints[LSP14.index("neck")], j[neck] - 1, atol=1e-4)
        # HRNet crop convention: center 1-based -> 0-based, y += 15 * scale, side = 200 * 1.25 * scale
        c, sc = np.asarray(e["center"], float), e["scale"]
        np.testing.assert_allclose(s.center, [c[0] - 1, c[1] - 1 + 15 * sc], atol=1e-3)
        assert s.box_size == pytest.approx(250 * sc, rel=1e-6)


def test_coco_counts_and_keypoints(data_dir):
    root = data_dir / "coco_mini"
    for split in ("train", "val"):
        d = json.loads((root / "annotations" / f"person_keypoints_{split}2017.json").read_text())
        ds = read_coco(root, split)
        coco = get_keypoint_set("coco17")
        limb = [coco.index(n) for n in LSP14.names if n in coco.names]
        expect = [
            a
            for a in d["annotations"]
            if not a["iscrowd"]
            and a["num_keypoints"] > 0
            and (np.reshape(a["keypoints"], (17, 3))[limb, 2] > 0).any()
        ]
        assert len(ds) == len(expect)
        # every annotation is either a sample or counted in the report
        assert len(ds) + ds.report.count() == len(d["annotations"])
        a, s = expect[0], ds[0]
        k = np.reshape(a["keypoints"], (17, 3)).astype(float)
        for name in ("l_shoulder", "r_knee"):
            ci = coco.index(name)
            assert s.mask[LSP14.index(name)] == (k[ci, 2] > 0)
            if k[ci, 2] > 0:
                np.testing.assert_allclose(s.keypoints[LSP14.index(name)], k[ci, :2])
        assert not s.mask[LSP14.index("neck")] and not s.mask[LSP14.index("head_top")]
        x, y, w, h = a["bbox"]
        assert s.box_size == pytest.approx(max(BOX_SCALE * max(w, h), 32.0), rel=1e-5)


def test_lsp_original_layout(tmp_path, data_dir):
    """LSP layout (3 x 14 x 2000, occlusion flag) on a fabricated joints.mat; two real test images."""
    import shutil

    rng = np.random.default_rng(0)
    joints = np.zeros((3, 14, 2000))
    joints[0] = rng.uniform(10, 100, (14, 2000))
    joints[1] = rng.uniform(10, 90, (14, 2000))
    joints[2] = rng.random((14, 2000)) < 0.2  # occluded
    scipy.io.savemat(tmp_path / "joints.mat", {"joints": joints})
    (tmp_path / "images").mkdir()
    for num, src in [(1001, "im00001.jpg"), (1002, "im00002.jpg")]:
        shutil.copy(data_dir / "lspet" / "images" / src, tmp_path / "images" / f"im{num:04d}.jpg")
    train = read_lsp(tmp_path, "train")
    assert len(train) == 1000 and train.report.count() == 0
    s = train[5]
    np.testing.assert_allclose(s.keypoints, joints[:2, :, 5].T, atol=1e-4)
    assert s.mask.all()  # LSP annotates every joint
    np.testing.assert_array_equal(s.visible, joints[2, :, 5] < 0.5)
    test = read_lsp(tmp_path, "test")
    # 998 test images are absent here: skipped and counted, never silently dropped
    assert len(test) == 2 and test.report.count("unreadable image") == 998
    t0 = test[0]
    assert t0.image_size == (105, 157)  # im00001.jpg: H 105, W 157
    hh, ww = t0.image_size
    np.testing.assert_allclose(t0.center, [(ww - 1) / 2, (hh - 1) / 2])
    assert t0.box_size == max(hh, ww)


def test_registry_and_mixture(data_dir):
    ds = get_dataset("lspet", data_dir / "lspet", "val")
    assert len(ds) == 1000
    with pytest.raises(ValueError, match="unknown dataset"):
        get_dataset("nope", data_dir)
    syn = get_dataset("synthetic", split="val", num_samples=50)
    assert isinstance(syn, SyntheticPoses) and len(syn) == 50
    mix = MixedDataset([ds, syn], weights=[1, 3], length=400, seed=0)
    assert len(mix) == 400 and list(mix.counts) == [100, 300]
    seen = {mix.locate(i)[0].name for i in range(400)}
    assert seen == {"lspet", "synthetic"}
    # a subsampled dataset walks on over epochs, a cycled one repeats its samples
    a = {mix.locate(i, 0)[1] for i in range(100)}
    b = {mix.locate(i, 1)[1] for i in range(100)}
    assert len(a) == 100 and not (a & b)
    assert {mix.locate(i)[1] for i in range(100, 400)} == set(range(50))
    m2 = get_mixture([("lspet", data_dir / "lspet", "val", 1.0), ("synthetic", None, "val", 1.0)], length=10)
    assert len(m2) == 10
    with pytest.raises(ValueError, match="keypoint sets"):
        MixedDataset([ds, get_dataset("synthetic", split="val", keypoint_set="coco17", num_samples=5)])
