"""Model files: their kinds and errors, a RePose Keras model from a file, its config resolved.

    load_repose("models/repose_lsp14.keras")                      # the form it was saved in
    load_repose("run/best.weights.h5", config="repose_lsp14")     # weights + an architecture
    resolve_config("my_config.json")                              # -> RePoseConfig

Below both the runtime (:mod:`repose_tf.runtime`, which runs any model file) and the exporters
(:mod:`repose_tf.export`): everything that turns a path into a RePose model lives here once.

* ``.keras``: a saved :class:`~repose_tf.model.RePose` (training or inference form).
* ``.weights.h5``: weights plus an architecture: ``config=`` (a :class:`RePoseConfig`, a dict, a
  preset name or a JSON file) or a JSON file beside the weights, ``X.config.json`` for
  ``X.weights.h5`` (then ``X.json``, then ``config.json``). The JSON is a RePoseConfig dict,
  ``{"config": {...}}`` (``RePose.get_config()``) or ``{"preset": name, "overrides": {...}}``.

Errors are :class:`ModelLoadError` (a ``ValueError``) with a one-line reason: missing file,
unknown extension, not a RePose model, unreadable file.

Importing this module stays light (no TensorFlow): Keras and :mod:`repose_tf.model` are imported
by the functions that build a model, so ``--help`` and the TFLite/ONNX runtimes start fast.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

from repose_tf.config import PRESETS, RePoseConfig, get_preset
from repose_tf.training.precision import float32_policy

__all__ = [
    "KINDS",
    "ModelLoadError",
    "as_float32",
    "check_model_file",
    "config_beside",
    "find_preset",
    "load_float32",
    "load_repose",
    "model_kind",
    "resolve_config",
    "short_error",
]

#: The runtimes a model file can run on (``weights`` files run as ``keras``).
KINDS = ("keras", "tflite", "onnx")


class ModelLoadError(ValueError):
    """A model file is missing, of an unknown kind, unreadable, or not a RePose model."""


def short_error(e: BaseException, limit: int = 300) -> str:
    """The first line of an exception message (TF errors carry pages of context)."""
    text = str(e).strip().splitlines()
    msg = text[0] if text else type(e).__name__
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


def model_kind(path: str | os.PathLike) -> str:
    """``keras`` (``.keras``), ``weights`` (``.weights.h5`` / ``.h5``), ``tflite`` or ``onnx``."""
    name = Path(path).name.lower()
    if name.endswith(".keras"):
        return "keras"
    if name.endswith(".h5"):
        return "weights"
    if name.endswith(".tflite"):
        return "tflite"
    if name.endswith(".onnx"):
        return "onnx"
    raise ModelLoadError(
        f"{path}: unknown model file type; expected .keras, .weights.h5 (+ config), .tflite or .onnx"
    )


def _is_derived(p: Path) -> bool:
    """Whether ``p`` is listed as derived (regenerated, not committed) by a release manifest beside it."""
    try:
        return p.name in json.loads((p.parent / "manifest.json").read_text()).get("derived", {})
    except (OSError, ValueError, AttributeError):
        return False


def check_model_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path when it is a non-empty file, else a :class:`ModelLoadError` saying why."""
    p = Path(path)
    if not p.exists():
        if _is_derived(p):
            raise ModelLoadError(
                f"model file not found: {p}; it is a derived file of the release in {p.parent} (not "
                f"committed): make it with `python tools/ship_model.py --regenerate --output_dir {p.parent}`"
            )
        raise ModelLoadError(f"model file not found: {p}")
    if not p.is_file():
        raise ModelLoadError(f"{p} is not a file")
    if p.stat().st_size == 0:
        raise ModelLoadError(f"{p} is empty")
    return p


# --------------------------------------------------------------------------------------------
# Config resolution
# --------------------------------------------------------------------------------------------
def find_preset(cfg) -> str:
    """The name of the preset whose config equals ``cfg``, else ``"custom"``."""
    for name, preset in PRESETS.items():
        if preset.config == cfg:
            return name
    return "custom"


