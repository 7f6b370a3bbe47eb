"""The NaN guard: stop at the first non-finite loss, before a checkpoint with NaN weights exists."""

from __future__ import annotations

import math

import keras


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops training at the first NaN/Inf batch loss and remembers where."""

    def __init__(self) -> None:
        super().__init__()
        self.bad_step: int | None = None
        self.bad_value: float | None = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.bad_step = int(self.model.optimizer.iterations.numpy())
            self.bad_value = float(loss)
            self.model.stop_training = True


__all__ = ["NonFiniteGuard"]
