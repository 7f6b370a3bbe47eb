"""The embedded synthetic dataset: deterministic, held-out splits, sane figures, fast."""

from __future__ import annotations

import time

import numpy as np

from repose_tf.data import SampleTransform, SyntheticPoses, get_dataset, load_example
from repose_tf.data.synthetic import CANVAS_SIZE
from repose_tf.keypoints import LSP14


def test_deterministic_by_seed_and_index():
    a, b = SyntheticPoses("train"), SyntheticPoses("train")
    for i in (0, 7, 19_999):
        np.testing.assert_array_equal(a.load_image(i)[0], b.load_image(i)[0])
        np.testing.assert_array_equal(a[i].keypoints, b[i].keypoints)
    other = SyntheticPoses("train", seed=1)
    assert not np.array_equal(a[0].keypoints, other[0].keypoints)


def test_splits_are_disjoint():
    tr, va = SyntheticPoses("train"), SyntheticPoses("val")
    assert len(tr) == 20_000 and len(va) == 1_000
    train_kp = {tr[i].keypoints.tobytes() for i in range(300)}
    assert not any(va[i].keypoints.tobytes() in train_kp for i in range(300))
    assert len(SyntheticPoses("test", num_samples=12)) == 12


def test_figures_are_plausible():
    ds = SyntheticPoses("val")
    occluded, sizes = 0, []
    for i in range(200):
        s = ds[i]
        assert s.keypoint_set == "lsp14" and s.mask.all() and s.image_path is None
        kp = s.keypoints
        assert (kp > -5).all() and (kp < CANVAS_SIZE + 5).all()
        occluded += int((~s.visible).sum())
        j = {n: kp[LSP14.index(n)] for n in LSP14.names}
        # segment lengths are consistent with one body (thigh 0.24 vs torso 0.30, up to 35% foreshortened)
        torso = np.linalg.norm(j["neck"] - (j["r_hip"] + j["l_hip"]) / 2)
        sizes.append(torso)
        for a, b in [
            ("r_hip", "r_knee"),
            ("l_knee", "l_ankle"),
            ("r_shoulder", "r_elbow"),
            ("l_elbow", "l_wrist"),
        ]:
            assert np.linalg.norm(j[a] - j[b]) < 1.3 * torso
        assert s.box_size >= 32
    assert occluded > 20  # some joints hidden by occluders (annotated, not visible)
    assert np.std(sizes) > 3  # varied figure sizes


def test_image_content_differs_from_background_at_joints():
    ds = SyntheticPoses("val")
    t = SampleTransform(128, train=False)
    ex = load_example(ds, t, 3)
    assert ex["mask"].sum() == 14 and ex["image"].std() > 10


def test_generation_is_fast_and_registry():
    ds = get_dataset("synthetic", split="train", keypoint_set="coco17", num_samples=100)
    assert ds.keypoint_set.name == "coco17" and len(ds) == 100
    assert not ds[0].mask[0]  # nose: not in LSP-14, unannotated
    t = SampleTransform(128, ds.keypoint_set, train=True)
    t0 = time.perf_counter()
    for i in range(50):
        load_example(ds, t, i)
    per_sample = (time.perf_counter() - t0) / 50
    assert per_sample < 0.05  # ~5 ms here; generous for a loaded CI machine
