"""Package a trained checkpoint into ``models/``: weights + config, float16 and int8 TFLite, manifest.

    python tools/ship_model.py --checkpoint runs/lspet/checkpoint.keras          # -> models/
    python tools/ship_model.py --checkpoint runs/lspet/model.keras --output_dir /tmp/release
    python tools/ship_model.py --checkpoint RUN/checkpoint.keras --continues models/manifest.json
    python tools/ship_model.py --regenerate                                     # a fresh clone's models/

Writes <name>.keras (training form without optimizer state, weights stored in float16 where
float16 holds them: ``python -m repose_tf.train --init_weights models/<name>.keras`` continues from
it), <name>_int8.tflite (calibrated on --num_calibration real crops, float I/O) and
<name>_float16.tflite with their JSON sidecars, and manifest.json (sizes, SHA-256, model metadata,
the run's step / samples seen / validation history from the state.json beside the checkpoint).
The float16 TFLite is *derived*: git-ignored, not committed, and remade from the .keras by
--regenerate (the commands that need it do that on first use). Refuses a release over --max_mb
(each replacement stays in git history). Then measure it (tools/evaluate_models.py,
tools/compare_peers.py) and update the model card (models/MODEL_CARD.md). The logic lives in
repose_tf.export.package.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from repose_tf.cli import HelpFormatter, refuse  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="ship_model.py", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--checkpoint", default=None, help="Training checkpoint or model (.keras / .weights.h5).")
    p.add_argument(
        "--regenerate",
        action="store_true",
        help="Make the derived files (float16 TFLite + sidecar) of the release in --output_dir from its "
        "committed .keras, instead of packaging a checkpoint (what a fresh clone needs; no data).",
    )
    p.add_argument("--force", action="store_true", help="With --regenerate: remake them even if present.")
    p.add_argument("--output_dir", default=str(REPO / "models"), help="Release directory.")
    p.add_argument("--name", default="repose_lsp14", help="File stem of the release files.")
    p.add_argument(
        "--calibration_dir",
        default=None,
        help="int8 calibration data: dataset dir or image dir (default: ../shared/data/lspet).",
    )
    p.add_argument("--num_calibration", type=int, default=200, help="int8 calibration crops.")
    p.add_argument("--seed", type=int, default=0, help="Which calibration crops are drawn.")
    p.add_argument("--max_mb", type=float, default=30.0, help="Size budget of the whole release.")
    p.add_argument(
        "--continues",
        default=None,
        metavar="MANIFEST",
        help="manifest.json of the release the run started from (--init_weights), e.g. "
        "models/manifest.json: its training stretches stay in front of this run's, so the learning "
        "curve and the samples / CPU-hours in the manifest cover the whole campaign.",
    )
    args = p.parse_args(argv)
    if args.regenerate == (args.checkpoint is not None):
        p.error("give --checkpoint (package a release) or --regenerate (remake its derived files), not both")
    if args.force and not args.regenerate:
        p.error("--force only applies to --regenerate")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from repose_tf.export import ExportError
    from repose_tf.export.package import package_model, regenerate_derived

    try:
        if args.regenerate:
            made = regenerate_derived(args.output_dir, force=args.force)
            done = f"made {', '.join(p.name for p in made)}" if made else "derived files up to date"
            print(f"{args.output_dir}: {done}")
            return 0
        package_model(
            args.checkpoint,
            args.output_dir,
            name=args.name,
            calibration=args.calibration_dir,
            num_calibration=args.num_calibration,
            seed=args.seed,
            max_mb=args.max_mb,
            previous_manifest=args.continues,
        )
    except (ExportError, FileNotFoundError, ValueError) as e:
        return refuse(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
