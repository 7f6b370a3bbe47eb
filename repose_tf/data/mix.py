"""Mixing datasets with weights (the paper trains LSP + MPII jointly)."""

from __future__ import annotations

import numpy as np

from repose_tf.data.errors import SkipReport
from repose_tf.data.sample import PoseDataset, Sample

__all__ = ["MixedDataset"]


class MixedDataset(PoseDataset):
    """A weighted mixture: ``length`` slots, dataset j gets ``round(length * w_j / sum(w))`` of them.

    A dataset with fewer samples than slots is cycled, one with more is subsampled; slot t of
    dataset j in epoch e is its sample ``perm_j[(t + e * n_j) % len_j]`` (a fixed per-dataset
    permutation), so over epochs a subsampled dataset is walked through entirely. Default
    weights are the dataset sizes and default length their sum (plain concatenation).
    """

    name = "mix"

    def __init__(
        self, datasets, weights=None, length: int | None = None, seed: int = 0, split: str = "train"
    ):
        datasets = list(datasets)
        if not datasets:
            raise ValueError("MixedDataset needs at least one dataset")
        ks = {d.keypoint_set.name for d in datasets}
        if len(ks) != 1:
            raise ValueError(f"datasets use different keypoint sets {sorted(ks)}; read them all into one set")
        for d in datasets:
            if len(d) == 0:
                raise ValueError(f"{d!r} is empty")
        self.split = split
        self.name = "+".join(d.name for d in datasets)
        self.datasets = datasets
        self._reports = [d.report for d in datasets]
        super().__init__(datasets[0].keypoint_set, report=SkipReport(self.name))
        sizes = np.array([len(d) for d in datasets], np.float64)
        w = sizes if weights is None else np.asarray(weights, np.float64)
        if w.shape != sizes.shape or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"weights {weights} must be {len(datasets)} non-negative numbers, not all 0")
        total = int(sizes.sum()) if length is None else int(length)
        exact = total * w / w.sum()
        counts = np.floor(exact).astype(np.int64)
        rest = total - counts.sum()
        counts[np.argsort(-(exact - counts), kind="stable")[:rest]] += 1
        self.counts = counts
        self._starts = np.concatenate([[0], np.cumsum(counts)])
        self._perms = [np.random.default_rng([seed, j]).permutation(len(d)) for j, d in enumerate(datasets)]

    @property
    def report(self) -> SkipReport:
        merged = SkipReport(self.name)
        for d, r in zip(self.datasets, self._reports, strict=True):
            merged.merge(r, prefix=f"{d.name}/{d.split}: ")
        return merged

    @report.setter
    def report(self, value) -> None:  # the base class assigns one; the view above replaces it
        pass

    def __len__(self) -> int:
        return int(self._starts[-1])

    def locate(self, i: int, epoch: int = 0):
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} out of range for {self.name} of length {len(self)}")
        j = int(np.searchsorted(self._starts, i, side="right") - 1)
        t = i - int(self._starts[j])
        d = self.datasets[j]
        local = int(self._perms[j][(t + epoch * int(self.counts[j])) % len(d)])
        return d.locate(local, epoch)

    def sample(self, i: int) -> Sample:
        d, j = self.locate(i)
        return d.sample(j)

    def load_image(self, i: int, reduce: int = 1):
        d, j = self.locate(i)
        return d.load_image(j, reduce)
