"""One predictor over every RePose-TF model file: ``.keras``, ``.weights.h5``, ``.tflite``, ``.onnx``.

    p = Predictor.load("models/repose_lsp14_int8.tflite", num_threads=2)
    hm = p.heatmaps(images)          # (B, n, n, 3) float32 RGB 0..255 -> (B, n, n, K) float32
    kp, scores = p.predict(images)   # codec.decode of the heatmaps, crop pixels

Every runtime takes the same input (RGB 0..255, the model normalises internally) and returns
float32 heatmaps, so evaluation (:mod:`repose_tf.evaluate`), export verification
(:mod:`repose_tf.export.verify`) and inference share one code path.

* ``.keras`` / ``.weights.h5``: loaded by :func:`repose_tf.loading.load_repose` (a ``.weights.h5``
  file takes ``config=`` or the JSON beside it); its inference form (final heatmaps only) is run.
* ``.tflite``: run with ``ai_edge_litert.interpreter.Interpreter`` (XNNPACK on by default);
  input/output located by signature names (output ``heatmaps``, else the only output);
  uint8/int8 I/O (de)quantised from the tensor details, exactly as the sidecar specifies. The
  keypoint set comes from the sidecar beside the model, else from the number of channels.
* ``.onnx``: onnxruntime (CPU); keypoint set from the model's metadata, else the channel count.

Errors are :class:`~repose_tf.loading.ModelLoadError` (a ``ValueError``) with a one-line reason:
missing file, unknown extension, not a RePose model, unreadable file. File kinds, loading a Keras
model and resolving its config live in :mod:`repose_tf.loading`; their names are re-exported here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from repose_tf import codec
from repose_tf.keypoints import KeypointSet, get_keypoint_set
from repose_tf.loading import (  # re-exported: users import them from here
    KINDS,
    ModelLoadError,
    as_float32,
    find_preset,
    load_repose,
    model_kind,
    resolve_config,
)
from repose_tf.loading import check_model_file as _check_file
from repose_tf.loading import short_error as _short
from repose_tf.sidecar import read_sidecar, sidecar_path

__all__ = [
    "KINDS",
    "KerasPredictor",
    "ModelLoadError",
    "OnnxPredictor",
    "Predictor",
    "TFLitePredictor",
    "as_float32",
    "find_preset",
    "load_repose",
    "model_kind",
    "resolve_config",
]

#: Keypoint set by output channel count, for files that carry no metadata.
_SET_BY_CHANNELS = {14: "lsp14", 16: "mpii16", 17: "coco17"}


def _keypoint_set_for_channels(k: int, where: str) -> KeypointSet:
    if k not in _SET_BY_CHANNELS:
        raise ModelLoadError(f"{where}: output has {k} channels; no known keypoint set has that many")
    return get_keypoint_set(_SET_BY_CHANNELS[k])


class Predictor:
    """Base class and factory. Subclasses set ``kind``, ``input_size``, ``keypoint_set``."""

    kind: str = ""
    path: Path | None = None
    input_size: int = 0
    keypoint_set: KeypointSet
    num_threads: int | None = None

    @staticmethod
    def load(path: str | os.PathLike, num_threads: int | None = None, config: Any = None) -> Predictor:
        """A predictor for a model file; the runtime is chosen by the extension."""
        p = _check_file(path)
        kind = model_kind(p)
        if kind in ("keras", "weights"):
            return KerasPredictor(load_repose(p, config=config), path=p)
        if kind == "tflite":
            return TFLitePredictor(p, num_threads=num_threads)
        return OnnxPredictor(p, num_threads=num_threads)

    @staticmethod
    def from_model(model, batch_size: int = 16) -> KerasPredictor:
        """Wrap an in-memory RePose model (training or inference form)."""
        return KerasPredictor(model, batch_size=batch_size)

    # -- inference --------------------------------------------------------------------------
    def _check_images(self, images) -> np.ndarray:
        x = np.asarray(images, dtype=np.float32)
        if x.ndim == 3:
            x = x[None]
        n = self.input_size
        if x.ndim != 4 or x.shape[1:] != (n, n, 3):
            raise ValueError(f"images must be (B, {n}, {n}, 3) RGB 0..255, got shape {x.shape}")
        return x

    def heatmaps(self, images: np.ndarray) -> np.ndarray:
        """(B, n, n, 3) float32 RGB 0..255 -> (B, n, n, K) float32 heatmaps."""
        x = self._check_images(images)
        return self._heatmaps(x).astype(np.float32, copy=False)

    def _heatmaps(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints (B, K, 2) xy in input (crop) pixels and scores (B, K)."""
        return codec.decode(self.heatmaps(images))

    __call__ = heatmaps

    def describe(self) -> str:
        name = self.path.name if self.path else "in-memory model"
        return f"{self.kind} {name}: input {self.input_size}x{self.input_size}, {self.keypoint_set.name}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


