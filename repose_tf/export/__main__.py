"""Export a RePose model to TFLite (builtin ops only), write its JSON sidecar, and verify it.

    repose-export --model models/repose_lsp14.keras --quantize int8 \\
        --output out/repose_lsp14_int8.tflite --calibration_dir ../shared/data/lspet --io uint8
    repose-export --model models/repose_lsp14.keras --quantize qat --steps 500 --io uint8

(the same as ``python -m repose_tf.export`` and ``python tools/export_tflite.py``).

Modes: none (float32), float16 (fp16 weights), dynamic (int8 weights, dynamic-range
activations), int8 (full integer, calibrated on real crops through the evaluation crop; --io
picks float / uint8 / int8 input and output), qat (quantisation-aware fine-tuning with
tensorflow-model-optimization, --steps steps on LSPET training crops from --data_dir, then full
int8 like int8; needs requirements-qat.txt and runs in a legacy tf_keras subprocess). After the
export the model is verified against the Keras model on LSPET validation images (heatmap max
|diff|, keypoint agreement, PCK@0.2; --no_verify skips it); an int8 model more than
--pck_drop_limit points below float32 is flagged loudly, with accuracy_flag=1 in the JSON report
(<output>.verify.json). The conversion logic lives in repose_tf.export.tflite (QAT:
repose_tf.export.qat; both write through tflite.write_tflite); this module only parses flags
and prints.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from repose_tf.cli import USAGE_ERROR, HelpFormatter, error
from repose_tf.export.cli import add_model_args

#: Crops that initialise QAT's fake-quant ranges (int8 calibration uses DEFAULT_NUM_CALIBRATION).
QAT_NUM_CALIBRATION = 32


def parse_args(argv=None, prog: str | None = None) -> argparse.Namespace:
    from repose_tf.export.tflite import (
        CALIBRATION_DATASETS,
        DEFAULT_NUM_CALIBRATION,
        IO_TYPES,
        QUANTIZE_MODES,
    )
    from repose_tf.export.verify import DEFAULT_PCK_DROP_LIMIT, DEFAULT_VERIFY_LIMIT

    p = argparse.ArgumentParser(
        prog=prog,
        description=__doc__,
        epilog="Example: repose-export --model models/repose_lsp14.keras --quantize int8 "
        "--output out/m_int8.tflite --calibration_dir ../shared/data/lspet",
        formatter_class=HelpFormatter,
    )
    add_model_args(p)
    p.add_argument("--quantize", default="none", choices=(*QUANTIZE_MODES, "qat"), help="quantisation mode")
    p.add_argument(
        "--output", help="output .tflite (default: <model stem>_<quantize>.tflite beside the model)"
    )
    p.add_argument(
        "--io", default="float", choices=IO_TYPES, help="input/output type (uint8/int8: int8 and qat only)"
    )
    p.add_argument(
        "--calibration_dir",
        help="int8 calibration: a dataset dir (LSPET/LSP joints.mat, MPII annot/, COCO annotations/) "
        "or a plain image dir (default: ../shared/data/lspet when present)",
    )
    p.add_argument("--calibration_dataset", default="auto", choices=CALIBRATION_DATASETS)
    p.add_argument("--calibration_split", default="train", help="split of a calibration dataset")
    p.add_argument(
        "--num_calibration",
        type=int,
        help=f"calibration crops (default: {DEFAULT_NUM_CALIBRATION} for int8, {QAT_NUM_CALIBRATION} "
        "for qat's range initialisation)",
    )
    p.add_argument("--seed", type=int, default=0, help="which calibration samples are drawn")
    q = p.add_argument_group("qat (--quantize qat)")
    q.add_argument(
        "--data_dir", help="LSPET dir: training crops and calibration (default ../shared/data/lspet)"
    )
    q.add_argument("--steps", type=int, default=100, help="QAT fine-tuning steps")
    q.add_argument("--batch_size", type=int, default=8)
    q.add_argument("--learning_rate", type=float, default=1e-4)
    q.add_argument("--no_freeze_bn", action="store_true", help="let BatchNorm statistics move during QAT")
    p.add_argument("--no_verify", action="store_true", help="skip the verification against Keras")
    p.add_argument(
        "--verify_limit", type=int, default=DEFAULT_VERIFY_LIMIT, help="LSPET val images to verify on"
    )
    p.add_argument(
        "--verify_data_dir", help="LSPET dir for verification (default ../shared/data/lspet; qat: --data_dir)"
    )
    p.add_argument("--pck_drop_limit", type=float, default=DEFAULT_PCK_DROP_LIMIT, help="PCK@0.2 points")
    p.add_argument("--report", help="verification JSON (default <output stem>.verify.json)")
    p.add_argument("--fail_on_flag", action="store_true", help="exit 3 when the accuracy flag is set")
    return p.parse_args(argv)


def main(argv=None, prog: str | None = None) -> int:
    """Entry point (``repose-export``): export, then verify; 0, 2 (refused) or 3 (``--fail_on_flag``)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parse_args(argv, prog)
    from repose_tf.data import DataError
    from repose_tf.export import ExportError
    from repose_tf.export.tflite import check_modes
    from repose_tf.export.verify import verify_and_report
    from repose_tf.loading import ModelLoadError
    from repose_tf.sidecar import SidecarError

    try:
        check_modes("int8" if args.quantize == "qat" else args.quantize, args.io)
        model, output = _paths(args)
        res, data_dir = _qat(args, model, output) if args.quantize == "qat" else _export(args, model, output)
        print(res.summary())
        if args.no_verify:
            return 0
        rep = verify_and_report(
            res,
            model,
            report_path=args.report,
            data_dir=args.verify_data_dir or data_dir,
            limit=args.verify_limit,
            pck_drop_limit=args.pck_drop_limit,
            variant="qat" if args.quantize == "qat" else None,
            config=args.config,
        )
    except (ExportError, ModelLoadError, SidecarError, DataError, FileNotFoundError) as e:
        error(e)
        return USAGE_ERROR
    if rep is not None and rep.accuracy_flag and args.fail_on_flag:
        return 3
    return 0


