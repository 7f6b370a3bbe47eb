"""Export a RePose model to TFLite: ``python tools/export_tflite.py --help`` (also ``repose-export``).

The command line lives in :mod:`repose_tf.export.__main__` (``python -m repose_tf.export``); the
conversion in :mod:`repose_tf.export.tflite`. This script keeps the documented path working.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from repose_tf.export.__main__ import _stem, parse_args  # noqa: E402, F401  (kept importable here)
from repose_tf.export.__main__ import main as _main  # noqa: E402


def main(argv=None) -> int:
    return _main(argv, prog="export_tflite.py")


if __name__ == "__main__":
    sys.exit(main())
