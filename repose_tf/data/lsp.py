"""Leeds Sports Pose (original, 2000 images): ``joints.mat`` (3 x 14 x 2000) + ``images/im0001.jpg``.

Row 3 of ``joints`` is an occlusion flag: visible = 1 - flag; every joint is annotated. Train =
images 1-1000 cropped by the joint box (``BOX_SCALE``); test = images 1001-2000 with center =
image centre and box side = ``LSP_TEST_BOX_SCALE`` x the longer image side (paper, section 4:
"scale and center set to the image's size and center").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from repose_tf.data._common import check_on_error, load_mat_joints, problem, sanitize_joints, split_range
from repose_tf.data.errors import DataError, SkipReport
from repose_tf.data.images import image_size
from repose_tf.data.sample import ListDataset, Sample, box_from_keypoints, to_keypoint_set
from repose_tf.keypoints import get_keypoint_set

__all__ = ["LSP_SPLITS", "LSP_TEST_BOX_SCALE", "read_lsp"]

LSP_SPLITS = {"train": (1, 1000), "test": (1001, 2000), "all": (1, 2000)}
#: LSP test crop side = this x max(image H, W): the whole image, centred.
LSP_TEST_BOX_SCALE = 1.0


def read_lsp(
    data_dir, split: str = "train", keypoint_set="lsp14", on_error: str = "skip", joints_file=None
) -> ListDataset:
    """Read the original LSP from ``data_dir`` (``joints.mat``, ``images/im0001.jpg`` ...)."""
    check_on_error(on_error)
    root = Path(data_dir)
    mat_path = Path(joints_file) if joints_file else root / "joints.mat"
    joints = load_mat_joints(
        mat_path, "(3, 14, N): x, y, occluded per joint", lambda s: len(s) == 3 and s[:2] == (3, 14)
    )
    n = joints.shape[2]
    report = SkipReport(f"lsp/{split}")
    ks = get_keypoint_set(keypoint_set)
    nums = list(split_range(split, LSP_SPLITS, n, mat_path))
    j = np.moveaxis(joints[:, :, [k - 1 for k in nums]], 2, 0).transpose(0, 2, 1)  # (N, 14, 3)
    names = [f"im{k:04d}.jpg" for k in nums]
    kp_all, mask_all = sanitize_joints(j[..., :2], np.ones(j.shape[:2], bool), report, names)
    vis_all = (j[..., 2] < 0.5) & mask_all
    kp_all, mask_all, vis_all = to_keypoint_set(kp_all, mask_all, vis_all, "lsp14", ks)
    samples = []
    for num, kp, mask, vis in zip(nums, kp_all, mask_all, vis_all, strict=True):
        path = root / "images" / f"im{num:04d}.jpg"
        key = path.name
        if not mask.any():
            problem(report, on_error, path, "no annotated joint", key)
            continue
        size = None
        if num > 1000:
            try:
                size = image_size(path)
            except DataError as e:
                problem(report, on_error, path, "unreadable image", key, e.problem)
                continue
            center = np.array([(size[1] - 1) / 2.0, (size[0] - 1) / 2.0], np.float32)
            side = LSP_TEST_BOX_SCALE * max(size)
        else:
            center, side = box_from_keypoints(kp, mask)
        samples.append(Sample(str(path), kp, mask, vis, center, side, ks.name, "lsp", f"lsp/{num:04d}", size))
    return ListDataset(samples, "lsp", split, ks, report)
