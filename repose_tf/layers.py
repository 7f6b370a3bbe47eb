"""RePose building blocks: the paper's conv block, the kinematic feature update, an export-safe resize.

All layers use ``keras.ops`` only (no ``tf.``), so the same model trains under the JAX backend
and its weights load into the TensorFlow build for TFLite / ONNX export.
"""

from __future__ import annotations

import keras
from keras import layers, ops

_PKG = "repose_tf"


def conv_block(
    x,
    filters: int,
    kernel: int = 3,
    stride: int = 1,
    *,
    bn: bool = True,
    activation: str = "relu",
    bn_momentum: float = 0.99,
    name: str,
):
    """The paper's (K,S,F) block: Conv2D -> ReLU -> BatchNorm (the paper's order); (K,S,F)u drops the BN."""
    x = layers.Conv2D(
        filters, kernel, strides=stride, padding="same", activation=activation, name=f"{name}_conv"
    )(x)
    if bn:
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_bn")(x)
    return x


def conv_stack(x, filters: int, blocks: int, *, kernel: int = 3, bn_momentum: float = 0.99, name: str):
    """(K,1,F)^r: r conv blocks in a row (Figure 2's ``f`` is ``conv_stack(x, 64, 4)``)."""
    for i in range(blocks):
        x = conv_block(x, filters, kernel, bn_momentum=bn_momentum, name=f"{name}_{i}")
    return x


@keras.saving.register_keras_serializable(_PKG)
class ResizeTo(layers.Layer):
    """Bilinear resize to a fixed size via ``keras.ops.image.resize``.

    Used instead of ``keras.layers.Resizing``, which leaks ``training=True`` into later layers
    when a loaded model is called without ``training=False`` (docs/architecture.md, "Toolchain
    facts"). Converts to TFLite's builtin RESIZE_BILINEAR and ONNX Resize.
    """

    def __init__(self, height: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)

    def call(self, x):
        if x.shape[1] == self.height and x.shape[2] == self.width:
            return x
        return ops.image.resize(x, (self.height, self.width), interpolation="bilinear")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


@keras.saving.register_keras_serializable(_PKG)
class KinematicUpdate(layers.Layer):
    """One keypoint's feature update along the kinematic graph (paper section 3.2, eqs. 1-2).

    Called on ``[f_k, f_j for j in N(k)]``::

        c_k = concat(f_k, f_j ...)              (1)
        f_k <- f_k + lambda_k * g_k(h_k(c_k))   (2)

    with h_k a (1,1,F) block, g_k ``num_blocks`` (3,1,F) blocks and lambda_k a trainable scalar.
    ``strategy`` "add" fixes lambda to 1 and "replace" returns g_k(h_k(c_k)) (paper table 5).
    """

    def __init__(
        self,
        filters: int = 32,
        num_blocks: int = 4,
        strategy: str = "trainable",
        lambda_init: float = 0.1,
        bn_momentum: float = 0.99,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if strategy not in ("trainable", "add", "replace"):
            raise ValueError(f"strategy must be 'trainable', 'add' or 'replace', got {strategy!r}")
        self.filters, self.num_blocks = int(filters), int(num_blocks)
        self.strategy, self.lambda_init = strategy, float(lambda_init)
        self.bn_momentum = float(bn_momentum)
        self.h_conv = layers.Conv2D(self.filters, 1, padding="same", activation="relu", name="h_conv")
        self.h_bn = layers.BatchNormalization(momentum=self.bn_momentum, name="h_bn")
        self.g_convs = [
            layers.Conv2D(self.filters, 3, padding="same", activation="relu", name=f"g{i}_conv")
            for i in range(self.num_blocks)
        ]
        self.g_bns = [
            layers.BatchNormalization(momentum=self.bn_momentum, name=f"g{i}_bn")
            for i in range(self.num_blocks)
        ]

    def build(self, input_shape):
        shapes = list(input_shape)
        if shapes[0][-1] != self.filters:
            raise ValueError(f"{self.name}: f_k has {shapes[0][-1]} channels, expected {self.filters}")
        concat = (*shapes[0][:-1], sum(s[-1] for s in shapes))
        self.h_conv.build(concat)
        out = (*shapes[0][:-1], self.filters)
        self.h_bn.build(out)
        for conv, bn in zip(self.g_convs, self.g_bns, strict=True):
            conv.build(out)
            bn.build(out)
        if self.strategy == "trainable":
            self.lam = self.add_weight(
                name="lambda",
                shape=(),
                initializer=keras.initializers.Constant(self.lambda_init),
                trainable=True,
            )

    def call(self, inputs, training=None):
        f_k = inputs[0]
        c = ops.concatenate(list(inputs), axis=-1) if len(inputs) > 1 else f_k
        x = self.h_bn(self.h_conv(c), training=training)
        for conv, bn in zip(self.g_convs, self.g_bns, strict=True):
            x = bn(conv(x), training=training)
        if self.strategy == "replace":
            return x
        if self.strategy == "add":
            return f_k + x
        return f_k + ops.cast(self.lam, x.dtype) * x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "num_blocks": self.num_blocks,
            "strategy": self.strategy,
            "lambda_init": self.lambda_init,
            "bn_momentum": self.bn_momentum,
        }
