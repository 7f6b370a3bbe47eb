"""The shared sample transform on real images: crop geometry, inverse mapping, flips, targets, masks."""

from __future__ import annotations

import numpy as np
import pytest

from repose_tf import codec
from repose_tf.data import (
    Augmentation,
    SampleTransform,
    crop_affine,
    forward_map,
    inverse_map,
    load_example,
    prepare_image,
    read_image,
    read_lspet,
    read_mpii,
)
from repose_tf.keypoints import LSP14

S = 128


@pytest.fixture(scope="module")
def lspet(data_dir):
    return read_lspet(data_dir / "lspet", "val")


def _bilinear(img: np.ndarray, x: float, y: float) -> np.ndarray:
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - x0, y - y0
    p = img.astype(np.float64)
    return (
        p[y0, x0] * (1 - fx) * (1 - fy)
        + p[y0, x0 + 1] * fx * (1 - fy)
        + p[y0 + 1, x0] * (1 - fx) * fy
        + p[y0 + 1, x0 + 1] * fx * fy
    )


def test_crop_inverse_map_round_trip(lspet):
    t = SampleTransform(S, train=False)
    for i in (0, 17, 999):
        s = lspet[i]
        img, hw = read_image(s.image_path)
        ex = t(img, s, image_hw=hw)
        m = s.mask & (ex["mask"] > 0)
        back = inverse_map(ex["keypoints"], ex["affine"])
        assert np.abs(back[m] - s.keypoints[m]).max() < 0.5  # float32 round trip, in fact ~1e-4
        # decoding the targets and mapping back lands within a quarter crop pixel
        dec, _ = codec.decode(ex["heatmaps"])
        err = np.linalg.norm(inverse_map(dec, ex["affine"])[m] - s.keypoints[m], axis=1)
        assert err.max() <= 0.25 * np.sqrt(2) * s.box_size / S + 1e-3


def test_crop_pixels_follow_the_affine(lspet):
    """The warped image is the original sampled where the inverse affine says (pixel-centre convention)."""
    s = lspet[3]
    img, hw = read_image(s.image_path)
    t = SampleTransform(S, train=False)
    ex = t(img, s, aug=Augmentation(scale=1.1, rotation=25.0), image_hw=hw)
    rng = np.random.default_rng(0)
    uv = rng.uniform(10, S - 10, size=(300, 2)).round()
    xy = inverse_map(uv, ex["affine"])
    h, w = img.shape[:2]
    diffs = []
    for (u, v), (x, y) in zip(uv.astype(int), xy, strict=True):
        if 0 <= x < w - 1 and 0 <= y < h - 1:
            diffs.append(np.abs(ex["image"][v, u] - _bilinear(img, x, y)).max())
    assert len(diffs) > 100
    assert np.median(diffs) < 1.0 and max(diffs) < 8.0  # OpenCV's fixed-point bilinear weights


