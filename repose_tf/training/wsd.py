"""Warmup-stable-decay: the trunk's steady rate, annealed to zero over a branch's last steps.

Why: a model trained at a steady rate sits above the minimum it is circling; annealing the rate
settles it (every restart stretch's last gains came from its cosine tail). Taking that anneal as a
short branch off a copy of the trunk's run, instead of ending the trunk with it, is the
warmup-stable-decay schedule (Hagele et al. 2024, "Scaling Laws and Compute-Optimal Training
Beyond Fixed Training Durations"; MiniCPM): the branch costs only its own steps and the trunk goes
on from where it was. The decay is linear to zero, which those studies found as good as cosine.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="repose_tf")
class WarmupStableDecay(keras.optimizers.schedules.LearningRateSchedule):
    """A linear ramp from 1% to ``learning_rate`` over ``warmup_steps``, the steady rate, then a
    linear fall to zero over the last ``decay_steps`` of ``total_steps``."""

    def __init__(self, learning_rate: float, total_steps: int, decay_steps: int, warmup_steps: int):
        self.learning_rate = float(learning_rate)
        self.total_steps = int(total_steps)
        self.decay_steps = max(1, int(decay_steps))
        self.warmup_steps = max(1, int(warmup_steps))

    def __call__(self, step):
        step = ops.cast(step, "float32")
        lr = self.learning_rate
        ramp = lr * 0.01 + (lr - lr * 0.01) * ops.minimum(step / self.warmup_steps, 1.0)
        tail = ops.clip((self.total_steps - step) / self.decay_steps, 0.0, 1.0)
        return ramp * tail

    def get_config(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "total_steps": self.total_steps,
            "decay_steps": self.decay_steps,
            "warmup_steps": self.warmup_steps,
        }


__all__ = ["WarmupStableDecay"]
