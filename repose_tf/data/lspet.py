"""Leeds Sports Pose Extended (LSPET): ``joints.mat`` (14 x 3 x N: x, y, visible) + ``images/``.

Annotated set = visible joints (LSPET marks joints outside the image with visible = 0). Split
used across the project: images 1-8000 train, 8001-9000 validation. Validation is cut in two
interleaved halves so that what chooses is never what reports: ``select`` (odd numbers
8001-8999) ranks checkpoints, recipes and releases; ``report`` (even numbers 8002-9000) gives every
published figure and chooses nothing. Crop: square box of the annotated joints, side =
``BOX_SCALE`` x its longer side.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from repose_tf.data._common import check_on_error, load_mat_joints, problem, sanitize_joints, split_range
from repose_tf.data.errors import SkipReport
from repose_tf.data.sample import ListDataset, Sample, box_from_keypoints, to_keypoint_set
from repose_tf.keypoints import get_keypoint_set

__all__ = ["LSPET_SPLITS", "read_lspet"]

LSPET_SPLITS = {
    "train": (1, 8000),
    "val": (8001, 9000),
    "select": (8001, 8999, 2),  # chooses: checkpoints, recipes, releases
    "report": (8002, 9000, 2),  # reports: README, model card, release tables; never chooses
    "all": (1, 10_000),
}


def read_lspet(
    data_dir, split: str = "train", keypoint_set="lsp14", on_error: str = "skip", joints_file=None
) -> ListDataset:
    """Read LSPET from ``data_dir`` (``joints.mat``, ``images/im00001.jpg`` ...)."""
    check_on_error(on_error)
    root = Path(data_dir)
    mat_path = Path(joints_file) if joints_file else root / "joints.mat"
    joints = load_mat_joints(
        mat_path, "(14, 3, N): x, y, visible per joint", lambda s: len(s) == 3 and s[:2] == (14, 3)
    )
    n = joints.shape[2]
    report = SkipReport(f"lspet/{split}")
    ks = get_keypoint_set(keypoint_set)
    nums = list(split_range(split, LSPET_SPLITS, n, mat_path))
    j = np.moveaxis(joints[:, :, [k - 1 for k in nums]], 2, 0)  # (N, 14, 3)
    vis_all = j[..., 2] > 0.5
    kp_all, mask_all = sanitize_joints(j[..., :2], vis_all, report, [f"im{k:05d}.jpg" for k in nums])
    kp_all, mask_all, vis_all = to_keypoint_set(kp_all, mask_all, vis_all & mask_all, "lsp14", ks)
    samples = []
    ext = _image_ext(root / "images", nums)
    for num, kp, mask, vis in zip(nums, kp_all, mask_all, vis_all, strict=True):
        path = root / "images" / f"im{num:05d}{ext}"
        if not mask.any():
            problem(report, on_error, path, "no annotated joint", path.name)
            continue
        center, side = box_from_keypoints(kp, mask)
        samples.append(Sample(str(path), kp, mask, vis, center, side, ks.name, "lspet", f"lspet/{num:05d}"))
    return ListDataset(samples, "lspet", split, ks, report)


def _image_ext(images: Path, nums) -> str:
    """``.jpg`` (the release), or ``.webp`` for a pack (:mod:`repose_tf.data.pack`) that has no JPEGs."""
    first = next(iter(nums), 1)
    if not (images / f"im{first:05d}.jpg").exists() and (images / f"im{first:05d}.webp").exists():
        return ".webp"
    return ".jpg"