def test_reduced_jpeg_decoding_keeps_geometry(data_dir):
    """MPII crops are ~8x smaller than the image: decoding at 1/8 gives the same crop, aligned."""
    ds = read_mpii(data_dir / "mpii_sample", "test")
    s = ds[0]
    t = SampleTransform(S, train=False)
    assert t.reduce_factor(s, Augmentation()) == 8
    full, hw = read_image(s.image_path)
    small, hw2 = read_image(s.image_path, reduce=8)
    assert hw == hw2 == full.shape[:2] and small.shape[0] == -(-hw[0] // 8)
    a = t(full, s, image_hw=hw)["image"]
    b = t(small, s, reduce=8, image_hw=hw)["image"]
    import cv2

    blur = lambda x: cv2.GaussianBlur(x, (0, 0), 1.5)
    d0 = np.abs(blur(a) - blur(b)).mean()
    d1 = np.abs(blur(a)[:, 2:] - blur(b)[:, :-2]).mean()  # a 2-px misalignment would be worse
    assert d0 < 6.0 and d0 < d1


def test_flip_keeps_left_and_right(lspet):
    """After a flip the person's left wrist is labelled left wrist where the mirrored image puts it."""
    t = SampleTransform(S, train=True)
    s = next(x for x in lspet.samples if x.mask.all())
    img, hw = read_image(s.image_path)
    plain = t(img, s, aug=Augmentation(), image_hw=hw)
    flip = t(img, s, aug=Augmentation(flip=True), image_hw=hw)
    # the flipped crop is the mirror image of the plain crop
    assert np.abs(flip["image"] - plain["image"][:, ::-1]).mean() < 0.5
    lw, rw = LSP14.index("l_wrist"), LSP14.index("r_wrist")
    # mirrored, the person's right wrist becomes their left wrist: same pixel content, mirrored x
    expect = np.array([S - 1 - plain["keypoints"][rw, 0], plain["keypoints"][rw, 1]])
    np.testing.assert_allclose(flip["keypoints"][lw], expect, atol=1e-3)
    perm = LSP14.flip_permutation()
    mirrored = plain["keypoints"][perm].copy()
    mirrored[:, 0] = S - 1 - mirrored[:, 0]
    np.testing.assert_allclose(flip["keypoints"], mirrored, atol=1e-3)
    np.testing.assert_array_equal(flip["mask"], plain["mask"][perm])
    # the l_wrist target channel peaks where the keypoint is
    peak = np.unravel_index(np.argmax(flip["heatmaps"][..., lw]), (S, S))
    assert abs(peak[1] - flip["keypoints"][lw, 0]) <= 0.5 and abs(peak[0] - flip["keypoints"][lw, 1]) <= 0.5
    # flip_average of the two target stacks gives back the plain targets
    np.testing.assert_allclose(
        codec.flip_average(plain["heatmaps"], flip["heatmaps"], perm), plain["heatmaps"], atol=1e-5
    )


def test_targets_peak_at_transformed_joints_and_masks(lspet):
    t = SampleTransform(S, train=True)
    hits = 0
    for i in range(40):
        ex = load_example(lspet, t, i, epoch=3, seed=7)
        hm, kp, m = ex["heatmaps"], ex["keypoints"], ex["mask"] > 0
        assert ex["image"].shape == (S, S, 3) and ex["image"].dtype == np.float32
        assert ex["image"].min() >= 0 and ex["image"].max() <= 255
        for k in range(14):
            if m[k]:
                y, x = np.unravel_index(np.argmax(hm[..., k]), (S, S))
                assert abs(x - kp[k, 0]) <= 0.5 and abs(y - kp[k, 1]) <= 0.5
                assert hm[y, x, k] > np.exp(-0.5 / 25)  # within half a pixel of the peak
                assert 0 <= kp[k, 0] <= S - 1 and 0 <= kp[k, 1] <= S - 1
                hits += 1
            else:
                assert not hm[..., k].any()  # unannotated: an all-zero channel, masked
    assert hits > 300
    # sigma scales with the input size: 10 px at 256
    assert SampleTransform(256).sigma == 10.0


def test_unannotated_and_out_of_crop_joints_are_masked(lspet):
    t = SampleTransform(S, train=True)
    s = next(x for x in lspet.samples if 8 <= x.num_annotated < 14)
    img, hw = read_image(s.image_path)
    ex = t(img, s, aug=Augmentation(), image_hw=hw)
    np.testing.assert_array_equal(ex["mask"] > 0, s.mask)
    # zoom in (a crop half the box) so outer joints fall outside the crop
    zoom = t(img, s, aug=Augmentation(scale=0.4), image_hw=hw)
    kp = zoom["keypoints"]
    outside = (kp < 0).any(1) | (kp > S - 1).any(1)
    assert (outside & s.mask).any()
    np.testing.assert_array_equal(zoom["mask"] > 0, s.mask & ~outside)
    assert not zoom["heatmaps"][..., outside].any()


def test_augmentation_is_reproducible_and_in_range(lspet):
    t = SampleTransform(S, train=True)
    a = load_example(lspet, t, 5, epoch=2, seed=1)
    b = load_example(lspet, t, 5, epoch=2, seed=1)
    c = load_example(lspet, t, 5, epoch=3, seed=1)
    for k in ("image", "heatmaps", "mask", "affine"):
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["affine"], c["affine"])
    rng = np.random.default_rng(0)
    draws = [t.draw(rng) for _ in range(500)]
    scales = np.array([d.scale for d in draws])
    rots = np.array([d.rotation for d in draws])
    assert scales.min() >= 0.7 and scales.max() <= 1.3
    assert np.abs(rots).max() <= 60 and np.abs(rots).max() > 50
    assert 0.4 < np.mean([d.flip for d in draws]) < 0.6
    # evaluation transform: identity augmentation, no randomness used
    e = SampleTransform(S, train=False)
    assert e.draw(rng) == Augmentation()


def test_crop_affine_and_prepare_image(data_dir):
    m = crop_affine([50.0, 40.0], 100.0, S)
    # the box corners map to the crop's outer pixel edges
    np.testing.assert_allclose(m @ [0.0, -10.0, 1.0], [-0.5, -0.5], atol=1e-9)
    np.testing.assert_allclose(m @ [100.0, 90.0, 1.0], [S - 0.5, S - 0.5], atol=1e-9)
    img, _ = read_image(data_dir / "images" / "squat.bmp")
    crop, aff = prepare_image(img, S)
    assert crop.shape == (S, S, 3) and crop.dtype == np.float32 and aff.shape == (2, 3)
    h, w = img.shape[:2]
    corners = inverse_map(np.array([[-0.5, -0.5], [S - 0.5, S - 0.5]]), aff)
    side = max(h, w)
    np.testing.assert_allclose(corners[1] - corners[0], [side, side], atol=1e-2)
    # batched: (B, K, 2) points with (B, 2, 3) affines, as evaluation uses it
    affs = np.stack([crop_affine([50.0, 40.0], 100.0, S, rotation=r) for r in (0.0, 30.0, -45.0)])
    pts = np.random.default_rng(0).uniform(0, 100, (3, 14, 2))
    np.testing.assert_allclose(inverse_map(forward_map(pts, affs), affs), pts, atol=1e-3)
