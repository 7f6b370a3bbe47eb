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
(SPEC 7: ``from_concrete_functions`` produced models that fail at run time; a silent fallback to
the frozen-graph path is detected and refused) with TFLite builtin ops only; the converted
flatbuffer is inspected and any custom / Flex op fails the export. The output is written to a
temp file in the target directory and moved into place at the end, the JSON sidecar
(:mod:`repose_tf.export.sidecar`) beside it.
"""

from __future__ import annotations

import contextlib
import io as _io
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from repose_tf.export import ExportError, atomic_output

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
    "default_calibration_dir",
    "default_model_path",
    "export_tflite",
    "export_tflite_variants",
    "inspect_tflite",
    "load_inference_model",
    "model_metadata",
    "trace_saved_model",
    "xnnpack_coverage",
]

QUANTIZE_MODES = ("none", "float16", "dynamic", "int8")
IO_TYPES = ("float", "uint8", "int8")
DEFAULT_NUM_CALIBRATION = 200
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
CALIBRATION_DATASETS = ("auto", "images", "lspet", "lsp", "mpii", "coco")


#: What the CLIs export when --model is omitted (relative to the repository root).
DEFAULT_MODEL = Path("models/repose_lsp14.keras")


def default_model_path() -> Path:
    """``models/repose_lsp14.keras`` (cwd, then the repository root) or a clear ExportError."""
    repo = Path(__file__).resolve().parents[2]
    for cand in (DEFAULT_MODEL, repo / DEFAULT_MODEL):
        if cand.is_file():
            return cand
    raise ExportError(
        f"no --model given and the default {DEFAULT_MODEL} does not exist; train one "
        "(python -m repose_tf.train ...) or pass --model PATH.keras"
    )


def default_calibration_dir() -> Path | None:
    """LSPET beside the repository (``../shared/data/lspet``) when present."""
    from repose_tf.export.verify import default_lspet_dir

    return default_lspet_dir()


class CalibrationError(ExportError):
    """The int8 calibration data is missing, empty or unreadable."""


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
    from repose_tf.model import RePose
    from repose_tf.runtime import ModelLoadError, load_repose

    if isinstance(model_or_path, RePose):
        return model_or_path.inference_model(), None
    if isinstance(model_or_path, (str, os.PathLike)):
        try:
            return load_repose(model_or_path, config=config).inference_model(), Path(model_or_path)
        except ModelLoadError as e:
            raise ExportError(str(e)) from None
    raise ExportError(f"expected a RePose model or a model path, got {type(model_or_path).__name__}")


def model_metadata(model) -> dict:
    """preset, keypoint set, params, GFLOPs, sigma and config of a RePose model (for sidecars/reports)."""
    from repose_tf.profile import profile_model
    from repose_tf.runtime import find_preset

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
# Calibration data: real images through the evaluation crop
# --------------------------------------------------------------------------------------------
def _detect_dataset(root: Path) -> str:
    if (root / "joints.mat").is_file():
        return "lspet_or_lsp"
    if (root / "annot").is_dir():
        return "mpii"
    if (root / "annotations").is_dir():
        return "coco"
    return "images"


def _spread(n_total: int, n: int, seed: int) -> np.ndarray:
    if n >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, size=n, replace=False))


def _dataset_crops(name, root, split, n, input_size, keypoint_set, seed) -> tuple[np.ndarray, dict]:
    from repose_tf.data import SampleTransform, get_dataset, load_batch

    ds = get_dataset(name, root, split, keypoint_set)
    if len(ds) == 0:
        raise CalibrationError(f"calibration dataset {name} in {root} ({split}) has no samples")
    idx = _spread(len(ds), n, seed)
    t = SampleTransform(input_size, ds.keypoint_set, train=False)
    batch = load_batch(ds, t, idx, keys=("image",), on_error="skip")
    info = {"source": str(root), "dataset": name, "split": split, "crop": "annotated-joint box (eval crop)"}
    return batch["image"], info


def _image_dir_crops(root: Path, n, input_size, seed) -> tuple[np.ndarray, dict]:
    from repose_tf.data import DataError, prepare_image, read_image

    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise CalibrationError(
            f"calibration dir {root} has no images (looked for {', '.join(IMAGE_EXTENSIONS)}, recursively)"
        )
    order = [files[i] for i in np.random.default_rng(seed).permutation(len(files))]
    crops, bad = [], []
    for p in order:
        if len(crops) >= n:
            break
        try:
            img, _ = read_image(str(p))
        except (DataError, OSError, ValueError) as e:
            bad.append(f"{p.name}: {e}")
            continue
        crops.append(prepare_image(img, input_size)[0])
    if not crops:
        raise CalibrationError(
            f"none of the {len(files)} images in {root} could be read (first error: {bad[0] if bad else '?'})"
        )
    info = {"source": str(root), "dataset": "images", "crop": "whole image, centred square (prepare_image)"}
    if bad:
        info["unreadable"] = len(bad)
    return np.stack(crops), info


def calibration_images(
    source: Any,
    num: int = DEFAULT_NUM_CALIBRATION,
    input_size: int = 128,
    keypoint_set: str = "lsp14",
    *,
    dataset: str = "auto",
    split: str = "train",
    seed: int = 0,
) -> tuple[np.ndarray, dict]:
    """(N, n, n, 3) float32 RGB 0..255 crops for int8 calibration, and a description.

    ``source``: an array of crops; a directory (``dataset="auto"`` detects LSPET/LSP
    ``joints.mat``, MPII ``annot/``, COCO ``annotations/``, else a plain image dir); or a tuple
    ``(dataset_name, data_dir[, split])``. Dataset samples get THE evaluation crop (the box of
    the annotated joints, no augmentation); a plain image dir gets whole-image centred crops.
    ``num`` samples are drawn without replacement with ``seed`` (all of them if fewer).
    """
    if num < 1:
        raise CalibrationError(f"num_calibration must be >= 1, got {num}")
    if isinstance(source, np.ndarray):
        x = np.asarray(source, np.float32)
        if x.ndim != 4 or x.shape[1:] != (input_size, input_size, 3) or len(x) == 0:
            raise CalibrationError(
                f"calibration array must be (N, {input_size}, {input_size}, 3), got {x.shape}"
            )
        return x[:num], {"source": "array", "dataset": "array", "crop": "given"}
    if isinstance(source, (tuple, list)):
        dataset, source, *rest = source
        split = rest[0] if rest else split
    if source is None:
        raise CalibrationError("int8 export needs calibration data: a directory of images or a dataset dir")
    if dataset not in CALIBRATION_DATASETS:
        raise CalibrationError(
            f"unknown calibration dataset {dataset!r}; choose one of {CALIBRATION_DATASETS}"
        )
    root = Path(source)
    if not root.exists():
        raise CalibrationError(f"calibration dir not found: {root}")
    if not root.is_dir():
        raise CalibrationError(f"calibration source {root} is not a directory")
    kind = _detect_dataset(root) if dataset == "auto" else dataset
    from repose_tf.data import DataError

    try:
        if kind == "images":
            x, info = _image_dir_crops(root, num, input_size, seed)
        elif kind == "lspet_or_lsp":
            try:
                x, info = _dataset_crops("lspet", root, split, num, input_size, keypoint_set, seed)
            except (DataError, ValueError):
                x, info = _dataset_crops("lsp", root, split, num, input_size, keypoint_set, seed)
        else:
            x, info = _dataset_crops(kind, root, split, num, input_size, keypoint_set, seed)
    except CalibrationError:
        raise
    except (DataError, ValueError, OSError) as e:
        raise CalibrationError(f"cannot read calibration data from {root}: {e}") from None
    info["num_images"] = int(len(x))
    return x, info


# --------------------------------------------------------------------------------------------
# Inspection: op histogram, custom/Flex ops, XNNPACK coverage
# --------------------------------------------------------------------------------------------
@dataclass
class OpReport:
    histogram: dict[str, int]
    total: int
    custom_ops: list[str]  # custom op codes (Flex ops are custom ops named Flex*)
    float_ops: int  # ops producing a float32 tensor
    subgraphs: int

    @property
    def builtin_only(self) -> bool:
        return not self.custom_ops


def inspect_tflite(model: str | os.PathLike | bytes) -> OpReport:
    """Read the flatbuffer: op histogram over all subgraphs, custom ops, float-output op count."""
    from ai_edge_litert import schema_py_generated as schema

    buf = model if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()
    try:
        m = schema.Model.GetRootAs(buf, 0)
        names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
        codes = []
        for i in range(m.OperatorCodesLength()):
            oc = m.OperatorCodes(i)
            code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
            custom = oc.CustomCode()
            if code == schema.BuiltinOperator.CUSTOM or custom:
                codes.append(("custom", (custom or b"?").decode()))
            else:
                codes.append(("builtin", names.get(code, f"BUILTIN_{code}")))
        hist: Counter = Counter()
        custom_ops: list[str] = []
        float_ops = 0
        for s in range(m.SubgraphsLength()):
            g = m.Subgraphs(s)
            for j in range(g.OperatorsLength()):
                op = g.Operators(j)
                kind, name = codes[op.OpcodeIndex()]
                hist[name] += 1
                if kind == "custom":
                    custom_ops.append(name)
                outs = [op.Outputs(k) for k in range(op.OutputsLength())]
                if any(t >= 0 and g.Tensors(t).Type() == schema.TensorType.FLOAT32 for t in outs):
                    float_ops += 1
    except Exception as e:  # noqa: BLE001 - a corrupt flatbuffer raises anything
        raise ExportError(f"cannot parse the TFLite flatbuffer: {e}") from None
    return OpReport(
        dict(hist.most_common()), sum(hist.values()), sorted(set(custom_ops)), float_ops, m.SubgraphsLength()
    )


@dataclass
class DelegateCoverage:
    """How many of the model's ops LiteRT's default XNNPACK delegate took.

    Method (exact for the main subgraph, not an op-list guess): the interpreter is built with
    the default resolver (XNNPACK applied at ``allocate_tensors``); the delegate's partitions
    appear as extra ``DELEGATE`` nodes. An op stayed on the builtin kernels iff its output is
    consumed -- directly or through other non-delegated ops -- by a partition or the model
    output without being a partition output itself, so walking back from the partitions'
    inputs and the model outputs through tensors no partition produces finds exactly them.
    """

    total: int
    delegated: int
    partitions: int
    undelegated: dict[str, int] = field(default_factory=dict)
    method: str = "interpreter node table after XNNPACK delegation (DELEGATE partitions)"

    @property
    def fraction(self) -> float:
        return self.delegated / self.total if self.total else 0.0


def xnnpack_coverage(model_path: str | os.PathLike, num_threads: int = 1) -> DelegateCoverage:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(model_path), num_threads=num_threads)
    n = len(it._get_ops_details())
    it.allocate_tensors()
    after = it._get_ops_details()
    orig, dels = after[:n], [o for o in after[n:] if o["op_name"] == "DELEGATE"]
    produced_by_delegate = {int(t) for d in dels for t in d["outputs"]}
    producer = {int(t): o["index"] for o in orig for t in o["outputs"]}
    seeds = {int(t) for d in dels for t in d["inputs"]} | {int(d["index"]) for d in it.get_output_details()}
    stack = [t for t in seeds if t not in produced_by_delegate and t in producer]
    kept: set[int] = set()
    while stack:
        node = producer[stack.pop()]
        if node in kept:
            continue
        kept.add(node)
        stack.extend(
            int(t)
            for t in orig[node]["inputs"]
            if int(t) >= 0 and int(t) not in produced_by_delegate and int(t) in producer
        )
    hist = Counter(orig[i]["op_name"] for i in kept)
    return DelegateCoverage(n, n - len(kept), len(dels), dict(hist.most_common()))


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
            "that path produces models that fail at run time (SPEC 7), refusing"
        )
    return buf


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
    from repose_tf.export.sidecar import sidecar_from_tflite, sidecar_path, write_sidecar

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
    ops = inspect_tflite(buf)
    if not ops.builtin_only:
        raise ExportError(f"converted model contains non-builtin ops {ops.custom_ops}; refusing to write it")
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
    cov = None
    if coverage:
        try:
            cov = xnnpack_coverage(output)
        except Exception as e:  # noqa: BLE001 - informative only
            say(f"(XNNPACK coverage unavailable: {e})")
    return ExportResult(
        path=output,
        format="tflite",
        quantize=quantize,
        io=io,
        size_bytes=output.stat().st_size,
        seconds=time.perf_counter() - t0,
        sidecar=sc_path if sidecar else None,
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
