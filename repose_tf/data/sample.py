"""The ``Sample`` record every reader produces, the crop-box rule, and the dataset base class."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from repose_tf.data.errors import DataError, SkipReport
from repose_tf.data.images import read_image
from repose_tf.keypoints import KeypointSet, convert, get_keypoint_set

__all__ = [
    "BOX_SCALE",
    "MIN_BOX_SIZE",
    "ListDataset",
    "PoseDataset",
    "Sample",
    "box_from_keypoints",
    "to_keypoint_set",
]

#: Crop side = BOX_SCALE x the longer side of the annotated joints' bounding box (LSP/LSPET,
#: COCO bbox, synthetic). 1.25 matches the MPII convention (scale *= 1.25).
BOX_SCALE = 1.25
#: Smallest crop side in pixels (a box around one or two joints would otherwise be degenerate).
MIN_BOX_SIZE = 32.0


@dataclass
class Sample:
    """One person in one image. Coordinates are 0-based pixels of the original image.

    ``mask``: the joint is annotated (its location is known; may be occluded);
    ``visible``: annotated and not occluded. ``center`` (x, y) and ``box_size`` define the
    square crop the sample transform resizes to the network input.
    """

    image_path: str | None
    keypoints: np.ndarray  # (K, 2) float32 xy
    mask: np.ndarray  # (K,) bool
    visible: np.ndarray  # (K,) bool
    center: np.ndarray  # (2,) float32 xy
    box_size: float
    keypoint_set: str
    dataset: str
    id: str
    image_size: tuple[int, int] | None = None  # (H, W) when known without decoding
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, np.float32).reshape(-1, 2)
        k = self.keypoints.shape[0]
        self.mask = np.asarray(self.mask, bool).reshape(k)
        self.visible = np.asarray(self.visible, bool).reshape(k) & self.mask
        self.center = np.asarray(self.center, np.float32).reshape(2)
        self.box_size = float(self.box_size)

    @property
    def num_annotated(self) -> int:
        return int(self.mask.sum())


def box_from_keypoints(keypoints: np.ndarray, mask: np.ndarray, scale: float = BOX_SCALE):
    """(center (2,), side) of the square crop around the annotated joints: side = scale x longer side."""
    pts = np.asarray(keypoints, np.float64)[np.asarray(mask, bool)]
    if len(pts) == 0:
        raise ValueError("no annotated joints to build a box from")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    center = (lo + hi) / 2.0
    side = max(scale * float((hi - lo).max()), MIN_BOX_SIZE)
    return center.astype(np.float32), side


def to_keypoint_set(keypoints, mask, visible, src: str | KeypointSet, dst: str | KeypointSet):
    """Map keypoints / annotated mask / visible flags from ``src`` into ``dst`` (unmapped -> unannotated)."""
    kp, m = convert(np.asarray(keypoints, np.float32), np.asarray(mask, bool), src, dst)
    _, v = convert(np.asarray(keypoints, np.float32), np.asarray(visible, bool), src, dst)
    return kp, m, v & m


class PoseDataset:
    """Base class: an indexable collection of :class:`Sample` with image loading and a skip report.

    Subclasses implement ``__len__`` and ``sample(i)``; ``load_image(i, reduce)`` reads
    ``sample(i).image_path`` by default (the synthetic dataset renders instead).
    """

    name: str = "dataset"
    split: str = "train"

    def __init__(self, keypoint_set: str | KeypointSet = "lsp14", report: SkipReport | None = None):
        self.keypoint_set = get_keypoint_set(keypoint_set)
        self.report = report if report is not None else SkipReport(f"{self.name}/{self.split}")

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, i: int) -> Sample:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, i: int) -> Sample:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for {self.name}/{self.split} of length {n}")
        return self.sample(i % n)

    def load_image(self, i: int, reduce: int = 1) -> tuple[np.ndarray, tuple[int, int]]:
        """uint8 RGB image of sample i (decoded at 1/reduce) and its full-resolution (H, W)."""
        s = self.sample(i)
        if s.image_path is None:
            raise DataError(None, f"{self.name} sample {s.id} has no image path")
        return read_image(s.image_path, reduce)

    def locate(self, i: int, epoch: int = 0) -> tuple[PoseDataset, int]:
        """The dataset and local index that global index ``i`` refers to (mixtures override)."""
        return self, i

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name}/{self.split}, {len(self)} samples, {self.keypoint_set.name})"
        )


class ListDataset(PoseDataset):
    """A dataset backed by a list of samples built by a reader."""

    def __init__(self, samples: list[Sample], name: str, split: str, keypoint_set, report: SkipReport):
        self.name, self.split = name, split
        super().__init__(keypoint_set, report)
        self.samples = samples

    def __len__(self) -> int:
        return len(self.samples)

    def sample(self, i: int) -> Sample:
        return self.samples[i]
