"""Peer pose models run on the same crops as RePose, so their numbers are comparable.

MoveNet SinglePose (Lightning / Thunder, TFLite): input ``(1, n, n, 3)`` uint8 (or float32),
output ``(1, 1, 17, 3)`` = ``[y, x, score]`` normalised to the input, COCO-17 order. It predicts
no heatmaps, so it plugs into :func:`repose_tf.evaluate.predict_dataset` through ``predict``
(keypoints in input pixels) instead of ``heatmaps``; the COCO-17 -> LSP-14 mapping there leaves
neck and head top unpredicted, which is why peers are compared on the 12 limb joints.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from repose_tf.keypoints import KeypointSet, get_keypoint_set

__all__ = ["MoveNetPredictor", "call_times_ms", "latency_ms"]


class MoveNetPredictor:
    """A MoveNet SinglePose ``.tflite`` as a keypoint predictor (LiteRT, XNNPACK)."""

    kind = "tflite (peer)"
    outputs_heatmaps = False

    def __init__(self, path: str | os.PathLike, num_threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: peer model not found")
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise ValueError(f"{self.path}: not a loadable TFLite model ({e})") from None
        (inp,) = self.interpreter.get_input_details()
        (out,) = self.interpreter.get_output_details()
        if (
            len(inp["shape"]) != 4
            or inp["shape"][1] != inp["shape"][2]
            or tuple(out["shape"][-2:]) != (17, 3)
        ):
            raise ValueError(
                f"{self.path}: expected a MoveNet SinglePose model (input 1xNxNx3, output 1x1x17x3), "
                f"got input {inp['shape'].tolist()} and output {out['shape'].tolist()}"
            )
        self._inp, self._out = inp, out
        self.input_size = int(inp["shape"][1])
        self.keypoint_set: KeypointSet = get_keypoint_set("coco17")

    def invoke(self, image: np.ndarray) -> np.ndarray:
        """One ``(n, n, 3)`` RGB image (0..255) -> ``(17, 3)`` [y, x, score], normalised."""
        x = np.clip(np.rint(image), 0, 255).astype(self._inp["dtype"])[None]
        self.interpreter.set_tensor(self._inp["index"], x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._out["index"])[0, 0]

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints ``(B, 17, 2)`` xy in input (crop) pixels and scores ``(B, 17)``."""
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[1:] != (self.input_size, self.input_size, 3):
            raise ValueError(
                f"{self.path.name} expects (B, {self.input_size}, {self.input_size}, 3) images, "
                f"got {images.shape}"
            )
        out = np.stack([self.invoke(im) for im in images])
        # normalised [0, 1] coordinates of pixel centres -> pixel coordinates of the crop
        xy = out[..., [1, 0]] * self.input_size - 0.5
        return xy.astype(np.float32), out[..., 2].astype(np.float32)

    def describe(self) -> str:
        return f"{self.kind} {self.path.name}: input {self.input_size}x{self.input_size}, coco17"


def call_times_ms(fn, runs: int = 50, warmup: int = 5) -> list[float]:
    """Wall time (ms) of each of ``runs`` calls of ``fn()``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def latency_ms(run_one, image: np.ndarray, runs: int = 50, warmup: int = 5) -> float:
    """Median wall time (ms) of ``run_one(image)`` over ``runs`` calls after ``warmup`` calls."""
    return float(np.median(call_times_ms(lambda: run_one(image), runs, warmup)))
