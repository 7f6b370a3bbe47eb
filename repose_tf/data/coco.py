"""COCO person keypoints (original JSON): one sample per non-crowd annotation with keypoints.

Layout: ``data_dir/annotations/person_keypoints_{split}2017.json`` and ``data_dir/{split}2017/``.
``v > 0`` = annotated, ``v == 2`` = visible. Crop: square around the bbox, side = ``BOX_SCALE``
x the bbox's longer side, centred on the bbox centre.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from repose_tf.data._common import check_on_error, problem, sanitize_joints
from repose_tf.data.errors import DataError, SkipReport
from repose_tf.data.sample import BOX_SCALE, MIN_BOX_SIZE, ListDataset, Sample, to_keypoint_set
from repose_tf.keypoints import get_keypoint_set

__all__ = ["read_coco"]


def _split_name(split: str) -> str:
    return split if split[-4:].isdigit() else f"{split}2017"


def read_coco(
    data_dir,
    split: str = "train",
    keypoint_set="lsp14",
    on_error: str = "skip",
    annotation_file=None,
    image_dir=None,
) -> ListDataset:
    check_on_error(on_error)
    root = Path(data_dir)
    sname = _split_name(split)
    path = (
        Path(annotation_file) if annotation_file else root / "annotations" / f"person_keypoints_{sname}.json"
    )
    images_dir = Path(image_dir) if image_dir else root / sname
    if not path.is_file():
        raise DataError(path, "annotation file not found")
    try:
        with open(path) as f:
            d = json.load(f)
        anns, imgs = d["annotations"], {im["id"]: im for im in d["images"]}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(path, f"not a COCO keypoints JSON ({type(e).__name__}: {e})") from e
    ks = get_keypoint_set(keypoint_set)
    report = SkipReport(f"coco/{split}")
    samples = []
    for a in anns:
        aid = a.get("id", "?")
        key = f"ann {aid}"
        if a.get("category_id", 1) != 1:
            continue  # not a person: not a sample of this dataset
        if a.get("iscrowd", 0):
            report.add("crowd annotation", key)
            continue
        if a.get("num_keypoints", 0) <= 0:
            report.add("annotation without keypoints", key)
            continue
        kps = np.asarray(a.get("keypoints", []), np.float64)
        if kps.shape != (51,):
            raise DataError(path, f"annotation {aid}: keypoints has shape {kps.shape}, expected (51,)")
        im = imgs.get(a.get("image_id"))
        if im is None:
            problem(
                report, on_error, path, "annotation of an unknown image", key, f"image_id {a.get('image_id')}"
            )
            continue
        img_path = images_dir / im["file_name"]
        k = kps.reshape(17, 3)
        kp, mask = sanitize_joints(k[None, :, :2], (k[:, 2] > 0)[None], report, [key])
        kp, mask, vis = to_keypoint_set(kp[0], mask[0], mask[0] & (k[:, 2] > 1), "coco17", ks)
        if not mask.any():
            problem(report, on_error, img_path, "no annotated joint", key, f"in {ks.name}")
            continue
        x, y, w, h = (float(v) for v in a["bbox"])
        if not (w > 0 and h > 0):
            problem(report, on_error, img_path, "empty bbox", key, str(a["bbox"]))
            continue
        center = np.array([x + w / 2.0 - 0.5, y + h / 2.0 - 0.5], np.float32)
        side = max(BOX_SCALE * max(w, h), MIN_BOX_SIZE)
        size = (int(im["height"]), int(im["width"])) if "height" in im and "width" in im else None
        samples.append(
            Sample(str(img_path), kp, mask, vis, center, side, ks.name, "coco", f"coco/{aid}", size)
        )
    return ListDataset(samples, "coco", split, ks, report)
