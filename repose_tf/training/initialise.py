"""How a run's model starts: fresh from its preset, restored from a checkpoint, or warm-started."""

from __future__ import annotations

from pathlib import Path

from repose_tf.config import architecture_diff
from repose_tf.loading import ModelLoadError, load_repose
from repose_tf.training.errors import TrainingError
from repose_tf.training.optimizer import compile_model  # re-exported: its home is training.optimizer


def build_training_state(model, batch_spec) -> None:
    """Create the optimizer's slots and the loss trackers before the first train step is traced.

    Without a tf.distribute strategy, Keras (TensorFlow backend) creates them inside the first
    trace of the train step, and TensorFlow then traces the step a second time, now without
    creating variables: on repose_tiny that second trace is half of a ~40-70 s start (the Adam
    update alone is ~1,000 per-variable ops). Under a strategy Keras builds them up front itself
    (``Trainer._symbolic_build``, the same call), so every run now starts that way; the variables
    and their initial values are the same, only the first step's tracing is shorter.

    ``batch_spec``: the structure of one training batch, e.g. a ``tf.data.Dataset``'s
    ``element_spec`` (anything with ``shape`` and ``dtype`` per leaf).
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return  # JAX traces once whatever is built
    model._symbolic_build(data_batch=batch_spec)  # model, loss trackers, optimizer (if unbuilt)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def restore(
    ckpt: Path, *, total_steps: int, learning_rate: float, lr_schedule: str, decay_steps: int | None = None
):
    """``(model, step)`` from a training checkpoint, optimizer state included.

    The learning-rate schedule is set from the run's (checked) config, so an allowed change of
    ``learning_rate``, ``lr_schedule`` or ``steps`` takes effect; unchanged, it is the same schedule.
    """
    import keras

    import repose_tf.losses  # noqa: F401  (registers PartialMSE for load_model)
    import repose_tf.model  # noqa: F401  (registers RePose and its layers)
    import repose_tf.training.wsd  # noqa: F401  (registers a decay branch's schedule)
    from repose_tf.training.schedules import lr_schedule as make_schedule

    try:
        model = keras.saving.load_model(ckpt)
    except Exception as e:  # a truncated file cannot happen (atomic writes), but say what failed
        raise TrainingError(f"could not load checkpoint {ckpt}: {e}") from e
    schedule = make_schedule(total_steps, learning_rate, lr_schedule, decay_steps)
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


__all__ = ["build_training_state", "compile_model", "restore", "warm_start"]
