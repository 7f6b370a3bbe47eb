"""Golden fixtures for the Android demo's pure-Kotlin core (android_demo/core JVM tests).

    python tools/make_android_fixtures.py --tflite models/repose_lsp14_int8.tflite \\
        --image ../shared/data/images/squat.bmp --out build/android_fixtures

Reads the sidecar beside the model (same stem, ``.json``), prepares the model input from the
RGB image exactly as ``com.repose.core.SquareResizer`` / ``TensorIO`` do, runs the model with
``ai_edge_litert``, decodes with ``repose_tf.codec.decode`` and writes into ``--out``:

=========================  =====================================================================
``manifest.json``          sizes, dtypes, quantisation, crop window and the file names below
``sidecar.json``           a copy of the model's sidecar (the Kotlin parser reads it)
``rgb.u8``                 the image, H x W x 3 RGB uint8
``image.nv21``             the image as NV21 (Y plane, then interleaved V/U), from OpenCV
``rgb_from_nv21.u8``       OpenCV's ``COLOR_YUV2RGB_NV21`` of ``image.nv21`` (reference for YUV->RGB)
``input_pixels.f32``       model input before quantisation: S x S x 3 float32 RGB 0..255
``input.bin``              the input tensor exactly as fed (float32, uint8 or int8)
``output_raw.bin``         the output tensor as the interpreter returned it
``heatmaps.f32``           dequantised heatmaps, H x W x K float32
``keypoints_input.f32``    decoded keypoints, K x 2 (x, y) float32, model-input pixels
``scores.f32``             K float32
``keypoints_source.f32``   keypoints mapped back to the image, K x 2 float32
=========================  =====================================================================

All binary files are raw little-endian arrays, C order. Nothing here is meant to be committed:
tests generate the fixtures into a temporary directory at run time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from repose_tf.codec import decode  # noqa: E402
from repose_tf.sidecar import read_sidecar, sidecar_path  # noqa: E402

_NP_DTYPES = {"float32": np.float32, "uint8": np.uint8, "int8": np.int8}


def load_rgb(path: str | Path) -> np.ndarray:
    """An image file as H x W x 3 RGB uint8."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def square_window(width: int, height: int, crop: str) -> tuple[float, float, float]:
    """(x0, y0, side) of the square the model sees; as ``SquareWindow.of`` in the Kotlin core."""
    if crop == "center_square":
        side = min(width, height)
        return float((width - side) // 2), float((height - side) // 2), float(side)
    if crop == "letterbox":
        side = max(width, height)
        return (width - side) / 2.0, (height - side) / 2.0, float(side)
    raise ValueError(f"unknown crop {crop!r}")


def _axis(origin: float, side: float, extent: int, size: int, clamp_only: bool):
    u = np.arange(size, dtype=np.float64)
    s = origin + (u + 0.5) * (side / size) - 0.5
    inside = np.ones(size, dtype=bool) if clamp_only else (s >= -0.5) & (s <= extent - 0.5)
    c = np.clip(s, 0.0, float(extent - 1))
    i0 = np.floor(c).astype(np.int64)
    i1 = np.minimum(i0 + 1, extent - 1)
    return i0, i1, c - i0, inside


def resize_square(rgb: np.ndarray, window: tuple[float, float, float], size: int, crop: str) -> np.ndarray:
    """Bilinear, half-pixel centres, float64 maths stored as float32: ``SquareResizer.resize``."""
    h, w = rgb.shape[:2]
    x0, y0, side = window
    clamp_only = crop == "center_square"
    xi0, xi1, fx, in_x = _axis(x0, side, w, size, clamp_only)
    yi0, yi1, fy, in_y = _axis(y0, side, h, size, clamp_only)
    img = rgb.astype(np.float64)
    p00 = img[yi0][:, xi0]
    p01 = img[yi0][:, xi1]
    p10 = img[yi1][:, xi0]
    p11 = img[yi1][:, xi1]
    wx = fx[None, :, None]
    wy = fy[:, None, None]
    top = (1.0 - wx) * p00 + wx * p01
    bottom = (1.0 - wx) * p10 + wx * p11
    out = ((1.0 - wy) * top + wy * bottom).astype(np.float32)
    out[~(in_y[:, None] & in_x[None, :])] = 0.0
    return out


def quantize(values: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
    """``floor(v / scale + 0.5) + zero_point`` clipped: ``TensorIO.quantize``."""
    info = np.iinfo(_NP_DTYPES[dtype])
    q = np.floor(values.astype(np.float64) / scale + 0.5).astype(np.int64) + int(zero_point)
    return np.clip(q, info.min, info.max).astype(_NP_DTYPES[dtype])


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """``(q - zero_point) * scale`` in float64, stored as float32: ``TensorIO.dequantize``."""
    return ((q.astype(np.int64) - int(zero_point)).astype(np.float64) * scale).astype(np.float32)


def input_tensor(pixels: np.ndarray, spec: dict) -> np.ndarray:
    """The (1, S, S, 3) tensor the model gets, from float RGB pixels, as the sidecar says."""
    if spec["dtype"] == "float32":
        t = pixels.astype(np.float32)
    else:
        q = spec["quantization"]
        t = quantize(pixels, q["scale"], q["zero_point"], spec["dtype"])
    return t.reshape(spec["shape"])


def run_model(model_path: str | Path, sidecar: dict, tensor: np.ndarray) -> np.ndarray:
    """The raw heatmap output; outputs mapped by signature name where the model has a signature."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(model_path))
    sigs = interp.get_signature_list()
    if sigs:
        key = next(iter(sigs))
        runner = interp.get_signature_runner(key)
        (in_name,) = sigs[key]["inputs"]
        outs = runner(**{in_name: tensor})
        if "heatmaps" in outs:
            return np.asarray(outs["heatmaps"])
        by_tensor = {d["name"]: n for n, d in runner.get_output_details().items()}
        name = by_tensor.get(sidecar["output"]["name"])
        if name is None:
            if len(outs) != 1:
                raise SystemExit(f"cannot tell the heatmap output among signature outputs {sorted(outs)}")
            name = next(iter(outs))
        return np.asarray(outs[name])
    interp.allocate_tensors()
    interp.set_tensor(sidecar["input"]["index"], tensor)
    interp.invoke()
    return np.asarray(interp.get_tensor(sidecar["output"]["index"]))


def to_nv21(rgb: np.ndarray) -> np.ndarray:
    """NV21 bytes (Y, then interleaved V/U) of an even-sized RGB image, via OpenCV's I420."""
    import cv2

    h, w = rgb.shape[:2]
    i420 = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).reshape(-1)
    y = i420[: w * h]
    u = i420[w * h : w * h + w * h // 4]
    v = i420[w * h + w * h // 4 :]
    vu = np.empty(w * h // 2, dtype=np.uint8)
    vu[0::2] = v
    vu[1::2] = u
    return np.concatenate([y, vu])


def make_fixtures(tflite: str | Path, image: str | Path, out: str | Path, crop: str | None = None) -> dict:
    """Write the fixtures into ``out`` and return the manifest."""
    import cv2

    tflite, out = Path(tflite), Path(out)
    sidecar = read_sidecar(sidecar_path(tflite))
    crop = crop or sidecar["preprocess"]["crop"]
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sidecar_path(tflite), out / "sidecar.json")

    rgb = load_rgb(image)
    h, w = rgb.shape[:2]
    size = int(sidecar["input"]["shape"][1])
    window = square_window(w, h, crop)
    pixels = resize_square(rgb, window, size, crop)
    tensor = input_tensor(pixels, sidecar["input"])

    raw = run_model(tflite, sidecar, tensor)
    oq = sidecar["output"]["quantization"]
    heatmaps = raw.astype(np.float32) if oq is None else dequantize(raw, oq["scale"], oq["zero_point"])
    kp_in, scores = decode(heatmaps[0])
    stride = int(sidecar["output"]["stride"])
    if stride != 1:
        kp_in = ((kp_in + 0.5) * stride - 0.5).astype(np.float32)
    x0, y0, side = window
    origin = np.array([x0, y0], dtype=np.float64)
    kp_src = (origin + (kp_in.astype(np.float64) + 0.5) * (side / size) - 0.5).astype(np.float32)

    # YUV: the even-sized top-left part of the image (chroma is 2x2 subsampled).
    ew, eh = w - w % 2, h - h % 2
    nv21 = to_nv21(np.ascontiguousarray(rgb[:eh, :ew]))
    rgb_cv = cv2.cvtColor(nv21.reshape(eh * 3 // 2, ew), cv2.COLOR_YUV2RGB_NV21)

    def save(name: str, arr: np.ndarray, dtype) -> dict:
        a = np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<"))
        (out / name).write_bytes(a.tobytes())
        return {"file": name, "dtype": np.dtype(dtype).name, "shape": list(a.shape)}

    manifest = {
        "format": "repose-android-fixtures/1",
        "byte_order": "little",
        "model_file": tflite.name,
        "sidecar": "sidecar.json",
        "crop": crop,
        "window": {"x0": x0, "y0": y0, "side": side},
        "input_size": size,
        "image": {"width": w, "height": h, **save("rgb.u8", rgb, np.uint8)},
        "nv21": {"width": ew, "height": eh, **save("image.nv21", nv21, np.uint8)},
        "rgb_from_nv21": save("rgb_from_nv21.u8", rgb_cv, np.uint8),
        "input_pixels": save("input_pixels.f32", pixels, np.float32),
        "input": save("input.bin", tensor, tensor.dtype),
        "output_raw": save("output_raw.bin", raw, raw.dtype),
        "heatmaps": save("heatmaps.f32", heatmaps[0], np.float32),
        "keypoints_input": save("keypoints_input.f32", kp_in, np.float32),
        "scores": save("scores.f32", scores, np.float32),
        "keypoints_source": save("keypoints_source.f32", kp_src, np.float32),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--tflite", required=True, help="exported model; its sidecar (.json, same stem) beside it"
    )
    ap.add_argument("--image", required=True, help="an RGB image (any format Pillow reads)")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--crop", choices=["center_square", "letterbox"], help="default: the sidecar's")
    args = ap.parse_args(argv)
    m = make_fixtures(args.tflite, args.image, args.out, args.crop)
    n = sum(1 for v in m.values() if isinstance(v, dict) and "file" in v)
    print(
        f"wrote {n} arrays + manifest.json to {args.out} (input {m['input']['dtype']} {m['input']['shape']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