def resolve_config(config: Any) -> RePoseConfig:
    """A RePoseConfig from a RePoseConfig, a dict, a preset name, or a JSON file path."""
    if isinstance(config, RePoseConfig):
        return config
    if isinstance(config, (str, os.PathLike)):
        s = str(config)
        if s in PRESETS:
            return get_preset(s)
        p = Path(s)
        if not p.is_file():
            raise ModelLoadError(f"config {s!r} is neither a preset ({', '.join(PRESETS)}) nor a JSON file")
        try:
            config = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ModelLoadError(f"{p}: cannot read the config JSON: {short_error(e)}") from None
    if not isinstance(config, dict):
        raise ModelLoadError(f"unsupported config {config!r}")
    try:
        if "preset" in config:
            return get_preset(config["preset"], **config.get("overrides", {}))
        if isinstance(config.get("config"), dict):
            return RePoseConfig.from_dict(config["config"])
        return RePoseConfig.from_dict(config)
    except (TypeError, ValueError) as e:
        raise ModelLoadError(f"invalid RePose config: {short_error(e)}") from None


def _weights_stem(weights: Path) -> str:
    return weights.name[: -len(".weights.h5")] if weights.name.endswith(".weights.h5") else weights.stem


def config_beside(weights: str | os.PathLike) -> Path | None:
    """The config JSON beside a ``.weights.h5`` file: ``X.config.json``, ``X.json``, ``config.json``."""
    weights = Path(weights)
    stem = _weights_stem(weights)
    for cand in (f"{stem}.config.json", f"{stem}.json", "config.json"):
        p = weights.with_name(cand)
        if p.is_file():
            return p
    return None


# --------------------------------------------------------------------------------------------
# Keras models: .keras and .weights.h5 (Keras and repose_tf.model are imported on first use)
# --------------------------------------------------------------------------------------------
def as_float32(model):
    """``model`` itself when it computes in float32, else a float32 rebuild with its weights.

    A checkpoint trained under ``mixed_bfloat16`` records that policy in every layer's config;
    inference, evaluation and export must not inherit it (``docs/architecture.md``, "Mixed
    precision"). Mixed-precision variables are float32, so the weights copy exactly.
    """
    if all(layer.dtype_policy.name == "float32" for layer in model.layers):
        return model
    from repose_tf.model import RePose  # Keras on first use

    with float32_policy():
        fresh = RePose(model.repose_config, inference=model.inference, name=model.name)
    fresh.set_weights(model.get_weights())
    return fresh


def load_repose(path: str | os.PathLike, config: Any = None):
    """Load a :class:`~repose_tf.model.RePose` (in the form it was saved) from .keras or .weights.h5."""
    p = check_model_file(path)
    kind = model_kind(p)
    if kind not in ("keras", "weights"):
        raise ModelLoadError(f"{p}: a Keras model (.keras or .weights.h5) is needed here, got a .{kind} file")
    import keras  # TensorFlow/Keras load when a model is built, not with this module

    from repose_tf.model import RePose  # registers the custom objects

    if kind == "keras":
        if not zipfile.is_zipfile(p):
            raise ModelLoadError(f"{p}: not a Keras archive (a .keras file is a zip); is it a RePose model?")
        try:
            model = keras.saving.load_model(p, compile=False)
        except Exception as e:  # noqa: BLE001 - Keras raises anything from TypeError to KeyError here
            raise ModelLoadError(f"{p}: cannot load as a Keras model: {short_error(e)}") from None
        if not isinstance(model, RePose):
            raise ModelLoadError(
                f"{p}: holds a {type(model).__name__} named {model.name!r}, not a RePose model "
                "(save RePose models with model.save('X.keras'))"
            )
        return as_float32(model)

    cfg_source = config if config is not None else config_beside(p)
    if cfg_source is None:
        raise ModelLoadError(
            f"{p}: a .weights.h5 file needs its architecture: pass config= (preset name, dict or JSON) "
            f"or put {_weights_stem(p)}.config.json beside it"
        )
    cfg = resolve_config(cfg_source)
    errors = []
    for inference in (False, True):  # weights saved from the training form, else the inference form
        model = RePose(cfg, inference=inference)
        try:
            with warnings.catch_warnings():  # a failed attempt warns about every skipped layer
                warnings.simplefilter("ignore")
                model.load_weights(p)
            return model
        except Exception as e:  # noqa: BLE001
            errors.append(short_error(e))
    raise ModelLoadError(f"{p}: the weights do not fit the RePose config ({errors[0]})")


def load_float32(path: str | os.PathLike):
    """An uncompiled RePose computing in float32 with ``path``'s weights (no optimizer state), in
    the form it was saved: what a release, an average or an export starts from."""
    from repose_tf.model import RePose  # Keras on first use

    src = load_repose(path)
    if src.inference:
        return src  # already the inference form: nothing more to strip
    with float32_policy():  # a release computes in float32 whatever the run trained in
        fresh = RePose(src.repose_config)
    fresh.set_weights(src.get_weights())
    return fresh
