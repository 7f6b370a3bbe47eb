"""Training RePose: a :class:`TrainConfig` and the engine that runs it.

``python -m repose_tf.train`` parses flags into a TrainConfig and calls :func:`train`; code can do
the same. One module per part of the engine: ``config`` (the checked choices), ``precision``
(``--mixed_precision auto``), ``data`` (the resumable stream), ``schedules``, ``initialise``
(fresh, restored or warm-started model), ``checkpoint`` (history and atomic checkpoints),
``guard`` (NaN stop), ``strategy`` (tf.distribute) and ``engine`` (the order they run in).
"""

from __future__ import annotations

from repose_tf.training.config import CONFIG_FILE, TrainConfig, TrainConfigError, check_resume
from repose_tf.training.errors import ConfigChangeError, NonFiniteLoss, TrainingError


def train(config: TrainConfig, **kwargs) -> dict:
    """Run ``config`` (see :func:`repose_tf.training.engine.train`); imports Keras on first use."""
    from repose_tf.training.engine import train as _train

    return _train(config, **kwargs)


__all__ = [
    "CONFIG_FILE",
    "ConfigChangeError",
    "NonFiniteLoss",
    "TrainConfig",
    "TrainConfigError",
    "TrainingError",
    "check_resume",
    "train",
]
