"""ONNX export with ``tf2onnx.convert.from_keras`` (1.17 converts Keras 3 models: docs/architecture.md).

    res = export_onnx("models/repose_lsp14.keras", "out/repose_lsp14.onnx")   # opset 17

The inference form is converted with a dynamic batch (``image``: ``(B, n, n, 3)`` float32 RGB
0..255, NHWC as in Keras; output ``heatmaps`` ``(B, n, n, K)``). Opset 17 (default): the newest
tf2onnx 1.17 tests against, with the ``Resize`` semantics (half-pixel bilinear) the model's
resizes need; onnxruntime 1.32 runs it. The keypoint set, input size, preset, target sigma and
the RePoseConfig are stored in the model's ``metadata_props`` so :class:`repose_tf.runtime.
OnnxPredictor` needs no sidecar. The file is checked with ``onnx.checker`` and opened with
onnxruntime before it is moved into place.
"""

from __future__ import annotations

import contextlib
import io as _io
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from repose_tf.export import ExportError, atomic_output
from repose_tf.export.tflite import (
    ExportResult,
    OpReport,
    export_wrapper,
    load_inference_model,
    model_metadata,
)

__all__ = ["DEFAULT_OPSET", "export_onnx", "onnx_ops"]

DEFAULT_OPSET = 17


def onnx_ops(model_proto) -> OpReport:
    hist = Counter(n.op_type for n in model_proto.graph.node)
    custom = sorted({n.op_type for n in model_proto.graph.node if n.domain not in ("", "ai.onnx")})
    return OpReport(dict(hist.most_common()), sum(hist.values()), custom, 0, 1)


def export_onnx(
    model: Any,
    output: str | os.PathLike,
    *,
    opset: int = DEFAULT_OPSET,
    config: Any = None,
    log=None,
) -> ExportResult:
    """Convert ``model`` (RePose or .keras / .weights.h5 path) to ONNX at ``output`` (atomic write)."""
    say = log or (lambda msg: None)
    output = Path(output)
    if output.suffix != ".onnx":
        raise ExportError(f"output must end in .onnx, got {output}")
    if not 13 <= int(opset) <= 18:
        raise ExportError(
            f"unsupported ONNX opset {opset}; tf2onnx 1.17 handles 13..18 (default {DEFAULT_OPSET})"
        )
    t0 = time.perf_counter()
    keras_model, source = load_inference_model(model, config)
    meta = model_metadata(keras_model)
    import onnx
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    n = meta["input_size"]
    spec = (tf.TensorSpec((None, n, n, 3), tf.float32, name="image"),)
    say(f"converting to ONNX (opset {opset}) ...")
    try:
        with contextlib.redirect_stdout(_io.StringIO()):
            proto, _ = tf2onnx.convert.from_keras(
                export_wrapper(keras_model), input_signature=spec, opset=int(opset)
            )
    except Exception as e:  # noqa: BLE001 - report in one line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ExportError(f"ONNX conversion failed: {first}") from None
    outs = [o.name for o in proto.graph.output]
    if len(outs) != 1:
        raise ExportError(f"expected one ONNX output, got {outs}")
    props = {
        "producer": "repose_tf",
        "keypoint_set": meta["keypoint_set"],
        "input_size": str(n),
        "preset": meta["preset"],
        "sigma": str(meta["sigma"]),
        "params": str(meta["params"]),
        "gflops": str(meta["gflops"]),
        "layout": "NHWC",
        "input_range": "RGB 0..255",
        "repose_config": json.dumps(meta["config"]),
    }
    onnx.helper.set_model_props(proto, props)
    ops = onnx_ops(proto)
    if ops.custom_ops:
        raise ExportError(
            f"converted ONNX model uses non-standard ops {ops.custom_ops}; refusing to write it"
        )
    with atomic_output(output) as tmp:
        onnx.save(proto, str(tmp))
        try:
            onnx.checker.check_model(str(tmp))
            ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001
            raise ExportError(f"the converted ONNX model does not load: {str(e).splitlines()[0]}") from None
    return ExportResult(
        path=output,
        format="onnx",
        quantize="none",
        io="float",
        size_bytes=output.stat().st_size,
        seconds=time.perf_counter() - t0,
        source=str(source) if source else None,
        metadata=meta,
        ops=ops,
        extra={"opset": int(opset), "output_name": outs[0]},
    )
