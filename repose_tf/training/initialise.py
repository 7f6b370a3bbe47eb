"""How a run's model starts: fresh from its preset, restored from a checkpoint, or warm-started."""

from __future__ import annotations

from pathlib import Path

from repose_tf.config import architecture_diff
from repose_tf.loading import ModelLoadError, load_repose
from repose_tf.training.errors import TrainingError
from repose_tf.training.optimizer import compile_model  # re-exported: its home is training.optimizer


def restore(ckpt: Path, *, total_steps: int, learning_rate: float, lr_schedule: str):
    """``(model, step)`` from a training checkpoint, optimizer state included.

    The learning-rate schedule is set from the run's (checked) config, so an allowed change of
    ``learning_rate``, ``lr_schedule`` or ``steps`` takes effect; unchanged, it is the same schedule.
    """
    import keras

    import repose_tf.losses  # noqa: F401  (registers PartialMSE for load_model)
    import repose_tf.model  # noqa: F401  (registers RePose and its layers)
    from repose_tf.training.schedules import lr_schedule as make_schedule

    try:
        model = keras.saving.load_model(ckpt)
    except Exception as e:  # a truncated file cannot happen (atomic writes), but say what failed
        raise TrainingError(f"could not load checkpoint {ckpt}: {e}") from e
    schedule = make_schedule(total_steps, learning_rate, lr_schedule)
    opt = model.optimizer
    try:
        opt.learning_rate = schedule  # assigns a constant, or replaces the schedule
    except TypeError:  # Keras cannot turn a scheduled optimizer back into a constant one
        raise TrainingError(
            f"--resume: {ckpt} was trained with a learning-rate schedule; it cannot resume as constant"
        ) from None
    return model, int(opt.iterations.numpy())


def warm_start(model, path: str | Path) -> tuple[int, list[str]]:
    """Copy weights from the model file ``path`` into ``model`` by layer name (or, for a trunk
    ``.npz`` weight set, by variable path: the count returned is then of variables).

    The source may be the inference form (no auxiliary heads): layers it lacks keep their fresh
    initialisation and are returned by name. A different architecture is a :class:`TrainingError`.
    """
    if str(path).endswith(".npz"):  # the campaign trunk's compact weight set (repose_tf.training.trunk)
        from repose_tf.training.trunk import load_into

        try:
            done, missing = load_into(model, path)
        except (FileNotFoundError, ValueError) as e:
            raise TrainingError(f"--init_weights: {e}") from None
        return done, missing
    try:
        src = load_repose(path)
    except (ModelLoadError, FileNotFoundError) as e:
        raise TrainingError(f"--init_weights: {e}") from None
    diff = architecture_diff(model.repose_config, src.repose_config)
    if diff:
        raise TrainingError(f"--init_weights {path}: a different architecture (theirs, ours): {diff}")
    source = {layer.name: layer for layer in src.layers}
    copied, fresh = 0, []
    for layer in model.layers:
        if not layer.weights:
            continue
        if layer.name in source:
            layer.set_weights(source[layer.name].get_weights())
            copied += 1
        else:
            fresh.append(layer.name)
    return copied, fresh


__all__ = ["compile_model", "restore", "warm_start"]
