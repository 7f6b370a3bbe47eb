"""The browser demo against native LiteRT: the real page in headless Chromium, timed per frame.

    python tools/benchmark_web.py                       # both shipped models, threads off and on
    python tools/benchmark_web.py --variants int8 --threads off --frames 5 --no_write
    python tools/benchmark_web.py --screenshot docs/img/web_demo.png --screenshot_only

A thin CLI over :mod:`repose_tf.web_benchmark` (``--help`` says what is measured and how). Needs
chromium + chromedriver (apt), selenium (requirements-dev.txt) and the LiteRT.js runtime
(``cd web_demo && npm ci``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repose_tf.web_benchmark import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
