"""The JSON sidecar written beside every exported ``.tflite`` model (same stem, ``.json``).

The sidecar tells an app (the Android demo's ``core`` module reads it) everything it needs to
feed the model and decode its output, so nothing is hard-coded on the device side. It is data
shared by the exporters (which write it), the runtime, the browser page and the app (which read
it), so the format lives here, below all of them: build, write, read and validate. Making one
from a ``.tflite`` file's tensors is part of exporting (:mod:`repose_tf.export.sidecar`).

Format ``repose-tflite-sidecar/1`` -- one JSON object::

    {
      "format": "repose-tflite-sidecar/1",
      "model_file": "repose_lsp14_int8.tflite",          # file name of the model, no directory
      "model": {"name": "RePose", "preset": "repose_lsp14", "params": 4012345, "gflops": 13.5},
      "keypoint_set": "lsp14",
      "keypoint_names": ["r_ankle", ...],                # K names, in output channel order
      "skeleton": [[0, 1], ...],                         # pairs of keypoint indices to draw
      "flip_pairs": [[0, 5], ...],                       # left/right pairs
      "input": {
        "name": "serving_default_input:0", "index": 0,   # interpreter tensor name and index
        "shape": [1, 128, 128, 3], "layout": "NHWC", "color": "RGB",
        "dtype": "float32" | "uint8" | "int8",
        "value_range": [0, 255],                         # the model normalises internally
        "quantization": null | {"scale": s, "zero_point": z}
      },
      "output": {
        "name": "StatefulPartitionedCall:0", "index": 123,
        "shape": [1, 128, 128, 14], "layout": "NHWC", "kind": "heatmaps", "stride": 1,
        "dtype": "float32" | "int8" | "uint8",
        "quantization": null | {"scale": s, "zero_point": z},
        "sigma": 5.0                                     # Gaussian sigma of the training targets
      },
      "decode": {"method": "argmax_quarter_offset", "coordinates": "input_pixels"},
      "preprocess": {"crop": "center_square" | "letterbox", "resize": "bilinear"},
      "quantize": "none" | "float16" | "dynamic" | "int8",
      "source": {"keras": "path/to/model.keras" | null, "exported_by": "repose_tf 0.1.0"}
    }

Conventions the consumer must follow:

* Input pixels are RGB values in ``value_range`` (0..255). A float32 input takes them as they
  are; an integer input takes ``q = floor(v / scale + 0.5) + zero_point`` clipped to the dtype's
  range. ``quantization`` is present exactly when the dtype is an integer type.
* An integer output is dequantised as ``(q - zero_point) * scale``.
* Heatmap coordinates: 0-based pixels of the model input with pixel *centres* at integer
  coordinates; ``stride`` input pixels per heatmap pixel (1: heatmap size == input size).
* ``decode.method`` ``argmax_quarter_offset``: per channel the first maximum in row-major order,
  then a step of 0.25 px toward the higher neighbour, in x and in y separately (no step on the
  border or when both neighbours are equal); the score is the maximum value.
* ``preprocess.crop`` ``center_square``: the largest centred square (side ``min(w, h)``, offset
  ``floor((w - side) / 2)``, ``floor((h - side) / 2)``) resized bilinearly with half-pixel centres
  (``src = x0 + (u + 0.5) * side / size - 0.5``, clamped at the border). ``letterbox``: the
  centred square of side ``max(w, h)``, zeros outside the image.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from repose_tf import __version__
from repose_tf.codec import default_sigma
from repose_tf.keypoints import get_keypoint_set

FORMAT = "repose-tflite-sidecar/1"
INPUT_DTYPES = ("float32", "uint8", "int8")
OUTPUT_DTYPES = ("float32", "int8", "uint8")
INTEGER_DTYPES = ("uint8", "int8")
QUANTIZE_MODES = ("none", "float16", "dynamic", "int8")
DECODE_METHODS = ("argmax_quarter_offset",)
CROPS = ("center_square", "letterbox")
RESIZES = ("bilinear",)

__all__ = [
    "CROPS",
    "FORMAT",
    "QUANTIZE_MODES",
    "SidecarError",
    "make_sidecar",
    "read_sidecar",
    "sidecar_path",
    "validate_sidecar",
    "write_sidecar",
]


class SidecarError(ValueError):
    """A sidecar is missing, malformed or inconsistent; the message names the file and the field."""


def sidecar_path(model_path: str | os.PathLike) -> Path:
    """The sidecar beside a model: same directory, same stem, ``.json``."""
    return Path(model_path).with_suffix(".json")


def _quant(q: Any) -> dict | None:
    """Normalise a quantization given as None, (scale, zero_point) or a dict; scale 0 means none."""
    if q is None:
        return None
    if isinstance(q, Mapping):
        scale, zp = q.get("scale"), q.get("zero_point")
    else:
        scale, zp = q
    if scale is None or float(scale) == 0.0:
        return None
    return {"scale": float(scale), "zero_point": int(zp)}


def _dtype_name(dtype: Any) -> str:
    """'float32' from a numpy dtype, a numpy type or a string."""
    name = getattr(dtype, "__name__", None) or str(getattr(dtype, "name", dtype))
    return {"float": "float32", "uint8_t": "uint8", "int8_t": "int8"}.get(name, name)


def make_sidecar(
    model_file: str,
    *,
    input_shape: Sequence[int] = (1, 128, 128, 3),
    input_dtype: Any = "float32",
    input_quantization: Any = None,
    input_name: str = "input",
    input_index: int = 0,
    output_shape: Sequence[int] = (1, 128, 128, 14),
    output_dtype: Any = "float32",
    output_quantization: Any = None,
    output_name: str = "heatmaps",
    output_index: int = 0,
    quantize: str = "none",
    preset: str = "repose_lsp14",
    keypoint_set: str = "lsp14",
    params: int = 0,
    gflops: float = 0.0,
    sigma: float | None = None,
    stride: int = 1,
    crop: str = "center_square",
    keras_path: str | os.PathLike | None = None,
) -> dict:
    """Build a sidecar dict (validated). Keypoint names, skeleton and flip pairs come from the set."""
    kps = get_keypoint_set(keypoint_set)
    in_shape = [int(s) for s in input_shape]
    out_shape = [int(s) for s in output_shape]
    if sigma is None:
        sigma = default_sigma(in_shape[1:3])
    in_dtype, out_dtype = _dtype_name(input_dtype), _dtype_name(output_dtype)
    in_q = _quant(input_quantization) if in_dtype in INTEGER_DTYPES else None
    out_q = _quant(output_quantization) if out_dtype in INTEGER_DTYPES else None
    sc = {
        "format": FORMAT,
        "model_file": Path(model_file).name,
        "model": {"name": "RePose", "preset": preset, "params": int(params), "gflops": float(gflops)},
        "keypoint_set": kps.name,
        "keypoint_names": list(kps.names),
        "skeleton": [list(e) for e in kps.skeleton],
        "flip_pairs": [list(p) for p in kps.flip_pairs],
        "input": {
            "name": str(input_name),
            "index": int(input_index),
            "shape": in_shape,
            "layout": "NHWC",
            "color": "RGB",
            "dtype": in_dtype,
            "value_range": [0, 255],
            "quantization": in_q,
        },
        "output": {
            "name": str(output_name),
            "index": int(output_index),
            "shape": out_shape,
            "layout": "NHWC",
            "kind": "heatmaps",
            "stride": int(stride),
            "dtype": out_dtype,
            "quantization": out_q,
            "sigma": float(sigma),
        },
        "decode": {"method": "argmax_quarter_offset", "coordinates": "input_pixels"},
        "preprocess": {"crop": crop, "resize": "bilinear"},
        "quantize": quantize,
        "source": {
            "keras": None if keras_path is None else str(keras_path),
            "exported_by": f"repose_tf {__version__}",
        },
    }
    validate_sidecar(sc)
    return sc


def write_sidecar(path: str | os.PathLike, sidecar: Mapping) -> Path:
    """Validate and write atomically (a temp file in the same directory, then ``os.replace``)."""
    path = Path(path)
    validate_sidecar(sidecar, where=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(sidecar, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_sidecar(path: str | os.PathLike) -> dict:
    """Read and validate a sidecar; a model path (``.tflite``) reads the sidecar beside it."""
    path = Path(path)
    if path.suffix == ".tflite":
        path = sidecar_path(path)
    if not path.is_file():
        raise SidecarError(f"sidecar not found: {path} (every exported model needs one beside it)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SidecarError(f"{path}: not valid JSON: {e}") from None
    validate_sidecar(data, where=str(path))
    return data


def _get(obj: Any, key: str, kind: type | tuple, where: str, field: str) -> Any:
    if not isinstance(obj, Mapping):
        raise SidecarError(f"{where}: '{field}' must be an object")
    if key not in obj:
        raise SidecarError(f"{where}: missing '{field}.{key}'" if field else f"{where}: missing '{key}'")
    v = obj[key]
    name = f"{field}.{key}" if field else key
    if isinstance(v, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise SidecarError(f"{where}: '{name}' must not be a boolean")
    if not isinstance(v, kind):
        raise SidecarError(f"{where}: '{name}' has type {type(v).__name__}, expected {kind}")
    return v


def _one_of(v: Any, allowed: Sequence, where: str, name: str) -> None:
    if v not in allowed:
        raise SidecarError(f"{where}: '{name}' is {v!r}, expected one of {list(allowed)}")


def _check_quant(t: Mapping, where: str, field: str) -> None:
    dtype = t["dtype"]
    q = t.get("quantization", "missing")
    if q == "missing":
        raise SidecarError(f"{where}: missing '{field}.quantization' (null for float tensors)")
    if dtype in INTEGER_DTYPES:
        if q is None:
            raise SidecarError(f"{where}: '{field}' is {dtype} but has no quantization")
        scale = _get(q, "scale", (int, float), where, f"{field}.quantization")
        zp = _get(q, "zero_point", int, where, f"{field}.quantization")
        if not scale > 0:
            raise SidecarError(f"{where}: '{field}.quantization.scale' must be > 0, got {scale}")
        lo, hi = (0, 255) if dtype == "uint8" else (-128, 127)
        if not lo <= zp <= hi:
            raise SidecarError(f"{where}: '{field}.quantization.zero_point' {zp} outside {dtype}")
    elif q is not None:
        raise SidecarError(f"{where}: '{field}' is {dtype} and must have quantization null")


def _check_shape(t: Mapping, where: str, field: str) -> list[int]:
    shape = _get(t, "shape", list, where, field)
    if len(shape) != 4 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape):
        raise SidecarError(f"{where}: '{field}.shape' must be 4 positive ints (NHWC), got {shape}")
    if shape[0] != 1:
        raise SidecarError(f"{where}: '{field}.shape' batch must be 1, got {shape}")
    if _get(t, "layout", str, where, field) != "NHWC":
        raise SidecarError(f"{where}: '{field}.layout' must be 'NHWC'")
    return shape


def validate_sidecar(sc: Any, where: str = "sidecar") -> None:
    """Raise :class:`SidecarError` naming the first problem found; return None when valid."""
    if not isinstance(sc, Mapping):
        raise SidecarError(f"{where}: top level must be a JSON object")
    fmt = _get(sc, "format", str, where, "")
    if fmt != FORMAT:
        raise SidecarError(f"{where}: unsupported format {fmt!r}, this reader knows {FORMAT!r}")
    model_file = _get(sc, "model_file", str, where, "")
    if not model_file or "/" in model_file or "\\" in model_file:
        raise SidecarError(f"{where}: 'model_file' must be a bare file name, got {model_file!r}")
    model = _get(sc, "model", Mapping, where, "")
    _get(model, "name", str, where, "model")
    _get(model, "preset", str, where, "model")
    _get(model, "params", int, where, "model")
    _get(model, "gflops", (int, float), where, "model")
    _get(sc, "keypoint_set", str, where, "")
    names = _get(sc, "keypoint_names", list, where, "")
    if not names or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise SidecarError(f"{where}: 'keypoint_names' must be unique strings")
    k = len(names)
    for key in ("skeleton", "flip_pairs"):
        pairs = _get(sc, key, list, where, "")
        for p in pairs:
            ok = isinstance(p, list) and len(p) == 2 and all(isinstance(i, int) and 0 <= i < k for i in p)
            if not ok:
                raise SidecarError(f"{where}: '{key}' entry {p!r} must be a pair of indices in 0..{k - 1}")

    inp = _get(sc, "input", Mapping, where, "")
    _get(inp, "name", str, where, "input")
    _get(inp, "index", int, where, "input")
    in_shape = _check_shape(inp, where, "input")
    if in_shape[3] != 3:
        raise SidecarError(f"{where}: 'input.shape' must have 3 channels, got {in_shape}")
    if _get(inp, "color", str, where, "input") != "RGB":
        raise SidecarError(f"{where}: 'input.color' must be 'RGB'")
    _one_of(_get(inp, "dtype", str, where, "input"), INPUT_DTYPES, where, "input.dtype")
    vr = _get(inp, "value_range", list, where, "input")
    if len(vr) != 2 or not all(isinstance(v, (int, float)) for v in vr) or not vr[0] < vr[1]:
        raise SidecarError(f"{where}: 'input.value_range' must be [lo, hi] with lo < hi, got {vr}")
    _check_quant(inp, where, "input")

    out = _get(sc, "output", Mapping, where, "")
    _get(out, "name", str, where, "output")
    _get(out, "index", int, where, "output")
    out_shape = _check_shape(out, where, "output")
    if _get(out, "kind", str, where, "output") != "heatmaps":
        raise SidecarError(f"{where}: 'output.kind' must be 'heatmaps'")
    stride = _get(out, "stride", int, where, "output")
    if stride < 1 or out_shape[1] * stride != in_shape[1] or out_shape[2] * stride != in_shape[2]:
        raise SidecarError(
            f"{where}: output {out_shape[1]}x{out_shape[2]} x stride {stride} "
            f"!= input {in_shape[1]}x{in_shape[2]}"
        )
    if out_shape[3] != k:
        raise SidecarError(f"{where}: output has {out_shape[3]} channels but there are {k} keypoint_names")
    _one_of(_get(out, "dtype", str, where, "output"), OUTPUT_DTYPES, where, "output.dtype")
    _check_quant(out, where, "output")
    sigma = _get(out, "sigma", (int, float), where, "output")
    if not sigma > 0:
        raise SidecarError(f"{where}: 'output.sigma' must be > 0")

    dec = _get(sc, "decode", Mapping, where, "")
    _one_of(_get(dec, "method", str, where, "decode"), DECODE_METHODS, where, "decode.method")
    _one_of(_get(dec, "coordinates", str, where, "decode"), ("input_pixels",), where, "decode.coordinates")
    pre = _get(sc, "preprocess", Mapping, where, "")
    _one_of(_get(pre, "crop", str, where, "preprocess"), CROPS, where, "preprocess.crop")
    _one_of(_get(pre, "resize", str, where, "preprocess"), RESIZES, where, "preprocess.resize")
    _one_of(_get(sc, "quantize", str, where, ""), QUANTIZE_MODES, where, "quantize")
    src = _get(sc, "source", Mapping, where, "")
    _get(src, "keras", (str, type(None)), where, "source")
    _get(src, "exported_by", str, where, "source")
