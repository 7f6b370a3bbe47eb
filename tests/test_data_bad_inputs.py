"""Bad input, made from real files in a tmp dir: clear errors naming the file, or counted skips."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
import scipy.io
from PIL import Image

from repose_tf.data import (
    DataError,
    SampleTransform,
    load_example,
    read_coco,
    read_image,
    read_lspet,
    read_mpii,
)


@pytest.fixture(scope="module")
def real_jpeg(data_dir):
    return data_dir / "lspet" / "images" / "im00001.jpg"


@pytest.fixture(scope="module")
def real_rgb(real_jpeg):
    return np.asarray(Image.open(real_jpeg).convert("RGB"))


@pytest.fixture()
def mini_lspet(tmp_path, data_dir):
    """An LSPET-layout folder with 6 real images and their real joints."""
    joints = scipy.io.loadmat(data_dir / "lspet" / "joints.mat")["joints"][:, :, :6].copy()
    (tmp_path / "images").mkdir()
    for k in range(1, 7):
        shutil.copy(data_dir / "lspet" / "images" / f"im{k:05d}.jpg", tmp_path / "images")
    return tmp_path, joints


def _save(root, joints):
    scipy.io.savemat(root / "joints.mat", {"joints": joints})


# --- images ---------------------------------------------------------------------------------


def test_truncated_jpeg(tmp_path, real_jpeg):
    bad = tmp_path / "cut.jpg"
    data = real_jpeg.read_bytes()
    bad.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(DataError, match=r"cut\.jpg: truncated JPEG"):
        read_image(bad)


def test_missing_empty_and_garbage_files(tmp_path):
    with pytest.raises(DataError, match=r"nope\.jpg: image file not found"):
        read_image(tmp_path / "nope.jpg")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.png: image file is empty"):
        read_image(tmp_path / "empty.png")
    (tmp_path / "noise.png").write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(DataError, match=r"noise\.png: cannot decode image"):
        read_image(tmp_path / "noise.png")


def test_grayscale_jpeg(tmp_path, real_jpeg, real_rgb):
    p = tmp_path / "gray.jpg"
    Image.open(real_jpeg).convert("L").save(p, quality=95)
    img, hw = read_image(p)
    assert img.dtype == np.uint8 and img.shape == real_rgb.shape and hw == real_rgb.shape[:2]
    assert (img[..., 0] == img[..., 1]).all() and (img[..., 1] == img[..., 2]).all()
    gray = np.asarray(Image.open(real_jpeg).convert("L")).astype(float)
    assert np.abs(img[..., 0] - gray).mean() < 2.0


def test_rgba_png_is_alpha_composited(tmp_path, real_rgb):
    rgba = np.dstack([real_rgb, np.full(real_rgb.shape[:2], 255, np.uint8)])
    rgba[:, : rgba.shape[1] // 2, 3] = 0  # left half transparent
    p = tmp_path / "rgba.png"
    Image.fromarray(rgba, "RGBA").save(p)
    img, _ = read_image(p)
    assert img.shape == real_rgb.shape and img.dtype == np.uint8
    half = real_rgb.shape[1] // 2
    np.testing.assert_array_equal(img[:, half:], real_rgb[:, half:])  # opaque: unchanged, RGB order
    assert not img[:, :half].any()  # transparent: composited onto black


def test_cmyk_jpeg(tmp_path, real_jpeg, real_rgb):
    p = tmp_path / "cmyk.jpg"
    Image.open(real_jpeg).convert("CMYK").save(p, quality=95)
    assert Image.open(p).mode == "CMYK"
    img, _ = read_image(p)
    assert img.shape == real_rgb.shape
    assert np.abs(img.astype(float) - real_rgb).mean() < 4.0  # colours right, not inverted


def test_16bit_png(tmp_path, real_rgb):
    p = tmp_path / "deep.png"
    cv2.imwrite(str(p), (real_rgb[..., ::-1].astype(np.uint16) * 257))
    assert cv2.imread(str(p), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    img, _ = read_image(p)
    np.testing.assert_array_equal(img, real_rgb)
    g = tmp_path / "deep_gray.png"
    cv2.imwrite(str(g), real_rgb[..., 0].astype(np.uint16) * 257)
    img, _ = read_image(g)
    np.testing.assert_array_equal(img[..., 2], real_rgb[..., 0])


def test_reduced_decoding_sizes(real_jpeg, real_rgb):
    for r in (2, 4, 8):
        img, hw = read_image(real_jpeg, reduce=r)
        assert hw == real_rgb.shape[:2]
        assert img.shape[:2] == tuple(-(-s // r) for s in real_rgb.shape[:2])


# --- annotations ----------------------------------------------------------------------------


def test_wrong_shape_joints_mat(mini_lspet):
    root, joints = mini_lspet
    _save(root, joints.transpose(1, 0, 2))  # 3 x 14 x N: the LSP layout, not LSPET's
    with pytest.raises(
        DataError, match=r"joints\.mat: 'joints' has shape \(3, 14, 6\), expected \(14, 3, N\)"
    ):
        read_lspet(root, "all")
    _save(root, joints[:, :2])
    with pytest.raises(DataError, match=r"joints\.mat: 'joints' has shape \(14, 2, 6\)"):
        read_lspet(root, "all")
    scipy.io.savemat(root / "joints.mat", {"points": joints})
    with pytest.raises(DataError, match=r"joints\.mat: no 'joints' array"):
        read_lspet(root, "all")
    (root / "joints.mat").write_bytes(b"not a mat file")
    with pytest.raises(DataError, match=r"joints\.mat: cannot read MATLAB file"):
        read_lspet(root, "all")
    (root / "joints.mat").unlink()
    with pytest.raises(DataError, match=r"joints\.mat: annotation file not found"):
        read_lspet(root, "all")
    _save(root, joints)
    with pytest.raises(DataError, match=r"split 'val' needs images 8001-9000"):
        read_lspet(root, "val")


def test_no_annotated_joint_is_skipped_and_counted(mini_lspet):
    root, joints = mini_lspet
    joints[:, 2, 3] = 0  # image 4: nothing visible
    joints[5, 0, 1] = np.nan  # image 2: one NaN coordinate
    _save(root, joints)
    ds = read_lspet(root, "all")
    assert len(ds) == 5 and ds.report.count("no annotated joint") == 1
    assert "im00004.jpg" in ds.report.summary()
    assert ds.report.count("non-finite joint coordinates -> unannotated") == 1
    assert not ds[1].mask[5]
    with pytest.raises(DataError, match=r"im00004\.jpg: no annotated joint"):
        read_lspet(root, "all", on_error="raise")


def test_keypoints_outside_the_image_become_unannotated(mini_lspet):
    root, joints = mini_lspet
    h, w = cv2.imread(str(root / "images" / "im00003.jpg")).shape[:2]
    joints[11, :, 2] = [w + 40, 10, 1]  # l_wrist of image 3 far right of the image, marked visible
    _save(root, joints)
    ds = read_lspet(root, "all")
    t = SampleTransform(64, train=False)
    ex = load_example(ds, t, 2)
    assert ds[2].mask[11] and ex["mask"][11] == 0 and not ex["heatmaps"][..., 11].any()
    assert ds.report.count("annotated joint outside the image -> unannotated") == 1
    assert "lspet/00003:l_wrist" in ds.report.summary()
    load_example(ds, t, 2, epoch=5)  # seen again: still counted once
    assert ds.report.count() == 1


def test_missing_and_corrupt_images_in_a_dataset(mini_lspet):
    root, joints = mini_lspet
    _save(root, joints)
    (root / "images" / "im00002.jpg").unlink()
    data = (root / "images" / "im00005.jpg").read_bytes()
    (root / "images" / "im00005.jpg").write_bytes(data[:300])
    ds = read_lspet(root, "all")
    t = SampleTransform(64, train=True)
    with pytest.raises(DataError, match=r"im00002\.jpg: image file not found"):
        load_example(ds, t, 1)
    with pytest.raises(DataError, match=r"im00005\.jpg: truncated JPEG"):
        load_example(ds, t, 4)
    ex = load_example(ds, t, 1, on_error="skip")
    assert ex["index"] == 2  # replaced deterministically by the next sample
    load_example(ds, t, 4, on_error="skip")
    assert ds.report.count("unreadable image -> replaced by the next sample") == 2
    s = ds.report.summary()
    assert "im00002.jpg" in s and "im00005.jpg" in s


@pytest.mark.parametrize("fmt", ["gray", "cmyk", "rgba"])
def test_converted_images_flow_through_the_pipeline(mini_lspet, fmt):
    root, joints = mini_lspet
    _save(root, joints)
    p = root / "images" / "im00003.jpg"
    im = Image.open(p)
    if fmt == "gray":
        im.convert("L").save(p)
    elif fmt == "cmyk":
        im.convert("CMYK").save(p)
    else:  # PNG content under the .jpg name: decoding goes by content, not extension
        im.convert("RGBA").save(p, format="PNG")
    ex = load_example(read_lspet(root, "all"), SampleTransform(64, train=True), 2)
    assert ex["image"].shape == (64, 64, 3) and ex["image"].max() > 0


def test_mpii_bad_entries(tmp_path, data_dir):
    entries = json.loads((data_dir / "mpii_sample" / "test_mpii.json").read_text())
    entries[1]["joints"] = entries[1]["joints"][:15]
    (tmp_path / "valid.json").write_text(json.dumps(entries))
    with pytest.raises(DataError, match=r"valid\.json: entry 1 \(052475643\.jpg\): .*joints \(15, 2\)"):
        read_mpii(tmp_path, "valid")
    entries = json.loads((data_dir / "mpii_sample" / "test_mpii.json").read_text())
    entries[2]["joints_vis"] = [0] * 16
    entries[3]["scale"] = -1
    (tmp_path / "valid.json").write_text(json.dumps(entries))
    ds = read_mpii(tmp_path, "valid")
    assert len(ds) == 3 and ds.report.count("no annotated joint") == 1
    assert ds.report.count("invalid center/scale") == 1
    with pytest.raises(DataError, match="no MPII annotation JSON for split 'train'"):
        read_mpii(tmp_path, "train")


def test_coco_bad_annotation(tmp_path, data_dir):
    src = data_dir / "coco_mini" / "annotations" / "person_keypoints_val2017.json"
    d = json.loads(src.read_text())
    i = next(k for k, a in enumerate(d["annotations"]) if a["num_keypoints"] > 0 and not a["iscrowd"])
    d["annotations"][i]["keypoints"] = d["annotations"][i]["keypoints"][:-3]
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "person_keypoints_val2017.json").write_text(json.dumps(d))
    with pytest.raises(
        DataError, match=r"person_keypoints_val2017\.json: annotation \d+: keypoints has shape \(48,\)"
    ):
        read_coco(tmp_path, "val")
    with pytest.raises(DataError, match="annotation file not found"):
        read_coco(tmp_path, "train")
