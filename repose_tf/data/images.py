"""Robust image loading: any common file -> 8-bit RGB, with clear errors for bad files.

OpenCV decodes (fast, and ``IMREAD_REDUCED_*`` lets libjpeg decode large JPEGs at 1/2, 1/4 or 1/8
resolution directly); Pillow is the fallback for files OpenCV cannot read. Handled: grayscale
(replicated to RGB), RGBA / LA (alpha-composited onto black, i.e. premultiplied), CMYK JPEGs,
16-bit and float images (scaled to 8 bits), palette images. Errors (``DataError``, naming the
file): missing, empty, truncated JPEG (no end-of-image marker), undecodable.

Pixel layout is the stored one: EXIF orientation is ignored by default because dataset
annotations refer to the stored pixels (pass ``apply_exif=True`` for camera photos at inference).
"""

from __future__ import annotations

import io
import os

import cv2
import numpy as np

from repose_tf.data.errors import DataError

__all__ = ["REDUCE_FACTORS", "image_size", "read_image", "reduced_to_original", "to_rgb8"]

REDUCE_FACTORS = (1, 2, 4, 8)
_REDUCED_FLAG = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def reduced_to_original(reduce: int) -> np.ndarray:
    """3x3 matrix taking pixel coords of an image decoded at 1/``reduce`` to original pixel coords.

    Reduced pixel j averages original pixels [j*r, (j+1)*r), whose centre is j*r + (r-1)/2.
    """
    r = float(reduce)
    o = (r - 1.0) / 2.0
    return np.array([[r, 0.0, o], [0.0, r, o], [0.0, 0.0, 1.0]])


def _jpeg_size(buf: np.ndarray) -> tuple[int, int] | None:
    """(H, W) from a JPEG's SOF marker, or None."""
    b = buf
    n = len(b)
    i = 2
    while i + 9 < n:
        if b[i] != 0xFF:
            return None
        marker = int(b[i + 1])
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        seg = (int(b[i + 2]) << 8) | int(b[i + 3])
        if marker in _SOF:
            h = (int(b[i + 5]) << 8) | int(b[i + 6])
            w = (int(b[i + 7]) << 8) | int(b[i + 8])
            return (h, w) if h > 0 and w > 0 else None
        i += 2 + seg
    return None


def _is_jpeg(buf: np.ndarray) -> bool:
    return len(buf) >= 3 and buf[0] == 0xFF and buf[1] == 0xD8 and buf[2] == 0xFF


def _jpeg_complete(buf: np.ndarray) -> bool:
    """A complete JPEG ends with the EOI marker FFD9 (possibly followed by a little padding).

    FF D9 cannot occur inside entropy-coded data (0xFF is always stuffed there), so its absence
    from the tail means the file was cut short.
    """
    tail = buf[-4096:].tobytes()
    return b"\xff\xd9" in tail


def to_rgb8(img: np.ndarray, path=None) -> np.ndarray:
    """Any OpenCV-decoded array (gray / BGR / BGRA, 8/16-bit or float) -> uint8 RGB (H, W, 3)."""
    if img is None or img.size == 0:
        raise DataError(path, "image decodes to nothing")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.dtype == np.uint8:
        pass
    elif img.dtype == np.uint16:
        img = ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif img.dtype == np.int8:
        img = (img.astype(np.int16) + 128).astype(np.uint8)
    elif np.issubdtype(img.dtype, np.floating):
        f = np.nan_to_num(img.astype(np.float32))
        scale = 255.0 if f.max(initial=0.0) <= 1.0 else 1.0
        img = np.clip(f * scale + 0.5, 0, 255).astype(np.uint8)
    else:
        raise DataError(path, f"unsupported pixel type {img.dtype}")
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    c = img.shape[2]
    if c == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if c == 4:
        a = img[..., 3:4].astype(np.float32) / 255.0
        rgb = img[..., 2::-1].astype(np.float32) * a
        return np.ascontiguousarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8))
    if c == 2:  # gray + alpha
        a = img[..., 1].astype(np.float32) / 255.0
        g = np.clip(img[..., 0] * a + 0.5, 0, 255).astype(np.uint8)
        return cv2.cvtColor(g, cv2.COLOR_GRAY2RGB)
    raise DataError(path, f"unsupported channel count {c}")


def _read_bytes(path) -> np.ndarray:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(path, "image file not found")
    try:
        buf = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise DataError(path, f"cannot read image file ({e})") from e
    if buf.size == 0:
        raise DataError(path, "image file is empty")
    return buf


def _pillow_decode(buf: np.ndarray, path) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(buf.tobytes())) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                im = im.convert("RGBA")
                arr = np.asarray(im)
                return to_rgb8(arr[..., [2, 1, 0, 3]], path)
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im).astype(np.float32) / 65535.0
                return to_rgb8(arr, path)
            return np.ascontiguousarray(np.asarray(im.convert("RGB")))
    except DataError:
        raise
    except Exception as e:  # Pillow raises many types for bad files
        raise DataError(path, f"cannot decode image ({type(e).__name__}: {e})") from e


def read_image(path, reduce: int = 1, apply_exif: bool = False) -> tuple[np.ndarray, tuple[int, int]]:
    """Read ``path`` as uint8 RGB ``(h, w, 3)``, optionally decoded at 1/``reduce`` resolution.

    Returns ``(image, (H, W))`` where ``(H, W)`` is the size of the full-resolution image. With
    ``reduce > 1`` the image pixel ``j`` corresponds to original coordinate ``reduce*j +
    (reduce-1)/2`` (see :func:`reduced_to_original`). JPEGs are decoded reduced by libjpeg;
    other formats are decoded fully and shrunk with ``INTER_AREA``.
    """
    if reduce not in _REDUCED_FLAG:
        raise ValueError(f"reduce must be one of {REDUCE_FACTORS}, got {reduce}")
    buf = _read_bytes(path)
    exif_flag = 0 if apply_exif else cv2.IMREAD_IGNORE_ORIENTATION
    if _is_jpeg(buf):
        if not _jpeg_complete(buf):
            raise DataError(path, "truncated JPEG (no end-of-image marker); the file is incomplete")
        size = _jpeg_size(buf)
        img = cv2.imdecode(buf, _REDUCED_FLAG[reduce] | exif_flag)
        if img is not None and size is not None and not apply_exif:
            return cv2.cvtColor(img, cv2.COLOR_BGR2RGB), size
        if img is not None:
            rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            if reduce == 1:
                return rgb, rgb.shape[:2]
            full = cv2.imdecode(buf, cv2.IMREAD_COLOR | exif_flag)
            return rgb, full.shape[:2]
        rgb = _pillow_decode(buf, path)
    else:
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED | exif_flag)
        rgb = to_rgb8(img, path) if img is not None else _pillow_decode(buf, path)
    full_size = rgb.shape[:2]
    if reduce > 1:
        # fx = 1/r keeps OpenCV's mapping src = r*dst + (r-1)/2 exact (INTER_AREA averages r x r)
        rgb = cv2.resize(rgb, (0, 0), fx=1.0 / reduce, fy=1.0 / reduce, interpolation=cv2.INTER_AREA)
    return rgb, full_size


def image_size(path) -> tuple[int, int]:
    """(H, W) of an image file from its header (Pillow; no full decode)."""
    from PIL import Image

    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(path, "image file not found")
    try:
        with Image.open(path) as im:
            w, h = im.size
    except Exception as e:
        raise DataError(path, f"cannot read image header ({type(e).__name__}: {e})") from e
    return h, w
