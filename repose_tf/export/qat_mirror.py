"""The Keras 3 RePose graph mirrored in legacy ``tf_keras`` (the only Keras tfmot's QAT works on).

A generic walk over the Keras 3 functional graph rebuilds it layer for layer with the same names
(``KinematicUpdate`` expanded into plain layers, its lambda folded into a BatchNorm), so every
config knob is covered and the weights copy by name; see :mod:`repose_tf.export.qat` for the run.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from repose_tf.export import ExportError


class QATError(ExportError):
    """QAT could not be done (missing tfmot, unmirrorable layer, weight mismatch, ...)."""


def legacy_keras_ready() -> bool:
    """True when this process can use tf_keras/tfmot: TF_USE_LEGACY_KERAS=1 and tf.keras is tf_keras."""
    if os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        return False
    if "tensorflow" not in sys.modules:
        return True
    import tensorflow as tf

    version = getattr(tf.keras, "version", None)  # tfmot's own test (compat.py): Keras 3 has "3.x"
    return not (callable(version) and str(version()).startswith("3."))


def _require_tfmot():
    try:
        import tensorflow_model_optimization as tfmot
        import tf_keras
    except ImportError as e:
        raise QATError(
            f"QAT needs the extras in requirements-qat.txt (tf-keras, tensorflow-model-optimization): {e}"
        ) from None
    return tf_keras, tfmot


def _act_name(layer) -> str:
    act = layer.get_config().get("activation", "linear")
    if isinstance(act, dict):  # serialized activation
        act = act.get("config", {}).get("name") or act.get("class_name")
    return str(act)


def build_mirror(model3, annotate: bool = False):
    """tf_keras functional mirror of a Keras 3 functional RePose; returns (model, weight plan).

    The weight plan is a list of ``(mirror_layer_name, [numpy weights])`` plus the set of the
    Keras 3 variables used, for :func:`copy_weights`.
    """
    tf_keras, tfmot = _require_tfmot()
    import keras
    from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
        default_8bit_quantize_configs as cfgs,
    )

    from repose_tf.layers import KinematicUpdate, ResizeTo

    L = tf_keras.layers
    annotate_layer = tfmot.quantization.keras.quantize_annotate_layer
    plan: list[tuple[str, list]] = []
    used: set[int] = set()

    def wrap(layer, output_only: bool = False):
        if not annotate:
            return layer
        if output_only:
            return annotate_layer(layer, cfgs.Default8BitOutputQuantizeConfig())
        return annotate_layer(layer)

    def take(name: str, variables: list) -> None:
        plan.append((name, [np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in variables]))
        used.update(id(v) for v in variables)

    def conv(src, name: str):
        c = src.get_config()
        layer = L.Conv2D(
            c["filters"],
            c["kernel_size"],
            strides=c["strides"],
            padding=c["padding"],
            dilation_rate=c["dilation_rate"],
            groups=c.get("groups", 1),
            activation=_act_name(src),
            use_bias=c["use_bias"],
            name=name,
        )
        take(name, src.weights)
        return wrap(layer)

    def bn(src, name: str, scale: Any = None):
        c = src.get_config()
        layer = L.BatchNormalization(
            axis=c["axis"],
            momentum=c["momentum"],
            epsilon=c["epsilon"],
            center=c["center"],
            scale=c["scale"],
            name=name,
        )
        if scale is None:
            take(name, src.weights)
        else:  # fold a scalar multiplier: lam * BN(x) == BN(x) with gamma*lam, beta*lam
            if not (c["center"] and c["scale"]):
                raise QATError(f"{src.name}: cannot fold lambda into a BatchNorm without gamma and beta")
            lam = float(np.asarray(scale.numpy()))
            gamma, beta, mean, var = (np.asarray(v.numpy()) for v in src.weights)
            plan.append((name, [gamma * lam, beta * lam, mean, var]))
            used.update(id(v) for v in src.weights)
            used.add(id(scale))
        return wrap(layer, output_only=True)

    tensors: dict[tuple[int, int], Any] = {}

    def key(t):
        op, _node, idx = t._keras_history
        return (id(op), idx)

    inputs = []
    for t in model3.inputs:
        x = tf_keras.Input(shape=tuple(t.shape[1:]), name=t.name if isinstance(t.name, str) else "image")
        inputs.append(x)
        tensors[key(t)] = x

    for layer in model3.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        nodes = [n for n in layer._inbound_nodes if all(key(t) in tensors for t in n.input_tensors)]
        if len(nodes) != 1:
            raise QATError(
                f"layer {layer.name} is used {len(layer._inbound_nodes)} times; the mirror needs one use"
            )
        node = nodes[0]
        ins = [tensors[key(t)] for t in node.input_tensors]
        name = layer.name
        if isinstance(layer, KinematicUpdate):
            c = L.Concatenate(axis=-1, name=f"{name}_concat") if len(ins) > 1 else None
            x = wrap(c)(ins) if c is not None else ins[0]
            x = conv(layer.h_conv, f"{name}_h_conv")(x)
            x = bn(layer.h_bn, f"{name}_h_bn")(x)
            nb = len(layer.g_convs)
            for i, (gc, gb) in enumerate(zip(layer.g_convs, layer.g_bns, strict=True)):
                x = conv(gc, f"{name}_g{i}_conv")(x)
                fold = layer.lam if (layer.strategy == "trainable" and i == nb - 1) else None
                x = bn(gb, f"{name}_g{i}_bn", scale=fold)(x)
            out = x if layer.strategy == "replace" else wrap(L.Add(name=f"{name}_add"))([ins[0], x])
        elif isinstance(layer, ResizeTo):
            h, w = int(ins[0].shape[1]), int(ins[0].shape[2])
            if (h, w) == (layer.height, layer.width):
                out = ins[0]
            elif layer.height % h == 0 and layer.width % w == 0:
                up = L.UpSampling2D(
                    (layer.height // h, layer.width // w), interpolation="bilinear", name=name
                )
                out = wrap(up)(ins[0])
            else:
                raise QATError(
                    f"{name}: resize {h}x{w} -> {layer.height}x{layer.width} is not an integer factor"
                )
        elif isinstance(layer, keras.layers.Conv2D):
            out = conv(layer, name)(ins[0])
        elif isinstance(layer, keras.layers.BatchNormalization):
            out = bn(layer, name)(ins[0])
        elif isinstance(layer, keras.layers.Concatenate):
            out = wrap(L.Concatenate(axis=layer.axis, name=name))(ins)
        elif isinstance(layer, keras.layers.Add):
            out = wrap(L.Add(name=name))(ins)
        elif isinstance(layer, keras.layers.Rescaling):
            c = layer.get_config()
            out = wrap(L.Rescaling(c["scale"], offset=c["offset"], name=name), output_only=True)(ins[0])
        elif isinstance(layer, keras.layers.Activation):
            out = wrap(L.Activation(_act_name(layer), name=name))(ins[0])
        else:
            raise QATError(f"no tf_keras mirror for layer {name} ({type(layer).__name__})")
        outs = node.output_tensors
        if len(outs) != 1:
            raise QATError(f"layer {name} has {len(outs)} outputs; the mirror handles one")
        tensors[key(outs[0])] = out

    outputs = [tensors[key(t)] for t in model3.outputs]
    mirror = tf_keras.Model(
        inputs, outputs[0] if len(outputs) == 1 else outputs, name=f"{model3.name}_tf_keras"
    )
    unused = [v.path for v in model3.weights if id(v) not in used]
    if unused:
        raise QATError(f"{len(unused)} Keras 3 weights have no place in the mirror, e.g. {unused[:3]}")
    return mirror, plan


def copy_weights(mirror, plan) -> int:
    """Set the planned weights by layer name; every mirror weight must be set exactly once."""
    seen = set()
    n = 0
    for name, values in plan:
        try:
            layer = mirror.get_layer(name)
        except ValueError:
            layer = _find_wrapped(mirror, name)
        inner = getattr(layer, "layer", layer)  # annotation / quantize wrappers
        expect = [tuple(w.shape) for w in inner.weights]
        got = [tuple(v.shape) for v in values]
        if expect != got:
            raise QATError(f"weight shapes differ for {name}: mirror {expect} vs Keras 3 {got}")
        inner.set_weights(values)
        seen.add(name)
        n += sum(int(np.prod(v.shape)) for v in values)
    missing = [
        getattr(lay, "layer", lay).name
        for lay in mirror.layers
        if getattr(lay, "layer", lay).weights and getattr(lay, "layer", lay).name not in seen
    ]
    if missing:
        raise QATError(f"mirror layers without Keras 3 weights: {missing[:5]}")
    return n


def _find_wrapped(model, name):
    for lay in model.layers:
        if getattr(getattr(lay, "layer", None), "name", None) == name:
            return lay
    raise QATError(f"no layer {name} in the mirror")


__all__ = ["QATError", "build_mirror", "copy_weights", "legacy_keras_ready"]
