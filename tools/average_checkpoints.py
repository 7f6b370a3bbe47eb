"""Average several checkpoints of one run into one model (weight averaging, as in SWA).

    python tools/average_checkpoints.py --output RUN/averaged.keras RUN/step-1400.keras RUN/step-1500.keras
    python tools/average_checkpoints.py --output avg.keras a.keras b.keras --weights 2,1

Checkpoints from the low-rate end of a schedule lie in one basin; their element-wise mean
(BatchNorm statistics included) often scores better than any one of them, for no training.
Writes a float32 training-form .keras without optimizer state (what tools/ship_model.py packages
and `python -m repose_tf.train --init_weights` continues from) and X.averaging.json beside it
(sources, SHA-256, weights), which a release made from it copies into its manifest. Score it
before shipping: python -m repose_tf.evaluate --model X.keras --dataset lspet --data_dir ...
The logic lives in repose_tf.training.averaging.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from repose_tf.cli import HelpFormatter, refuse  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="average_checkpoints.py", description=__doc__, formatter_class=HelpFormatter
    )
    p.add_argument("checkpoints", nargs="+", help="Two or more .keras checkpoints of one run.")
    p.add_argument("--output", required=True, help="The averaged model (.keras).")
    p.add_argument("--weights", default=None, help="Comma-separated weight per checkpoint (default: equal).")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    weights = None
    if args.weights:
        try:
            weights = [float(x) for x in args.weights.split(",")]
        except ValueError:
            return refuse(f"--weights {args.weights!r}: expected numbers separated by commas")
    from repose_tf.export import ExportError
    from repose_tf.training.averaging import average_checkpoints

    try:
        average_checkpoints(args.checkpoints, args.output, weights=weights)
    except (ExportError, FileNotFoundError, ValueError) as e:
        return refuse(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
