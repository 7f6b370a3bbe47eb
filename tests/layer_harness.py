"""A small shared harness for custom-layer tests, in the shape of Keras-Hub's ``run_layer_test``.

``run_layer_config_round_trip`` builds a layer, checks that ``get_config`` -> ``from_config`` and
Keras serialisation give the same layer (same config, same output with the same weights) and that
the output shape matches ``compute_output_shape``. Each custom layer's test is one call.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np


def run_layer_config_round_trip(
    layer_cls: type,
    init_kwargs: dict[str, Any],
    input_data: Any,
    *,
    expected_output_shape: tuple[int, ...] | None = None,
    atol: float = 1e-6,
) -> keras.layers.Layer:
    """Build ``layer_cls(**init_kwargs)`` on ``input_data`` and check its config round trips."""
    layer = layer_cls(**init_kwargs)
    out = keras.ops.convert_to_numpy(layer(input_data, training=False))
    if expected_output_shape is not None:
        assert out.shape == tuple(expected_output_shape), (out.shape, expected_output_shape)
    shapes = [tuple(x.shape) for x in input_data] if isinstance(input_data, list) else tuple(input_data.shape)
    assert tuple(layer.compute_output_shape(shapes)) == out.shape
    config = layer.get_config()
    for key, value in init_kwargs.items():
        assert config[key] == value, (key, config[key], value)
    for clone in (
        layer_cls.from_config(config),
        keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer)),
    ):
        assert type(clone) is layer_cls
        assert clone.get_config() == config
        clone(input_data, training=False)  # build, then take the original's weights
        clone.set_weights(layer.get_weights())
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(clone(input_data, training=False)), out, atol=atol
        )
    return layer
