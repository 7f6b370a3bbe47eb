"""TFLite export with named modes (like TF Model Garden's ``export_tflite_lib``).

    res = export_tflite(model_or_path, "out/m.tflite", quantize="int8",
                        calibration="../shared/data/lspet", num_calibration=200, io="uint8")

Modes (``quantize``):

* ``none``: float32 weights and activations.
* ``float16``: float16 weights (dequantised at load), float32 compute.
* ``dynamic``: int8 weights, dynamic-range activations (float I/O).
* ``int8``: full integer, calibrated on real images through THE evaluation crop
  (:class:`repose_tf.data.SampleTransform` without augmentation); ``io`` picks the I/O type
  (``float``: QUANTIZE/DEQUANTIZE at the ends; ``uint8`` / ``int8``: integer I/O).

The inference form (final heatmaps only) is converted with ``TFLiteConverter.from_keras_model``
(docs/architecture.md, "Toolchain facts":
``from_concrete_functions`` produced models that fail at run time; a silent fallback to
the frozen-graph path is detected and refused) with TFLite builtin ops only; the converted
flatbuffer is inspected and any custom / Flex op fails the export. The output is written to a
temp file in the target directory and moved into place at the end, the JSON sidecar
(:mod:`repose_tf.sidecar`) beside it. This module converts; the int8 calibration crops
come from :mod:`repose_tf.export.calibration` and the op / XNNPACK inspection from
:mod:`repose_tf.export.inspection` (their names stay importable from here).
"""

from __future__ import annotations

import contextlib
import io as _io
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from repose_tf.export import ExportError, atomic_output

# Calibration data and inspection live in their own modules; their names stay importable here.
from repose_tf.export.calibration import (  # noqa: F401
    CALIBRATION_DATASETS,
    DEFAULT_NUM_CALIBRATION,
    IMAGE_EXTENSIONS,
    CalibrationError,
    _spread,
    calibration_images,
    default_calibration_dir,
)
from repose_tf.export.inspection import DelegateCoverage, OpReport, inspect_tflite, xnnpack_coverage
from repose_tf.paths import DEFAULT_MODEL_FILE, default_model, missing_model_hint

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_NUM_CALIBRATION",
    "IMAGE_EXTENSIONS",
    "IO_TYPES",
    "QUANTIZE_MODES",
    "CalibrationError",
    "DelegateCoverage",
    "ExportResult",
    "OpReport",
    "calibration_images",
    "check_modes",
    "coverage_or_none",
    "default_calibration_dir",
    "default_model_path",
    "export_tflite",
    "export_tflite_variants",
    "inspect_tflite",
    "load_inference_model",
    "model_metadata",
    "trace_saved_model",
    "write_tflite",
    "xnnpack_coverage",
]

QUANTIZE_MODES = ("none", "float16", "dynamic", "int8")
IO_TYPES = ("float", "uint8", "int8")


#: What the CLIs export when --model is omitted (relative to the repository root).
DEFAULT_MODEL = Path("models") / DEFAULT_MODEL_FILE


def default_model_path() -> Path:
    """``models/repose_lsp14.keras`` (cwd, then the models directory: ``$REPOSE_MODELS_DIR``,
    default the checkout's models/) or a clear ExportError."""
    for cand in (DEFAULT_MODEL, default_model()):
        if cand.is_file():
            return cand
    raise ExportError(
        f"no --model given and the default {DEFAULT_MODEL} does not exist "
        f"({missing_model_hint(DEFAULT_MODEL.name)}); train one or pass --model PATH.keras"
    )


def check_modes(quantize: str, io: str = "float") -> None:
    """Raise :class:`ExportError` for an unsupported quantize / io combination."""
    if quantize not in QUANTIZE_MODES:
        raise ExportError(
            f"unsupported quantize mode {quantize!r}; choose one of {', '.join(QUANTIZE_MODES)}"
        )
    if io not in IO_TYPES:
        raise ExportError(f"unsupported io type {io!r}; choose one of {', '.join(IO_TYPES)}")
    if io != "float" and quantize != "int8":
        raise ExportError(f"io={io!r} needs quantize='int8' (mode {quantize!r} keeps float input and output)")


