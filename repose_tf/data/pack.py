"""Pack LSPET into a small copy with the same layout: pre-cropped, downscaled, WebP re-encoded.

Why: a GPU machine reached by copying the working tree (64 MiB a call, the repository included)
cannot take the 9,000 full LSPET JPEGs, and decoding full images would starve a fast GPU. Each
image is cropped to a square around the person (``margin`` x the training crop box, so scale and
rotation augmentation still see context), resized so that the box is ``box_px`` pixels (input
128 at scale 1 upsamples by only 128/box_px) and re-encoded as WebP. ``joints.mat`` holds the
joints mapped into the crop, so the pack *is* an LSPET directory: ``--dataset lspet --data_dir
PACK/lspet`` reads it with the usual reader, splits and metric (PCK@0.2 is torso-relative, so
the uniform rescale does not change it). Images a split does not pack get no file and zero
visibility: the reader counts them as skipped ("no annotated joint").
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from repose_tf.data.lspet import LSPET_SPLITS


@dataclass(frozen=True)
class PackConfig:
    """Geometry and encoding of a pack (written to ``pack.json``)."""

    box_px: int = 112  # the training crop box's side in the packed image
    margin: float = 1.4  # packed side = margin x box (context for scale/rotation augmentation)
    quality: int = 70  # WebP quality
    train_limit: int | None = None  # pack only the first N train images (tests)
    val_limit: int | None = None  # ... and the first N val images

    @property
    def side(self) -> int:
        return int(round(self.box_px * self.margin))


def _crop(img: np.ndarray, center: np.ndarray, box: float, cfg: PackConfig):
    """(crop, 2x3 affine original -> crop) for one image."""
    import cv2

    s = cfg.box_px / box
    m = np.array([[s, 0.0, cfg.side / 2 - s * center[0]], [0.0, s, cfg.side / 2 - s * center[1]]])
    crop = cv2.warpAffine(img, m, (cfg.side, cfg.side), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)
    return crop, m


def pack_lspet(src_dir, out_dir, cfg: PackConfig = PackConfig(), progress=None) -> dict:
    """Write ``out_dir/lspet/{images/imNNNNN.webp, joints.mat}`` and ``out_dir/pack.json``.

    ``progress(done, total)`` is called after each image. Returns the pack summary (also in
    ``pack.json``): counts per split, bytes, geometry and what was skipped and why.
    """
    import cv2
    import scipy.io

    from repose_tf.data import get_dataset
    from repose_tf.data._common import load_mat_joints
    from repose_tf.data.images import read_image

    src, out = Path(src_dir), Path(out_dir)
    root = out / "lspet"
    (root / "images").mkdir(parents=True, exist_ok=True)
    mat = load_mat_joints(  # (14, 3, N), checked as the LSPET reader checks it
        src / "joints.mat", "(14, 3, N): x, y, visible per joint", lambda s: len(s) == 3 and s[:2] == (14, 3)
    )
    packed = np.zeros_like(mat)  # unpacked images: zero visibility -> skipped by the reader
    limits = {"train": cfg.train_limit, "val": cfg.val_limit}
    todo = []
    skipped: dict[str, int] = {}
    for split in ("train", "val"):
        ds = get_dataset("lspet", src, split)
        for reason, n in ds.report.counts.items():
            skipped[f"{split}: {reason}"] = n
        n = len(ds) if limits[split] is None else min(limits[split], len(ds))
        todo += [(split, ds[i]) for i in range(n)]
    t0, nbytes, counts = time.time(), 0, {"train": 0, "val": 0}
    for k, (split, s) in enumerate(todo):
        num = int(s.id.split("/")[-1])
        img, _ = read_image(s.image_path)
        crop, m = _crop(img, s.center, s.box_size, cfg)
        ok, buf = cv2.imencode(".webp", crop[..., ::-1], [cv2.IMWRITE_WEBP_QUALITY, cfg.quality])
        if not ok:
            raise RuntimeError(f"{s.image_path}: WebP encoding failed")
        (root / "images" / f"im{num:05d}.webp").write_bytes(buf.tobytes())
        nbytes += len(buf)
        xy = mat[:, :2, num - 1] @ m[:, :2].T + m[:, 2]
        packed[:, :2, num - 1] = xy
        packed[:, 2, num - 1] = mat[:, 2, num - 1]
        counts[split] += 1
        if progress:
            progress(k + 1, len(todo))
    scipy.io.savemat(str(root / "joints.mat"), {"joints": packed}, do_compression=True)
    summary = {
        "source": str(src.resolve()),
        "format": "lspet layout, WebP images",
        "config": asdict(cfg),
        "side_px": cfg.side,
        "images": counts,
        "splits": {k: list(v) for k, v in LSPET_SPLITS.items() if k != "all"},
        "image_bytes": nbytes,
        "skipped_in_source": skipped,
        "seconds": round(time.time() - t0, 1),
    }
    (out / "pack.json").write_text(json.dumps(summary, indent=2))
    return summary


__all__ = ["PackConfig", "pack_lspet"]
