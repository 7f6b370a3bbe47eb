"""Quantisation-aware fine-tuning (tensorflow-model-optimization, legacy tf_keras) -> int8 TFLite.

    pip install -r requirements-qat.txt
    python tools/qat.py --model models/repose_lsp14.keras --data_dir ../shared/data/lspet \\
        --steps 500 --output out/repose_lsp14_qat.tflite

Rebuilds the model's graph in tf_keras with the same layer names, loads the Keras 3 weights by
name (every weight checked), annotates it for QAT, initialises the fake-quant ranges on real
crops, fine-tunes --steps steps on augmented LSPET training crops with the partial MSE, and
converts to full int8 TFLite (builtin ops only) with its JSON sidecar. The result is verified
against the float32 Keras model like tools/export_tflite.py (--no_verify skips it). Logic:
repose_tf.export.qat.
"""

from __future__ import annotations

import os
import sys

# tfmot works only on tf_keras: set before TensorFlow is imported (docs/architecture.md "Toolchain facts").
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402

from repose_tf.cli import HelpFormatter as _HelpFormatter  # noqa: E402
from repose_tf.cli import refuse
from repose_tf.export.cli import add_model_args  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from repose_tf.export.tflite import IO_TYPES
    from repose_tf.export.verify import DEFAULT_PCK_DROP_LIMIT, DEFAULT_VERIFY_LIMIT

    p = argparse.ArgumentParser(
        prog="qat.py",
        description=__doc__,
        formatter_class=_HelpFormatter,
    )
    add_model_args(p)
    p.add_argument(
        "--data_dir", help="LSPET dir: training crops and calibration (default ../shared/data/lspet)"
    )
    p.add_argument("--steps", type=int, default=100, help="QAT fine-tuning steps")
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--learning_rate", type=float, default=1e-4)
    p.add_argument("--num_calibration", type=int, default=32, help="crops for the fake-quant range init")
    p.add_argument("--no_freeze_bn", action="store_true", help="let BatchNorm statistics move during QAT")
    p.add_argument("--io", default="float", choices=IO_TYPES, help="int8 model input/output type")
    p.add_argument("--output", help="output .tflite (default <model stem>_qat.tflite beside the model)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no_verify", action="store_true", help="skip the verification against Keras")
    p.add_argument("--verify_limit", type=int, default=DEFAULT_VERIFY_LIMIT)
    p.add_argument("--pck_drop_limit", type=float, default=DEFAULT_PCK_DROP_LIMIT)
    p.add_argument("--report", help="verification JSON (default <output stem>.verify.json)")
    p.add_argument("--fail_on_flag", action="store_true", help="exit 3 when the accuracy flag is set")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from pathlib import Path

    from repose_tf.data import DataError
    from repose_tf.export import ExportError
    from repose_tf.export.qat import run_qat
    from repose_tf.export.tflite import default_calibration_dir, default_model_path
    from repose_tf.export.verify import verify_and_report
    from repose_tf.loading import ModelLoadError

    try:
        model = Path(args.model) if args.model else default_model_path()
        if not model.is_file():
            raise ExportError(f"model file not found: {model}")
        data_dir = args.data_dir or default_calibration_dir()
        if data_dir is None:
            raise ExportError("QAT needs --data_dir (LSPET: ../shared/data/lspet)")
        stem = model.name.removesuffix(".weights.h5").removesuffix(".keras")
        output = Path(args.output) if args.output else model.with_name(f"{stem}_qat.tflite")
        res = run_qat(
            model,
            output,
            data_dir=data_dir,
            steps=args.steps,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            num_calibration=args.num_calibration,
            io=args.io,
            freeze_bn=not args.no_freeze_bn,
            config=args.config,
            seed=args.seed,
        )
        print(res.summary())
        rep = None
        if not args.no_verify:
            rep = verify_and_report(
                res,
                model,
                report_path=args.report,
                data_dir=data_dir,
                limit=args.verify_limit,
                pck_drop_limit=args.pck_drop_limit,
                variant="qat",
                config=args.config,
            )
    except (ExportError, ModelLoadError, DataError, FileNotFoundError) as e:
        return refuse(e)
    if rep is not None and rep.accuracy_flag and args.fail_on_flag:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
