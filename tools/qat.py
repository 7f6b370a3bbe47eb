"""Quantisation-aware fine-tuning (tensorflow-model-optimization, legacy tf_keras) -> int8 TFLite.

    pip install -r requirements-qat.txt
    python tools/qat.py --model models/repose_lsp14.keras --data_dir ../shared/data/lspet \\
        --steps 500 --output out/repose_lsp14_qat.tflite

The same as ``repose-export --quantize qat ...`` (``tools/export_tflite.py --quantize qat``), run
in this process with ``TF_USE_LEGACY_KERAS=1`` set before TensorFlow is imported (the export CLI
starts such a process for it). Every flag of the export CLI applies; see ``--help``. Logic:
repose_tf.export.qat, writing through repose_tf.export.tflite.write_tflite.
"""

from __future__ import annotations

import os
import sys

# tfmot works only on tf_keras: set before TensorFlow is imported (docs/architecture.md "Toolchain facts").
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from repose_tf.export.__main__ import main as _export_main  # noqa: E402


def main(argv=None) -> int:
    """``--quantize qat`` plus ``argv`` (default ``sys.argv[1:]``) through the export CLI."""
    argv = sys.argv[1:] if argv is None else list(argv)
    return _export_main(["--quantize", "qat", *argv], prog="qat.py")


if __name__ == "__main__":
    sys.exit(main())
