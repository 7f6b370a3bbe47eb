"""How a run's model is compiled: Adam with the run's learning-rate schedule, partial MSE losses.

Below both :mod:`repose_tf.training.initialise` (a fresh or restored model) and
:mod:`repose_tf.training.resolution` (a model rebuilt at a new input size); Keras is imported
when a model is compiled, not with this module.
"""

from __future__ import annotations

from repose_tf.training.schedules import lr_schedule as make_schedule

__all__ = ["compile_model"]


def compile_model(
    model,
    *,
    total_steps: int,
    learning_rate: float,
    lr_schedule: str,
    jit_compile: bool,
    decay_steps: int | None = None,
) -> None:
    """Adam with the run's schedule and the partial MSE on every supervised stack."""
    import keras

    from repose_tf.losses import PartialMSE  # Keras: imported when a model is compiled

    model.compile(
        optimizer=keras.optimizers.Adam(make_schedule(total_steps, learning_rate, lr_schedule, decay_steps)),
        loss={n: PartialMSE() for n in model.output},
        jit_compile=jit_compile,
    )