class KerasPredictor(Predictor):
    """A RePose Keras model; runs its inference form with ``predict_on_batch`` (fixed chunks)."""

    kind = "keras"

    def __init__(self, model, path: Path | None = None, batch_size: int = 16):
        from repose_tf.model import RePose  # Keras loads on first use, not with the runtime

        if not isinstance(model, RePose):
            raise ModelLoadError(f"expected a RePose model, got {type(model).__name__}")
        self.source_model = model
        self.model = model.inference_model()
        self.config = model.repose_config
        self.path = Path(path) if path is not None else None
        self.input_size = int(self.config.input_size)
        self.keypoint_set = get_keypoint_set(self.config.keypoint_set)
        self.batch_size = int(batch_size)

    def refresh(self) -> None:
        """Re-copy the source model's current weights into the inference form (a training model's
        predictor reused across validations: one traced predict function per run, not per check)."""
        if self.model is not self.source_model:
            from repose_tf.model import copy_weights_by_name

            copy_weights_by_name(self.source_model, self.model)

    def _heatmaps(self, x: np.ndarray) -> np.ndarray:
        b = self.batch_size
        out = []
        for i in range(0, len(x), b):
            chunk = x[i : i + b]
            m = len(chunk)
            if m < b and len(x) > b:  # pad to a constant shape: one traced function
                chunk = np.concatenate([chunk, np.zeros((b - m, *chunk.shape[1:]), np.float32)])
            out.append(np.asarray(self.model.predict_on_batch(chunk), np.float32)[:m])
        return np.concatenate(out, axis=0)


class TFLitePredictor(Predictor):
    """A ``.tflite`` model run with LiteRT (XNNPACK delegate on, the default op resolver)."""

    kind = "tflite"

    def __init__(self, path: str | os.PathLike, num_threads: int | None = None, sidecar: dict | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = _check_file(path)
        self.num_threads = num_threads
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads)
        except (ValueError, RuntimeError) as e:
            raise ModelLoadError(f"{self.path}: not a valid TFLite model: {_short(e)}") from None
        it = self.interpreter
        inputs, outputs = it.get_input_details(), it.get_output_details()
        inp = out = None
        sigs = it.get_signature_list()
        if sigs:
            runner = it.get_signature_runner(next(iter(sigs)))
            sig_in, sig_out = runner.get_input_details(), runner.get_output_details()
            del runner  # it holds a reference to the interpreter; invoke() refuses to run while it lives
            if len(sig_in) == 1:
                inp = _match(next(iter(sig_in.values())), inputs)
            if "heatmaps" in sig_out:
                out = _match(sig_out["heatmaps"], outputs)
            elif len(sig_out) == 1:
                out = _match(next(iter(sig_out.values())), outputs)
        if inp is None:
            if len(inputs) != 1:
                raise ModelLoadError(
                    f"{self.path}: expected one input, found {len(inputs)}: not a RePose model"
                )
            inp = inputs[0]
        if out is None:
            four_d = [o for o in outputs if len(o["shape"]) == 4]
            if len(four_d) != 1:
                raise ModelLoadError(
                    f"{self.path}: cannot tell the heatmap output among {len(outputs)} outputs: "
                    "not a RePose model"
                )
            out = four_d[0]
        ishape, oshape = [int(s) for s in inp["shape"]], [int(s) for s in out["shape"]]
        if len(ishape) != 4 or ishape[3] != 3 or ishape[1] != ishape[2]:
            raise ModelLoadError(f"{self.path}: input shape {ishape} is not (1, n, n, 3): not a RePose model")
        if len(oshape) != 4 or oshape[1:3] != ishape[1:3]:
            raise ModelLoadError(
                f"{self.path}: output shape {oshape} is not (1, n, n, K) heatmaps: not a RePose model"
            )
        self.input_details, self.output_details = inp, out
        self.input_index, self.output_index = int(inp["index"]), int(out["index"])
        self.input_dtype = np.dtype(inp["dtype"])
        self.output_dtype = np.dtype(out["dtype"])
        self.input_quant = _quant(inp)
        self.output_quant = _quant(out)
        self.input_size = ishape[1]
        self.sidecar = sidecar if sidecar is not None else _read_sidecar_if_any(self.path)
        if self.sidecar is not None:
            self.keypoint_set = get_keypoint_set(self.sidecar["keypoint_set"])
        else:
            self.keypoint_set = _keypoint_set_for_channels(oshape[3], str(self.path))
        if self.keypoint_set.num_keypoints != oshape[3]:
            raise ModelLoadError(
                f"{self.path}: output has {oshape[3]} channels but the sidecar names {self.keypoint_set.name}"
            )
        if ishape[0] != 1:
            it.resize_tensor_input(self.input_index, [1, *ishape[1:]])
        it.allocate_tensors()

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Float RGB 0..255 -> the input tensor's dtype (sidecar rule: floor(v / s + 0.5) + zp, clipped)."""
        if self.input_quant is None:
            return x.astype(self.input_dtype, copy=False)
        scale, zp = self.input_quant
        info = np.iinfo(self.input_dtype)
        q = np.floor(x / scale + 0.5) + zp
        return np.clip(q, info.min, info.max).astype(self.input_dtype)

    def dequantize_output(self, y: np.ndarray) -> np.ndarray:
        if self.output_quant is None:
            return y.astype(np.float32, copy=False)
        scale, zp = self.output_quant
        return ((y.astype(np.float32) - zp) * scale).astype(np.float32)

    def invoke(self, x_one: np.ndarray) -> np.ndarray:
        """Run one already-quantised (1, n, n, 3) input; returns the raw output tensor (a copy)."""
        it = self.interpreter
        it.set_tensor(self.input_index, x_one)
        it.invoke()
        return it.get_tensor(self.output_index)

    def _heatmaps(self, x: np.ndarray) -> np.ndarray:
        q = self.quantize_input(x)
        return np.concatenate([self.dequantize_output(self.invoke(q[i : i + 1])) for i in range(len(q))])


