"""Sidecars for exported models: :func:`sidecar_from_tflite` reads a ``.tflite`` file's tensors.

The sidecar format itself (build, write, read, validate) is shared data and lives in
:mod:`repose_tf.sidecar`; its names are re-exported here, where exporters and users import them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from repose_tf.sidecar import (  # re-exported: the format's home is repose_tf.sidecar
    CROPS,
    DECODE_METHODS,
    FORMAT,
    INPUT_DTYPES,
    INTEGER_DTYPES,
    OUTPUT_DTYPES,
    QUANTIZE_MODES,
    RESIZES,
    SidecarError,
    make_sidecar,
    read_sidecar,
    sidecar_path,
    validate_sidecar,
    write_sidecar,
)

__all__ = [
    "CROPS",
    "DECODE_METHODS",
    "FORMAT",
    "INPUT_DTYPES",
    "INTEGER_DTYPES",
    "OUTPUT_DTYPES",
    "QUANTIZE_MODES",
    "RESIZES",
    "SidecarError",
    "make_sidecar",
    "read_sidecar",
    "sidecar_from_tflite",
    "sidecar_path",
    "validate_sidecar",
    "write_sidecar",
]


def sidecar_from_tflite(model_path: str | os.PathLike, **kwargs: Any) -> dict:
    """A sidecar for an existing ``.tflite`` file, reading tensor names/shapes/dtypes/quantization.

    The heatmap output is the signature output named ``heatmaps`` when there is one, else the
    only 4-D output. ``kwargs`` go to :func:`make_sidecar` (``quantize``, ``params``, ...).
    """
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(model_path))
    inputs = interp.get_input_details()
    outputs = interp.get_output_details()
    if len(inputs) != 1:
        raise SidecarError(f"{model_path}: expected one input tensor, found {len(inputs)}")
    inp = inputs[0]
    out = None
    sigs = interp.get_signature_list()
    if sigs:
        runner = interp.get_signature_runner(next(iter(sigs)))
        sig_outs = runner.get_output_details()
        if "heatmaps" in sig_outs:
            out = sig_outs["heatmaps"]
        elif len(sig_outs) == 1:
            out = next(iter(sig_outs.values()))
        if out is not None:  # signature details lack 'index' on some versions: match by name
            out = next((o for o in outputs if o["name"] == out["name"]), out)
    if out is None:
        four_d = [o for o in outputs if len(o["shape"]) == 4]
        if len(four_d) != 1:
            raise SidecarError(f"{model_path}: cannot tell the heatmap output among {len(outputs)} outputs")
        out = four_d[0]
    kwargs.setdefault("output_index", int(out.get("index", 0)))
    return make_sidecar(
        Path(model_path).name,
        input_shape=inp["shape"],
        input_dtype=inp["dtype"],
        input_quantization=inp["quantization"],
        input_name=inp["name"],
        input_index=int(inp["index"]),
        output_shape=out["shape"],
        output_dtype=out["dtype"],
        output_quantization=out["quantization"],
        output_name=out["name"],
        **kwargs,
    )