# --------------------------------------------------------------------------------------------
# Model loading
# --------------------------------------------------------------------------------------------
def load_inference_model(model_or_path: Any, config: Any = None):
    """(inference-form RePose, source path or None) from a RePose model or a .keras/.weights.h5 path."""
    from repose_tf.loading import ModelLoadError, as_float32, load_repose
    from repose_tf.model import RePose
    from repose_tf.training.precision import float32_policy

    # an export computes in float32 whatever the model trained in (docs/architecture.md, "Training runs")
    if isinstance(model_or_path, RePose):
        with float32_policy():
            return as_float32(model_or_path).inference_model(), None
    if isinstance(model_or_path, (str, os.PathLike)):
        try:
            with float32_policy():
                return load_repose(model_or_path, config=config).inference_model(), Path(model_or_path)
        except ModelLoadError as e:
            raise ExportError(str(e)) from None
    raise ExportError(f"expected a RePose model or a model path, got {type(model_or_path).__name__}")


def model_metadata(model) -> dict:
    """preset, keypoint set, params, GFLOPs, sigma and config of a RePose model (for sidecars/reports)."""
    from repose_tf.loading import find_preset
    from repose_tf.profile import profile_model

    cfg = model.repose_config
    prof = profile_model(model)
    return {
        "preset": find_preset(cfg),
        "keypoint_set": cfg.keypoint_set,
        "input_size": cfg.input_size,
        "params": int(prof.params),
        "gflops": round(float(prof.gflops), 3),
        "sigma": float(cfg.target_sigma),
        "config": cfg.to_dict(),
    }


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------
@dataclass
class ExportResult:
    path: Path
    format: str  # "tflite" | "onnx"
    quantize: str
    io: str
    size_bytes: int
    seconds: float
    sidecar: Path | None = None
    source: str | None = None
    metadata: dict = field(default_factory=dict)
    ops: OpReport | None = None
    coverage: DelegateCoverage | None = None
    calibration: dict | None = None
    extra: dict = field(default_factory=dict)
    verification: Any = None  # a VerifyReport when verified

    def to_dict(self) -> dict:
        d = {
            "path": str(self.path),
            "format": self.format,
            "quantize": self.quantize,
            "io": self.io,
            "size_bytes": self.size_bytes,
            "seconds": round(self.seconds, 2),
            "sidecar": str(self.sidecar) if self.sidecar else None,
            "source": self.source,
            "model": {k: v for k, v in self.metadata.items() if k != "config"},
            "ops": asdict(self.ops) if self.ops else None,
            "xnnpack": asdict(self.coverage) if self.coverage else None,
            "calibration": self.calibration,
            **self.extra,
        }
        if self.verification is not None:
            d["verification"] = self.verification.to_dict()
        return d

    def summary(self) -> str:
        lines = [
            f"wrote {self.path} ({self.size_bytes / 1e6:.2f} MB, {self.format}, quantize={self.quantize}, "
            f"io={self.io}) in {self.seconds:.1f} s",
        ]
        md = self.metadata
        if md:
            lines.append(
                f"  model: {md.get('preset')} ({md.get('keypoint_set')}, {md.get('input_size')}px), "
                f"{md.get('params', 0) / 1e6:.2f}M params, {md.get('gflops', 0):.2f} GFLOPs"
            )
        if self.sidecar:
            lines.append(f"  sidecar: {self.sidecar}")
        if self.calibration:
            c = self.calibration
            lines.append(
                f"  calibration: {c.get('num_images')} crops from {c.get('source')} ({c.get('crop')})"
            )
        if self.ops:
            hist = ", ".join(f"{k} {v}" for k, v in self.ops.histogram.items())
            label = "builtin only" if self.format == "tflite" else "standard ONNX domain only"
            lines.append(f"  ops ({self.ops.total}, {label}: {self.ops.builtin_only}): {hist}")
            if self.format == "tflite":
                lines.append(f"  ops with a float32 output: {self.ops.float_ops}")
        if self.coverage:
            cv = self.coverage
            und = ", ".join(f"{k} {v}" for k, v in cv.undelegated.items()) or "none"
            lines.append(
                f"  XNNPACK: {cv.delegated}/{cv.total} ops delegated ({100 * cv.fraction:.1f}%) in "
                f"{cv.partitions} partition(s); on builtin kernels: {und}"
            )
        for k, v in self.extra.items():
            lines.append(f"  {k}: {v}")
        return "\n".join(lines)


def export_wrapper(model):
    """The inference form with its output named ``heatmaps`` (signature output name in TFLite/ONNX)."""
    import keras

    return keras.Model(model.inputs, {"heatmaps": model.outputs[0]}, name="repose_export")


def _converter_error(e: BaseException) -> ExportError:
    text = str(e)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    flex = [ln for ln in lines if "Flex" in ln or "Select TF" in ln or "not supported" in ln]
    if flex:
        return ExportError(
            "the model needs ops outside the TFLite builtins (Flex / select TF ops are not allowed): "
            + " | ".join(flex[:3])
        )
    return ExportError(f"TFLite conversion failed: {lines[0] if lines else type(e).__name__}")


