"""Quantisation-aware training (QAT) with tensorflow-model-optimization, exported to int8 TFLite.

    python tools/qat.py --model M.keras --data_dir ../shared/data/lspet --steps 500 --output F.tflite

tfmot works only on the legacy ``tf_keras`` (docs/architecture.md "Toolchain facts"), so this module:

1. loads the Keras 3 RePose (``.keras`` / ``.weights.h5``; its inference form, final heatmaps);
2. mirrors its functional graph in ``tf_keras`` with the SAME layer names (a generic walk over
   the Keras 3 graph, so every config knob is covered): Conv2D / BatchNormalization /
   Concatenate / Add / Activation / Rescaling map one to one; ``ResizeTo`` becomes
   ``UpSampling2D(bilinear)`` (the same ``tf.image.resize`` half-pixel kernel; identity resizes
   disappear); each ``KinematicUpdate`` is expanded into plain layers named ``<update>_h_conv``,
   ``<update>_h_bn``, ``<update>_g{i}_conv``, ``<update>_g{i}_bn`` and ``<update>_add``, its
   trainable ``lambda`` folded into the last g-block BatchNorm (``lambda * BN(x)`` is a BN with
   ``gamma * lambda``, ``beta * lambda``: exact at inference) -- so no custom layer needs a
   ``QuantizeConfig``;
3. copies every Keras 3 weight by layer name, checking that each one is used exactly once and
   every mirror weight is set, and checks the float mirror against Keras 3 on real crops;
4. annotates every layer (the default 8-bit registry; BatchNormalization and Rescaling, which
   the registry does not list, get an output-only ``QuantizeConfig``) and ``quantize_apply``;
5. initialises the activation ranges from real calibration crops (fake-quant min/max of one
   batch, instead of tfmot's [-6, 6] start that an EMA of 0.999 would take thousands of
   steps to forget), then fine-tunes ``steps`` steps on augmented LSPET training crops with
   the partial MSE (paper eq. 3) on the final heatmaps (BatchNorm statistics frozen by default);
6. converts with ``TFLiteConverter.from_keras_model`` to full int8 (builtin ops only) and writes
   the model and its sidecar atomically.

Called from a process that already imported TensorFlow with Keras 3 (tests, notebooks),
:func:`run_qat` runs the work in a subprocess with ``TF_USE_LEGACY_KERAS=1``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from repose_tf.cli import refuse
from repose_tf.export import ExportError
from repose_tf.export.qat_mirror import (
    QATError,
    _require_tfmot,
    build_mirror,
    copy_weights,
    legacy_keras_ready,
)

__all__ = ["QATError", "build_mirror", "copy_weights", "legacy_keras_ready", "run_qat"]


# --------------------------------------------------------------------------------------------
# The QAT run (needs TF_USE_LEGACY_KERAS=1)
# --------------------------------------------------------------------------------------------
def _partial_mse(tf, y_true, y_pred, mask):
    per_kp = tf.reduce_mean(tf.square(y_true - y_pred), axis=[1, 2])  # ||H - O||^2 / n^2, (B, K)
    per_ex = tf.reduce_sum(per_kp * mask, -1) / tf.maximum(tf.reduce_sum(mask, -1), 1.0)
    return tf.reduce_mean(per_ex)


def _calibrate_ranges(tf, qat_model, images: np.ndarray) -> None:
    """Set every moving-average fake-quant range to the min/max seen on ``images`` (one batch)."""
    from tensorflow_model_optimization.python.core.quantization.keras import quant_ops, quantizers

    original = quant_ops.MovingAvgQuantize

    def no_ema(*args, **kwargs):
        kwargs["ema_decay"] = 0.0
        return original(*args, **kwargs)

    quantizers.quant_ops.MovingAvgQuantize = no_ema
    try:
        qat_model(tf.constant(images), training=True)  # eager: the patched op is used
    finally:
        quantizers.quant_ops.MovingAvgQuantize = original


def _qat_in_process(args: dict) -> dict:
    if not legacy_keras_ready():
        raise QATError("QAT must run with TF_USE_LEGACY_KERAS=1 set before TensorFlow is imported")
    tf_keras, tfmot = _require_tfmot()
    import tensorflow as tf

    from repose_tf.data import SampleTransform, get_dataset, load_batch
    from repose_tf.export.tflite import (
        calibration_images,
        check_modes,
        coverage_or_none,
        load_inference_model,
        model_metadata,
        write_tflite,
    )

    say = print if args.get("verbose", True) else (lambda *a, **k: None)
    t0 = time.perf_counter()
    output = Path(args["output"])
    io = args.get("io", "float")
    check_modes("int8", io)
    if output.suffix != ".tflite":
        raise QATError(f"output must end in .tflite, got {output}")
    model3, source = load_inference_model(args["model"], args.get("config"))
    meta = model_metadata(model3)
    n, kps = meta["input_size"], meta["keypoint_set"]
    data_dir = args["data_dir"]
    seed = int(args.get("seed", 0))
    calib, calib_info = calibration_images(
        data_dir, int(args.get("num_calibration", 32)), n, kps, dataset="auto", split="train", seed=seed
    )
    tf_keras.utils.set_random_seed(seed)

    # 1. float mirror, checked against Keras 3
    float_mirror, plan = build_mirror(model3, annotate=False)
    n_weights = copy_weights(float_mirror, plan)
    probe = calib[: min(8, len(calib))]
    ref = np.asarray(model3.predict_on_batch(probe))
    mirror_diff = float(np.abs(float_mirror(probe, training=False).numpy() - ref).max())
    say(
        f"tf_keras mirror: {len(plan)} layers with weights ({n_weights} values) matched; "
        f"max |diff| {mirror_diff:.2e}"
    )
    if mirror_diff > 1e-3:
        raise QATError(f"the tf_keras mirror disagrees with Keras 3 (max |diff| {mirror_diff:.3g})")

    # 2. annotate + quantize_apply
    annotated, plan = build_mirror(model3, annotate=True)
    copy_weights(annotated, plan)
    with tfmot.quantization.keras.quantize_scope():
        qat = tfmot.quantization.keras.quantize_apply(annotated)
    if args.get("freeze_bn", True):
        for lay in qat.layers:
            inner = getattr(lay, "layer", lay)
            if isinstance(inner, tf_keras.layers.BatchNormalization):
                inner.trainable = False
    _calibrate_ranges(tf, qat, calib[: min(32, len(calib))])
    before = float(np.abs(qat(probe, training=False).numpy() - ref).max())
    say(
        f"quantize_apply: {len(qat.layers)} layers; fake-quant vs float max |diff| "
        f"after range init {before:.3f}"
    )

    # 3. fine-tune on augmented LSPET training crops, partial MSE on the final heatmaps
    steps, batch = int(args.get("steps", 100)), int(args.get("batch_size", 8))
    losses = []
    if steps > 0:
        ds = get_dataset("lspet", data_dir, "train", kps)
        t = SampleTransform(n, ds.keypoint_set, train=True)
        opt = tf_keras.optimizers.Adam(float(args.get("learning_rate", 1e-4)))
        # slots made here, not inside the first trace: TensorFlow would then trace train_step twice
        opt.build(qat.trainable_variables)

        @tf.function
        def train_step(x, y, m):
            with tf.GradientTape() as tape:
                loss = _partial_mse(tf, y, qat(x, training=True), m)
            grads = tape.gradient(loss, qat.trainable_variables)
            opt.apply_gradients(zip(grads, qat.trainable_variables, strict=True))
            return loss

        rng = np.random.default_rng(seed)
        for step in range(steps):
            idx = rng.choice(len(ds), size=batch, replace=False)
            b = load_batch(
                ds, t, idx, epoch=step, seed=seed, keys=("image", "heatmaps", "mask"), on_error="skip"
            )
            losses.append(float(train_step(b["image"], b["heatmaps"], b["mask"])))
            if step == 0 or (step + 1) % max(1, steps // 5) == 0 or step == steps - 1:
                say(
                    f"  QAT step {step + 1}/{steps}: partial MSE {np.mean(losses[-max(1, steps // 5) :]):.3e}"
                )

    # 4. int8 TFLite
    conv = tf.lite.TFLiteConverter.from_keras_model(qat)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]

    def rep():  # the converter insists on one for full int8; the QAT ranges are kept (checked below)
        for img in calib:
            yield [img[None]]

    conv.representative_dataset = rep
    if io != "float":
        conv.inference_input_type = {"uint8": tf.uint8, "int8": tf.int8}[io]
        conv.inference_output_type = conv.inference_input_type
    try:
        import contextlib
        import io as _io

        with contextlib.redirect_stdout(_io.StringIO()):
            buf = conv.convert()
    except Exception as e:  # noqa: BLE001
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise QATError(f"TFLite conversion of the QAT model failed: {first}") from None
    ops, sc_path = write_tflite(buf, output, meta, "int8", source=source, what="QAT model", error=QATError)
    from repose_tf.runtime import TFLitePredictor

    fq = qat(probe, training=False).numpy()
    tfl = TFLitePredictor(output).heatmaps(probe)
    tflite_vs_fq = float(np.abs(tfl - fq).max())
    tflite_vs_float = float(np.abs(tfl - ref).max())
    say(
        f"int8 TFLite vs fake-quant Keras max |diff| {tflite_vs_fq:.3f}; "
        f"vs float Keras 3 {tflite_vs_float:.3f}"
    )
    from dataclasses import asdict

    cov = coverage_or_none(output)
    cov_d = asdict(cov) if cov is not None else None

    return {
        "path": str(output),
        "sidecar": str(sc_path),
        "io": io,
        "size_bytes": output.stat().st_size,
        "seconds": time.perf_counter() - t0,
        "source": str(source) if source else None,
        "metadata": meta,
        "ops": asdict(ops),
        "coverage": cov_d,
        "calibration": calib_info,
        "extra": {
            "qat_steps": steps,
            "qat_batch_size": batch,
            "qat_first_loss": losses[0] if losses else None,
            "qat_last_loss": float(np.mean(losses[-max(1, len(losses) // 5) :])) if losses else None,
            "mirror_max_abs_diff": mirror_diff,
            "fake_quant_max_abs_diff_after_range_init": before,
            "bn_frozen": bool(args.get("freeze_bn", True)),
            "tflite_vs_fake_quant_max_abs_diff": tflite_vs_fq,
            "tflite_vs_float_max_abs_diff": tflite_vs_float,
        },
    }


def _result_from_dict(d: dict):
    from repose_tf.export.tflite import DelegateCoverage, ExportResult, OpReport

    return ExportResult(
        path=Path(d["path"]),
        format="tflite",
        quantize="int8 (QAT)",
        io=d["io"],
        size_bytes=d["size_bytes"],
        seconds=d["seconds"],
        sidecar=Path(d["sidecar"]),
        source=d["source"],
        metadata=d["metadata"],
        ops=OpReport(**d["ops"]),
        coverage=DelegateCoverage(**d["coverage"]) if d.get("coverage") else None,
        calibration=d["calibration"],
        extra=d["extra"],
    )


def run_qat(
    model: str | os.PathLike,
    output: str | os.PathLike,
    *,
    data_dir: str | os.PathLike,
    steps: int = 100,
    batch_size: int = 8,
    learning_rate: float = 1e-4,
    num_calibration: int = 32,
    io: str = "float",
    freeze_bn: bool = True,
    config: Any = None,
    seed: int = 0,
    verbose: bool = True,
    timeout: float | None = None,
):
    """QAT-fine-tune ``model`` (a .keras / .weights.h5 path) and write int8 ``output``; an ExportResult.

    Runs in this process when it is set up for tf_keras (``TF_USE_LEGACY_KERAS=1`` before TF was
    imported, as ``tools/qat.py`` does), else in a ``python -m repose_tf.export.qat`` subprocess.
    """
    if not isinstance(model, (str, os.PathLike)):
        raise QATError("run_qat needs a model path (.keras or .weights.h5), not an in-memory model")
    if not Path(model).is_file():
        raise QATError(f"model file not found: {model}")
    if not Path(data_dir).is_dir():
        raise QATError(f"data_dir not found: {data_dir} (QAT trains on LSPET: ../shared/data/lspet)")
    args = {
        "model": str(model),
        "output": str(output),
        "data_dir": str(data_dir),
        "steps": int(steps),
        "batch_size": int(batch_size),
        "learning_rate": float(learning_rate),
        "num_calibration": int(num_calibration),
        "io": io,
        "freeze_bn": bool(freeze_bn),
        "config": config if (config is None or isinstance(config, (str, dict))) else config.to_dict(),
        "seed": int(seed),
        "verbose": bool(verbose),
    }
    if legacy_keras_ready():
        return _result_from_dict(_qat_in_process(args))
    env = {
        **os.environ,
        "TF_USE_LEGACY_KERAS": "1",
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    }
    import tempfile

    with tempfile.TemporaryDirectory(prefix="repose_qat_") as tmp:
        result_file = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "repose_tf.export.qat", json.dumps(args), str(result_file)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if verbose and proc.stdout:
            print(proc.stdout, end="")
        if proc.returncode != 0 or not result_file.is_file():
            err = [ln for ln in proc.stderr.strip().splitlines() if ln.startswith(("QATError", "error:"))]
            tail = err[-1] if err else "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise QATError(f"QAT subprocess failed (exit {proc.returncode}): {tail}")
        return _result_from_dict(json.loads(result_file.read_text()))


def _worker_main(argv: list[str]) -> int:
    args, result_file = json.loads(argv[0]), Path(argv[1])
    try:
        res = _qat_in_process(args)
    except ExportError as e:
        return refuse(e)
    result_file.write_text(json.dumps(res, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    sys.exit(_worker_main(sys.argv[1:]))
