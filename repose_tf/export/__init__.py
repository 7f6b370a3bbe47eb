"""Export: TFLite / ONNX conversion, sidecars and verification.

The library behind ``tools/export_tflite.py``, ``tools/export_onnx.py`` and ``tools/qat.py``
(the scripts only parse flags)::

    from repose_tf.export import export_tflite, export_onnx, verify_export
    res = export_tflite("models/repose_lsp14.keras", "out/m_int8.tflite", quantize="int8",
                        calibration="../shared/data/lspet", io="uint8")
    print(res.summary())
    print(verify_export(res.path, "models/repose_lsp14.keras", limit=200).summary())

Importing this package stays light (no TensorFlow); the names below load their module on use.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = [
    "ExportError",
    "ExportResult",
    "VerifyReport",
    "atomic_output",
    "check_manifest",
    "export_onnx",
    "export_tflite",
    "export_tflite_variants",
    "inspect_tflite",
    "package_model",
    "reference_run",
    "run_qat",
    "verify_and_report",
    "verify_export",
    "xnnpack_coverage",
]

_LAZY = {
    "export_tflite": "repose_tf.export.tflite",
    "export_tflite_variants": "repose_tf.export.tflite",
    "xnnpack_coverage": "repose_tf.export.tflite",
    "inspect_tflite": "repose_tf.export.tflite",
    "ExportResult": "repose_tf.export.tflite",
    "export_onnx": "repose_tf.export.onnx",
    "verify_export": "repose_tf.export.verify",
    "verify_and_report": "repose_tf.export.verify",
    "reference_run": "repose_tf.export.verify",
    "VerifyReport": "repose_tf.export.verify",
    "run_qat": "repose_tf.export.qat",
    "package_model": "repose_tf.export.package",
    "check_manifest": "repose_tf.export.package",
}


class ExportError(RuntimeError):
    """An export could not be done; the message says why in one or two lines (no TF traceback)."""


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield a temp path in the target's directory; ``os.replace`` it onto ``path`` on success.

    On any failure the temp file is removed and ``path`` is left as it was, so a failed export
    never leaves a half-written model behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise ExportError(f"the converter wrote nothing for {path}")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
