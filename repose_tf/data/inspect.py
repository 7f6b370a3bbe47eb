"""Contact sheet of pipeline samples: augmented crops with keypoints, skeleton and summed target heatmaps.

    python -m repose_tf.data.inspect --dataset lspet --data_dir ../shared/data/lspet --out sheet.png
    python -m repose_tf.data.inspect --dataset synthetic --num 16 --no-augment --out synth.png

Each tile: the network input (what the model sees) with the annotated joints (right side red,
left side blue, centre joints green; hollow = annotated but occluded), the skeleton, and on
its right the summed target heatmaps over the image. Unannotated joints are not drawn. The skip
report of the run is printed at the end.
"""

from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np

from repose_tf.data import SampleTransform, get_dataset, load_example
from repose_tf.keypoints import KeypointSet

RIGHT, LEFT, CENTRE = (230, 40, 40), (40, 90, 240), (40, 200, 60)


def side_color(name: str) -> tuple[int, int, int]:
    return RIGHT if name.startswith("r_") else LEFT if name.startswith("l_") else CENTRE


def draw_example(ex: dict, ks: KeypointSet, scale: int = 2) -> np.ndarray:
    """Tile (H*scale, 2*W*scale, 3) uint8 RGB: annotated crop | heatmap overlay."""
    img = np.clip(ex["image"], 0, 255).astype(np.uint8)
    s = img.shape[0] * scale
    big = cv2.resize(img, (s, s), interpolation=cv2.INTER_NEAREST)
    kp, mask = ex["keypoints"] * scale + (scale - 1) / 2.0, ex["mask"] > 0
    vis = ex.get("visible", ex["mask"]) > 0
    for a, b in ks.skeleton:
        if mask[a] and mask[b]:
            na, nb = ks.names[a], ks.names[b]
            color = side_color(na) if side_color(na) == side_color(nb) else CENTRE
            pa, pb = tuple(int(round(v)) for v in kp[a]), tuple(int(round(v)) for v in kp[b])
            cv2.line(big, pa, pb, color, 2, cv2.LINE_AA)
    for k in np.nonzero(mask)[0]:
        p = tuple(int(round(v)) for v in kp[k])
        cv2.circle(big, p, 4, side_color(ks.names[k]), -1 if vis[k] else 1, cv2.LINE_AA)
        cv2.circle(big, p, 4, (255, 255, 255), 1, cv2.LINE_AA)
    heat = np.clip(ex["heatmaps"].sum(-1), 0, 1)
    heat = cv2.resize(heat, (s, s), interpolation=cv2.INTER_LINEAR)
    color = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    gray = cv2.cvtColor(cv2.cvtColor(cv2.resize(img, (s, s)), cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    overlay = (gray * (1 - 0.6 * heat[..., None]) + color * 0.6 * heat[..., None]).astype(np.uint8)
    return np.concatenate([big, overlay], axis=1)


def contact_sheet(dataset, transform, indices, epoch=0, seed=0, cols=4, scale=2) -> np.ndarray:
    ks = transform.keypoint_set
    tiles = []
    for i in indices:
        ex = load_example(dataset, transform, int(i), epoch, seed, on_error="skip")
        tile = draw_example(ex, ks, scale)
        label = f"#{int(ex['index'])} {dataset.sample(int(ex['index'])).id}"
        cv2.putText(tile, label[:40], (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(tile)
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    pad = lambda t: cv2.copyMakeBorder(t, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    rows = [np.concatenate([pad(t) for t in tiles[r : r + cols]], axis=1) for r in range(0, len(tiles), cols)]
    return np.concatenate(rows, axis=0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m repose_tf.data.inspect", description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="synthetic", help="lsp, lspet, mpii, coco or synthetic (default)")
    p.add_argument("--data_dir", default=None, help="dataset folder (not needed for synthetic)")
    p.add_argument("--split", default="train", help="split name (default train)")
    p.add_argument("--keypoint_set", default="lsp14", help="keypoint set to map into (default lsp14)")
    p.add_argument("--num", type=int, default=16, help="number of samples (default 16)")
    p.add_argument("--seed", type=int, default=0, help="pipeline seed: sample choice and augmentation")
    p.add_argument("--epoch", type=int, default=0, help="epoch number fed to the augmentation RNG")
    p.add_argument("--input_size", type=int, default=128, help="crop size (default 128)")
    p.add_argument(
        "--no-augment", dest="augment", action="store_false", help="evaluation crops, no augmentation"
    )
    p.add_argument("--cols", type=int, default=4, help="tiles per row")
    p.add_argument("--out", required=True, help="output PNG path")
    a = p.parse_args(argv)
    ds = get_dataset(a.dataset, a.data_dir, a.split, a.keypoint_set)
    t = SampleTransform(a.input_size, ds.keypoint_set, train=a.augment)
    rng = np.random.default_rng(a.seed)
    idx = rng.choice(len(ds), size=min(a.num, len(ds)), replace=False)
    sheet = contact_sheet(ds, t, idx, a.epoch, a.seed, a.cols)
    if not cv2.imwrite(a.out, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        print(f"could not write {a.out}", file=sys.stderr)
        return 1
    print(f"wrote {a.out}: {len(idx)} samples of {ds!r}")
    print(ds.report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