def trace_saved_model(model, directory: str | os.PathLike) -> Path:
    """Write the SavedModel ``from_keras_model`` converts, once, for several conversions.

    ``TFLiteConverter.from_keras_model`` on a Keras 3 model writes exactly this (an
    ``ExportArchive`` with a ``serve`` endpoint calling the model with ``training=False``) to a
    temp dir and converts it as a SavedModel; tracing dominates the conversion time (minutes for
    the full-size model on 2 cores), so :func:`export_tflite_variants` traces once and converts
    every mode from it. The single-mode :func:`export_tflite` uses ``from_keras_model`` itself.
    """
    import functools

    import keras
    import tensorflow as tf

    wrapper = export_wrapper(model)
    archive = keras.export.ExportArchive()
    archive.track(wrapper)
    sig = [tf.TensorSpec(x.shape, dtype=x.dtype, name=x.name) for x in wrapper.inputs]
    archive.add_endpoint("serve", functools.partial(wrapper.__call__, training=False), sig)
    with contextlib.redirect_stdout(_io.StringIO()):
        archive.write_out(str(directory), verbose=False)
    return Path(directory)


def convert_tflite(
    model,
    quantize: str = "none",
    io: str = "float",
    representative: np.ndarray | None = None,
    saved_model_dir: str | os.PathLike | None = None,
) -> bytes:
    """Convert an inference-form RePose (Keras 3) with ``from_keras_model``; returns the flatbuffer.

    With ``saved_model_dir`` (from :func:`trace_saved_model`) the same SavedModel path is taken
    without re-tracing (``from_saved_model`` on what ``from_keras_model`` would have written).
    """
    import tensorflow as tf

    check_modes(quantize, io)
    if saved_model_dir is not None:
        conv = tf.lite.TFLiteConverter.from_saved_model(
            str(saved_model_dir), signature_keys=["serving_default"]
        )
    else:
        conv = tf.lite.TFLiteConverter.from_keras_model(export_wrapper(model))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize == "float16":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_types = [tf.float16]
    elif quantize == "dynamic":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantize == "int8":
        if representative is None or len(representative) == 0:
            raise CalibrationError("int8 export needs calibration images")
        data = np.asarray(representative, np.float32)

        def rep():
            for img in data:
                yield [img[None]]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = rep
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if io != "float":
            conv.inference_input_type = {"uint8": tf.uint8, "int8": tf.int8}[io]
            conv.inference_output_type = conv.inference_input_type
    try:
        with contextlib.redirect_stdout(_io.StringIO()):  # Keras' export listing
            buf = conv.convert()
    except Exception as e:  # noqa: BLE001 - ConverterError and friends, reported in one line
        raise _converter_error(e) from None
    if not getattr(conv, "saved_model_dir", None):
        raise ExportError(
            "from_keras_model fell back to the frozen-graph path (SavedModel export failed); "
            "that path produces models that fail at run time (docs/architecture.md), refusing"
        )
    return buf


def write_tflite(
    buf: bytes,
    output: str | os.PathLike,
    meta: dict,
    quantize: str,
    *,
    source: str | os.PathLike | None = None,
    sidecar: bool = True,
    what: str = "converted model",
    error: type[Exception] = ExportError,
) -> tuple[OpReport, Path | None]:
    """Write a converted TFLite flatbuffer and its JSON sidecar, both or neither.

    Refuses (``error``, nothing written) a model with non-builtin ops; the model is written
    atomically, its sidecar (``meta``: :func:`model_metadata`) after it, and a failed sidecar write
    removes the model again. Every TFLite writer of the project (plain, int8, QAT) ends here.
    Returns the op report and the sidecar path (None when ``sidecar`` is False).
    """
    from repose_tf.export.sidecar import sidecar_from_tflite
    from repose_tf.sidecar import sidecar_path, write_sidecar

    output = Path(output)
    ops = inspect_tflite(buf)
    if not ops.builtin_only:
        raise error(f"{what} contains non-builtin ops {ops.custom_ops}; refusing to write it")
    sc_path = sidecar_path(output)
    with atomic_output(output) as tmp:
        tmp.write_bytes(buf)
        sc = None
        if sidecar:
            sc = sidecar_from_tflite(
                tmp,
                quantize=quantize,
                preset=meta["preset"],
                keypoint_set=meta["keypoint_set"],
                params=meta["params"],
                gflops=meta["gflops"],
                sigma=meta["sigma"],
                keras_path=str(source) if source else None,
            )
            sc["model_file"] = output.name
    try:
        if sc is not None:
            write_sidecar(sc_path, sc)
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    return ops, (sc_path if sidecar else None)


