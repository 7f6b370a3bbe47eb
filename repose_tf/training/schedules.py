"""Learning-rate schedules over a run of ``total_steps``."""

from __future__ import annotations

from repose_tf.training.errors import TrainingError

LR_SCHEDULES = ("paper", "cosine", "warmup_cosine", "constant", "warmup_constant", "warmup_stable_decay")
#: Share of the run ``warmup_cosine`` spends ramping the learning rate up linearly.
WARMUP_FRACTION = 0.05
#: Steps ``warmup_constant`` ramps over: enough for fresh Adam moments to settle, not a new peak.
TRUNK_WARMUP_STEPS = 100


def lr_schedule(total_steps: int, lr: float, kind: str = "paper", decay_steps: int | None = None):
    """A Keras learning-rate schedule (or a float for ``constant``).

    ``paper``: 1e-3, x0.5 at 1M and 1e-6 at 1.3M of 2M steps, scaled to the run length (the last
    35% barely moves the weights: right for the paper's 2M steps, wasteful for short runs);
    ``cosine``: cosine decay to 1% of ``lr``; ``warmup_cosine``: linear warmup from 1% to ``lr``
    over the first 5% of steps (a higher peak survives the first steps of a random init), then
    cosine decay to 1%; ``constant``; ``warmup_constant``: the campaign trunk's steady rate,
    reached by a linear ramp from 1% over ``TRUNK_WARMUP_STEPS`` (at most 5% of the run) so that a
    stretch continuing the trunk with fresh optimizer moments does not jolt the weights;
    ``warmup_stable_decay``: ``warmup_constant`` whose last ``decay_steps`` fall linearly to zero
    (:class:`repose_tf.training.wsd.WarmupStableDecay`): a decay branch taken from the trunk by
    resuming a copy of its run with a later ``steps``, the trunk itself going on undecayed.
    """
    import keras

    if kind == "constant":
        return lr
    if kind == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, max(1, total_steps), alpha=0.01)
    if kind == "warmup_constant":  # alpha=1: the "decay" after the warmup is flat at lr
        warm = max(1, min(TRUNK_WARMUP_STEPS, round(WARMUP_FRACTION * total_steps)))
        return keras.optimizers.schedules.CosineDecay(
            lr * 0.01, 1, alpha=1.0, warmup_target=lr, warmup_steps=warm
        )
    if kind == "warmup_stable_decay":
        from repose_tf.training.wsd import WarmupStableDecay

        if not decay_steps or decay_steps < 1:
            raise TrainingError("lr schedule warmup_stable_decay needs decay_steps >= 1")
        warm = max(1, min(TRUNK_WARMUP_STEPS, round(WARMUP_FRACTION * total_steps)))
        return WarmupStableDecay(lr, total_steps, min(decay_steps, total_steps), warm)
    if kind == "warmup_cosine":
        warm = max(1, round(WARMUP_FRACTION * total_steps))
        return keras.optimizers.schedules.CosineDecay(
            lr * 0.01, max(1, total_steps - warm), alpha=0.01, warmup_target=lr, warmup_steps=warm
        )
    if kind != "paper":
        raise TrainingError(f"unknown lr schedule {kind!r} ({', '.join(LR_SCHEDULES)})")
    b1, b2 = max(1, int(0.5 * total_steps)), max(2, int(0.65 * total_steps))
    return keras.optimizers.schedules.PiecewiseConstantDecay([b1, b2], [lr, lr * 0.5, 1e-6])


__all__ = ["LR_SCHEDULES", "TRUNK_WARMUP_STEPS", "WARMUP_FRACTION", "lr_schedule"]
