"""Parameter and FLOP counts read off a built Keras graph.

FLOPs = 2 x multiply-adds of every convolution (Conv2D, including those nested in
KinematicUpdate), from each layer's built input shape (padding "same": out = ceil(in / stride)).
Bias adds, BatchNorm, ReLU, concatenation and bilinear resizes are not counted; ``other_flops``
estimates them separately so the difference is visible (it is about 1% of the total).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class ModelProfile:
    params: int
    trainable_params: int
    flops: int  # 2 x conv multiply-adds
    other_flops: int  # rough count of the elementwise work not in ``flops``

    @property
    def gflops(self) -> float:
        return self.flops / 1e9


def _input_shape(layer) -> tuple:
    shapes = getattr(layer, "_build_shapes_dict", None) or {}
    shape = next(iter(shapes.values()), None)
    if shape is None:
        raise ValueError(f"layer {layer.name} is not built; build the model before profiling")
    return tuple(shape)


def profile_model(model: keras.Model) -> ModelProfile:
    """Count params and FLOPs of ``model`` (batch size 1)."""
    flops = other = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, cin = _input_shape(layer)
            kh, kw = layer.kernel_size
            sh, sw = layer.strides
            oh, ow = math.ceil(h / sh), math.ceil(w / sw)
            flops += 2 * oh * ow * layer.filters * kh * kw * cin // layer.groups
            other += 2 * oh * ow * layer.filters  # bias + ReLU
        elif isinstance(layer, keras.layers.BatchNormalization):
            _, h, w, c = _input_shape(layer)
            other += 2 * h * w * c
    trainable = sum(int(math.prod(v.shape)) for v in model.trainable_weights)
    return ModelProfile(model.count_params(), trainable, flops, other)