def _match(sig_detail: dict, details: list[dict]) -> dict:
    """The full tensor details for a signature entry (signature details may lack 'index')."""
    for d in details:
        if d["name"] == sig_detail.get("name") or (
            "index" in sig_detail and d["index"] == sig_detail["index"]
        ):
            return d
    return sig_detail


def _quant(d: dict) -> tuple[float, int] | None:
    dtype = np.dtype(d["dtype"])
    if dtype.kind not in "iu":
        return None
    scale, zp = d["quantization"]
    if not scale:
        raise ModelLoadError(f"tensor {d['name']} is {dtype} without quantisation parameters")
    return float(scale), int(zp)


def _read_sidecar_if_any(path: Path) -> dict | None:
    if not sidecar_path(path).is_file():
        return None
    return read_sidecar(sidecar_path(path))


class OnnxPredictor(Predictor):
    """An ``.onnx`` model run with onnxruntime's CPU execution provider."""

    kind = "onnx"

    def __init__(self, path: str | os.PathLike, num_threads: int | None = None, batch_size: int = 16):
        import onnxruntime as ort

        self.path = _check_file(path)
        self.num_threads = num_threads
        self.batch_size = int(batch_size)
        opts = ort.SessionOptions()
        if num_threads:
            opts.intra_op_num_threads = int(num_threads)
            opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ModelLoadError(f"{self.path}: not a valid ONNX model: {_short(e)}") from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1:
            raise ModelLoadError(f"{self.path}: expected one input, found {len(inputs)}: not a RePose model")
        out = next((o for o in outputs if o.name == "heatmaps"), outputs[0] if len(outputs) == 1 else None)
        if out is None:
            raise ModelLoadError(f"{self.path}: cannot tell the heatmap output among {len(outputs)} outputs")
        ishape, oshape = inputs[0].shape, out.shape
        if len(ishape) != 4 or ishape[3] != 3 or not isinstance(ishape[1], int) or ishape[1] != ishape[2]:
            raise ModelLoadError(f"{self.path}: input shape {ishape} is not (B, n, n, 3): not a RePose model")
        if len(oshape) != 4 or not isinstance(oshape[3], int):
            raise ModelLoadError(
                f"{self.path}: output shape {oshape} is not (B, n, n, K): not a RePose model"
            )
        self.input_name, self.output_name = inputs[0].name, out.name
        self.input_size = int(ishape[1])
        self.dynamic_batch = not isinstance(ishape[0], int)
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        name = self.metadata.get("keypoint_set")
        self.keypoint_set = (
            get_keypoint_set(name) if name else _keypoint_set_for_channels(oshape[3], str(self.path))
        )

    def _heatmaps(self, x: np.ndarray) -> np.ndarray:
        b = self.batch_size if self.dynamic_batch else 1
        outs = [
            self.session.run([self.output_name], {self.input_name: x[i : i + b]})[0]
            for i in range(0, len(x), b)
        ]
        return np.concatenate(outs, axis=0)
