"""tf.distribute strategies, logical CPU devices and which worker is the chief."""

from __future__ import annotations

import contextlib
import json
import os

from repose_tf.training.errors import TrainingError


def configure_cpu_devices(n: int | None) -> None:
    """Split the CPU into ``n`` logical devices (to run ``mirrored`` on one CPU); before any op runs."""
    if not n:
        return
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)


def make_strategy(name: str):
    """The tf.distribute strategy ``name`` (TensorFlow backend only; None on the others)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        if name != "default":
            raise TrainingError(f"--strategy {name} needs the TensorFlow backend")
        return None
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise TrainingError(
                "--strategy multi_worker needs TF_CONFIG (cluster and task) in the environment"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def strategy_scope(strategy):
    """``strategy.scope()``, or a no-op where there is no strategy (JAX backend)."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def is_chief() -> bool:
    """True on the worker that writes checkpoints and logs (``TF_CONFIG`` chief, else worker 0)."""
    cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = cfg.get("task", {})
    kind = task.get("type", "worker")
    return kind == "chief" or (kind == "worker" and task.get("index", 0) == 0)


__all__ = ["configure_cpu_devices", "is_chief", "make_strategy", "strategy_scope"]
