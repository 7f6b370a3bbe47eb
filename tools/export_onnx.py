"""Export a RePose model to ONNX with tf2onnx and check it against Keras with onnxruntime.

    python tools/export_onnx.py --model models/repose_lsp14.keras --output out/repose_lsp14.onnx

The inference form (final heatmaps) is converted with tf2onnx.convert.from_keras, opset 17 by
default, dynamic batch, NHWC float32 RGB 0..255 input "image", output "heatmaps"; the keypoint
set and config go into the model's metadata. Verification (default; --no_verify skips it) runs
both models on LSPET validation crops and prints the max abs heatmap difference, keypoint
agreement and PCK@0.2 (report: <output>.verify.json). Logic: repose_tf.export.onnx.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


from repose_tf.cli import HelpFormatter as _HelpFormatter  # noqa: E402
from repose_tf.cli import refuse
from repose_tf.export.cli import add_model_args  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from repose_tf.export.onnx import DEFAULT_OPSET
    from repose_tf.export.verify import DEFAULT_VERIFY_LIMIT

    p = argparse.ArgumentParser(
        prog="export_onnx.py",
        description=__doc__,
        formatter_class=_HelpFormatter,
    )
    add_model_args(p)
    p.add_argument("--output", help="output .onnx (default: <model stem>.onnx beside the model)")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset (13..18)")
    p.add_argument("--no_verify", action="store_true", help="skip the check against Keras")
    p.add_argument(
        "--verify_limit", type=int, default=DEFAULT_VERIFY_LIMIT, help="LSPET val images to verify on"
    )
    p.add_argument("--verify_data_dir", help="LSPET dir for verification (default ../shared/data/lspet)")
    p.add_argument("--report", help="verification JSON (default <output stem>.verify.json)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from pathlib import Path

    from repose_tf.data import DataError
    from repose_tf.export import ExportError
    from repose_tf.export.onnx import export_onnx
    from repose_tf.export.tflite import default_model_path
    from repose_tf.export.verify import verify_and_report
    from repose_tf.loading import ModelLoadError

    try:
        model = Path(args.model) if args.model else default_model_path()
        if not model.is_file():
            raise ExportError(f"model file not found: {model}")
        stem = model.name.removesuffix(".weights.h5").removesuffix(".keras")
        output = Path(args.output) if args.output else model.with_name(f"{stem}.onnx")
        res = export_onnx(model, output, opset=args.opset, config=args.config, log=print)
        print(res.summary())
        if not args.no_verify:
            verify_and_report(
                res,
                model,
                report_path=args.report,
                data_dir=args.verify_data_dir,
                limit=args.verify_limit,
                config=args.config,
            )
    except (ExportError, ModelLoadError, DataError, FileNotFoundError) as e:
        return refuse(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