def coverage_or_none(path: str | os.PathLike, log=None) -> DelegateCoverage | None:
    """:func:`xnnpack_coverage` of a written model, or None where it cannot be measured (informative)."""
    try:
        return xnnpack_coverage(path)
    except Exception as e:  # noqa: BLE001 - informative only
        if log is not None:
            log(f"(XNNPACK coverage unavailable: {e})")
        return None


def export_tflite(
    model: Any,
    output: str | os.PathLike,
    quantize: str = "none",
    *,
    calibration: Any = None,
    num_calibration: int = DEFAULT_NUM_CALIBRATION,
    calibration_dataset: str = "auto",
    calibration_split: str = "train",
    io: str = "float",
    config: Any = None,
    sidecar: bool = True,
    coverage: bool = True,
    seed: int = 0,
    saved_model_dir: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
    log=None,
) -> ExportResult:
    """Export ``model`` (RePose or .keras / .weights.h5 path) to ``output`` in mode ``quantize``.

    Raises :class:`ExportError` (one-line reasons) for bad modes, missing or non-RePose models,
    bad calibration data, conversion failures and non-builtin ops; nothing is left at
    ``output`` (or its sidecar) on failure.
    """
    say = log or (lambda msg: None)
    check_modes(quantize, io)
    output = Path(output)
    if output.suffix != ".tflite":
        raise ExportError(f"output must end in .tflite, got {output}")
    t0 = time.perf_counter()
    keras_model, loaded_from = load_inference_model(model, config)
    source = source or loaded_from
    meta = model_metadata(keras_model)
    calib_info, rep = None, None
    if quantize == "int8":
        rep, calib_info = calibration_images(
            calibration,
            num_calibration,
            meta["input_size"],
            meta["keypoint_set"],
            dataset=calibration_dataset,
            split=calibration_split,
            seed=seed,
        )
        say(f"calibrating on {len(rep)} crops from {calib_info['source']}")
    say(f"converting ({quantize}, io={io}) ...")
    buf = convert_tflite(keras_model, quantize, io, rep, saved_model_dir)
    ops, sc_path = write_tflite(buf, output, meta, quantize, source=source, sidecar=sidecar)
    cov = coverage_or_none(output, say) if coverage else None
    return ExportResult(
        path=output,
        format="tflite",
        quantize=quantize,
        io=io,
        size_bytes=output.stat().st_size,
        seconds=time.perf_counter() - t0,
        sidecar=sc_path,
        source=str(source) if source else None,
        metadata=meta,
        ops=ops,
        coverage=cov,
        calibration=calib_info,
    )


def export_tflite_variants(
    model: Any,
    outputs: dict[str, str | os.PathLike],
    *,
    calibration: Any = None,
    num_calibration: int = DEFAULT_NUM_CALIBRATION,
    calibration_dataset: str = "auto",
    calibration_split: str = "train",
    io: str = "float",
    config: Any = None,
    seed: int = 0,
    log=None,
) -> dict[str, ExportResult]:
    """Export several modes (``{"none": "m_fp32.tflite", "int8": "m_int8.tflite", ...}``), tracing once.

    ``io`` applies to the int8 variant only (the others keep float I/O).
    """
    import tempfile

    for mode in outputs:
        check_modes(mode, io if mode == "int8" else "float")
    keras_model, source = load_inference_model(model, config)
    calib, info = None, None
    if "int8" in outputs:
        calib, info = calibration_images(
            calibration,
            num_calibration,
            keras_model.repose_config.input_size,
            keras_model.repose_config.keypoint_set,
            dataset=calibration_dataset,
            split=calibration_split,
            seed=seed,
        )
    results = {}
    with tempfile.TemporaryDirectory(prefix="repose_savedmodel_") as tmp:
        t0 = time.perf_counter()
        trace_saved_model(keras_model, tmp)
        traced = time.perf_counter() - t0
        for mode, out in outputs.items():
            res = export_tflite(
                keras_model,
                out,
                mode,
                calibration=calib,
                io=io if mode == "int8" else "float",
                saved_model_dir=tmp,
                source=source,
                log=log,
            )
            if mode == "int8":
                res.calibration = info
            res.extra["traced_once_s"] = round(traced, 1)
            results[mode] = res
    return results
