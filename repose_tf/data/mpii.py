"""MPII Human Pose, HRNet-style JSON (``image``, ``center``, ``scale``, ``joints``, ``joints_vis``).

Conventions (as in HRNet / SimpleBaseline): ``center`` and ``joints`` are MATLAB 1-based, so
1 is subtracted; the crop moves the center down by 15 x scale and enlarges scale by 1.25; the
square crop side is 200 x scale.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from repose_tf.data._common import check_on_error, problem, sanitize_joints
from repose_tf.data.errors import DataError, SkipReport
from repose_tf.data.sample import ListDataset, Sample, to_keypoint_set
from repose_tf.keypoints import get_keypoint_set

__all__ = ["MPII_CENTER_SHIFT", "MPII_SCALE_FACTOR", "find_mpii_annotations", "read_mpii"]

MPII_CENTER_SHIFT = 15.0  # center y += 15 * scale
MPII_SCALE_FACTOR = 1.25  # scale *= 1.25
MPII_PIXELS_PER_SCALE = 200.0  # box side = 200 * scale


def find_mpii_annotations(data_dir, split: str) -> Path:
    root = Path(data_dir)
    names = [
        f"annot/{split}.json",
        f"{split}.json",
        f"{split}_mpii.json",
        f"mpii_{split}.json",
        f"annot/{split}_mpii.json",
    ]
    for n in names:
        if (root / n).is_file():
            return root / n
    raise DataError(root, f"no MPII annotation JSON for split {split!r} (looked for {', '.join(names)})")


def read_mpii(
    data_dir,
    split: str = "train",
    keypoint_set="lsp14",
    on_error: str = "skip",
    annotation_file=None,
    image_dir=None,
) -> ListDataset:
    """Read HRNet-style MPII JSON; images from ``data_dir/images`` (or ``image_dir``)."""
    check_on_error(on_error)
    root = Path(data_dir)
    path = Path(annotation_file) if annotation_file else find_mpii_annotations(root, split)
    images = Path(image_dir) if image_dir else root / "images"
    try:
        with open(path) as f:
            entries = json.load(f)
    except (OSError, ValueError) as e:
        raise DataError(path, f"cannot read annotation JSON ({type(e).__name__}: {e})") from e
    if not isinstance(entries, list):
        raise DataError(path, f"expected a JSON list of person entries, got {type(entries).__name__}")
    ks = get_keypoint_set(keypoint_set)
    report = SkipReport(f"mpii/{split}")
    samples = []
    for i, e in enumerate(entries):
        where = f"entry {i}"
        try:
            image = str(e["image"])
            center = np.asarray(e["center"], np.float64)
            scale = float(np.asarray(e["scale"], np.float64).reshape(-1)[0])
            has_joints = "joints" in e
            joints = np.asarray(e.get("joints", np.zeros((16, 2))), np.float64)
            vis = np.asarray(e.get("joints_vis", np.zeros(16)), np.float64).reshape(-1)
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(path, f"{where}: malformed entry ({type(err).__name__}: {err})") from err
        if center.shape != (2,) or joints.shape != (16, 2) or vis.shape != (16,):
            raise DataError(
                path,
                f"{where} ({image}): center {center.shape}, joints {joints.shape}, joints_vis {vis.shape};"
                " expected (2,), (16, 2), (16,)",
            )
        key = f"{image}#{i}"
        if not (np.isfinite(scale) and scale > 0 and np.isfinite(center).all()):
            problem(report, on_error, path, "invalid center/scale", key, f"{where}: scale {scale}")
            continue
        kp, mask = sanitize_joints(joints[None] - 1.0, (vis > 0)[None], report, [key])
        kp, mask, visible = to_keypoint_set(kp[0], mask[0], mask[0], "mpii16", ks)
        if has_joints and not mask.any():
            problem(report, on_error, images / image, "no annotated joint", key)
            continue
        c = center - 1.0
        c[1] += MPII_CENTER_SHIFT * scale
        side = MPII_PIXELS_PER_SCALE * MPII_SCALE_FACTOR * scale
        samples.append(
            Sample(
                str(images / image),
                kp,
                mask,
                visible,
                c,
                side,
                ks.name,
                "mpii",
                f"mpii/{i}",
                meta={"scale": scale},
            )
        )
    return ListDataset(samples, "mpii", split, ks, report)
