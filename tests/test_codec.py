"""Heatmap codec: Gaussian targets, decoding round trip, flip-test averaging."""

from __future__ import annotations

import numpy as np
import pytest

from repose_tf import codec
from repose_tf.keypoints import LSP14


def test_default_sigma():
    assert codec.default_sigma(128) == 5.0
    assert codec.default_sigma(256) == 10.0
    assert codec.default_sigma((64, 64)) == 2.5


def test_encode_shape_peak_and_mask():
    kp = np.array([[10.0, 20.0], [50.0, 5.0], [0.0, 0.0]], np.float32)
    mask = np.array([True, True, False])
    hm = codec.encode(kp, mask, (64, 80), sigma=3.0)
    assert hm.shape == (64, 80, 3) and hm.dtype == np.float32
    assert hm[20, 10, 0] == pytest.approx(1.0)
    assert hm[5, 50, 1] == pytest.approx(1.0)
    assert not hm[..., 2].any()
    # unnormalised Gaussian value one pixel away, truncated beyond 3 sigma
    assert hm[20, 11, 0] == pytest.approx(np.exp(-1 / 18), rel=1e-5)
    assert hm[20, 10 + 10, 0] == 0.0
    assert hm[20, 10 + 9, 0] > 0.0


def test_encode_matches_dense_reference():
    rng = np.random.default_rng(0)
    kp = rng.uniform(-5, 70, size=(14, 2))
    mask = rng.random(14) > 0.2
    hm = codec.encode(kp, mask, 64, sigma=2.5)
    ys, xs = np.mgrid[0:64, 0:64]
    for k in range(14):
        dx, dy = xs - kp[k, 0], ys - kp[k, 1]
        ref = np.exp(-(dx**2 + dy**2) / (2 * 2.5**2))
        ref[(np.abs(dx) > 7.5) | (np.abs(dy) > 7.5)] = 0
        ref = ref if mask[k] else np.zeros_like(ref)
        np.testing.assert_allclose(hm[..., k], ref, atol=1e-6)


def test_round_trip_integer_exact():
    kp = np.array([[i * 9 + 3, 127 - i * 8] for i in range(14)], np.float32)
    hm = codec.encode(kp, np.ones(14, bool), 128)
    out, scores = codec.decode(hm)
    np.testing.assert_array_equal(out, kp)
    np.testing.assert_allclose(scores, 1.0)


def test_round_trip_subpixel_within_quarter_pixel():
    rng = np.random.default_rng(1)
    kp = rng.uniform(2, 125, size=(14, 2)).astype(np.float32)
    hm = codec.encode(kp, np.ones(14, bool), 128)
    out, _ = codec.decode(hm)
    assert np.abs(out - kp).max() <= 0.25 + 1e-6


def test_decode_batched_and_border():
    hm = np.zeros((2, 3, 8, 8, 2), np.float32)
    hm[0, 1, 0, 7, 0] = 1.0  # corner: no refinement possible
    hm[1, 2, 3, 4, 1] = 0.9
    hm[1, 2, 3, 5, 1] = 0.5  # higher right neighbour -> +0.25 in x
    hm[1, 2, 2, 4, 1] = 0.1  # higher upper neighbour -> -0.25 in y
    kp, sc = codec.decode(hm)
    assert kp.shape == (2, 3, 2, 2) and sc.shape == (2, 3, 2)
    np.testing.assert_array_equal(kp[0, 1, 0], [7, 0])
    np.testing.assert_array_equal(kp[1, 2, 1], [4.25, 2.75])
    assert sc[1, 2, 1] == pytest.approx(0.9)


def test_flip_average():
    perm = LSP14.flip_permutation()
    rng = np.random.default_rng(2)
    kp = rng.uniform(5, 58, size=(14, 2)).astype(np.float32)
    hm = codec.encode(kp, np.ones(14, bool), 64, 2.5)
    # heatmaps a perfect model would produce on the mirrored image
    kp_f = kp[perm].copy()
    kp_f[:, 0] = 63 - kp_f[:, 0]
    hm_f = codec.encode(kp_f, np.ones(14, bool), 64, 2.5)
    np.testing.assert_allclose(codec.flip_average(hm, hm_f, perm), hm, atol=1e-6)
    # batched, and asymmetric inputs average
    batch = np.stack([hm, np.zeros_like(hm)])
    batch_f = np.stack([hm_f, hm_f])
    avg = codec.flip_average(batch, batch_f, perm)
    np.testing.assert_allclose(avg[1], 0.5 * hm, atol=1e-6)
    with pytest.raises(ValueError):
        codec.flip_average(hm, hm_f[:, :-1], perm)