def _paths(args) -> tuple[Path, Path]:
    """The source model (default: the shipped one) and the output (default beside it)."""
    from repose_tf.export import ExportError
    from repose_tf.export.tflite import default_model_path

    model = Path(args.model) if args.model else default_model_path()
    if not model.is_file():
        raise ExportError(f"model file not found: {model}")
    output = Path(args.output) if args.output else model.with_name(f"{_stem(model)}_{args.quantize}.tflite")
    return model, output


def _export(args, model: Path, output: Path):
    """Modes none / float16 / dynamic / int8: convert in this process."""
    from repose_tf.export import ExportError
    from repose_tf.export.tflite import (
        DEFAULT_NUM_CALIBRATION,
        default_calibration_dir,
        export_tflite,
    )

    calib = args.calibration_dir
    if args.quantize == "int8" and calib is None:
        calib = default_calibration_dir()
        if calib is None:
            raise ExportError("int8 needs --calibration_dir (a dir of images or a dataset dir)")
        print(f"calibration: {calib} (default)")
    res = export_tflite(
        model,
        output,
        args.quantize,
        calibration=calib,
        num_calibration=args.num_calibration or DEFAULT_NUM_CALIBRATION,
        calibration_dataset=args.calibration_dataset,
        calibration_split=args.calibration_split,
        io=args.io,
        config=args.config,
        seed=args.seed,
        log=print,
    )
    return res, None


def _qat(args, model: Path, output: Path):
    """Mode qat: fine-tune and convert in a legacy tf_keras process (this one when it is set up)."""
    from repose_tf.export import ExportError
    from repose_tf.export.qat import run_qat
    from repose_tf.export.tflite import default_calibration_dir

    data_dir = args.data_dir or args.calibration_dir or default_calibration_dir()
    if data_dir is None:
        raise ExportError("QAT needs --data_dir (LSPET: ../shared/data/lspet)")
    res = run_qat(
        model,
        output,
        data_dir=data_dir,
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        num_calibration=args.num_calibration or QAT_NUM_CALIBRATION,
        io=args.io,
        freeze_bn=not args.no_freeze_bn,
        config=args.config,
        seed=args.seed,
    )
    return res, data_dir


def _stem(p) -> str:
    name = p.name
    for suffix in (".weights.h5", ".keras", ".h5"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return p.stem


if __name__ == "__main__":
    sys.exit(main(prog="python -m repose_tf.export"))
