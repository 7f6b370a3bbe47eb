"""``TrainConfig``: every choice a training run makes, in one checked, frozen object.

Built from flags (``python -m repose_tf.train``) or in code, written to
``<model_dir>/train_config.json`` when the run starts and compared on ``--resume``: a changed
choice (say the learning rate) is refused in one line unless ``allow_change`` is given, so a run
directory always says how its checkpoint was trained. ``None`` fields are resolved at
construction from the dataset: the synthetic quick start or real data (``QUICKSTART``, ``REAL``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repose_tf.training.errors import ConfigChangeError, TrainingError
from repose_tf.training.precision import PRECISIONS
from repose_tf.training.schedules import LR_SCHEDULES

#: The file a run directory keeps its TrainConfig in.
CONFIG_FILE = "train_config.json"
STRATEGIES = ("default", "mirrored", "multi_worker")
QUICKSTART = {
    "preset": "repose_tiny",
    "steps": 500,
    "batch_size": 16,
    "lr_schedule": "cosine",
    "learning_rate": 3e-3,
    "resolution_schedule": "none",
}
#: Real data: the recipe that won the equal-training-time study (docs/results.md, "Time to
#: accuracy": 1.26x the float32 recipe's PCK at 20 minutes) with mixed_precision auto, i.e.
#: bfloat16 where native: batch 16, constant Adam 1e-3 at 128 px (open-ended, so resumable).
REAL = {
    "preset": "repose_lsp14",
    "steps": 20000,
    "batch_size": 16,
    "lr_schedule": "constant",
    "learning_rate": 1e-3,
    "resolution_schedule": "none",
}
#: Fields added after runs were already written: a saved train_config.json without them was
#: trained without the feature, whatever today's default is.
LEGACY_VALUES = {
    "resolution_schedule": "none",
    "time_budget_minutes": None,
    "ema_decays": "",
    "rotation": 60.0,
    "rotation_prob": 1.0,
}
#: Fields a resumed run may change without ``allow_change``: they do not alter what the weights
#: learn from (how long it runs, how much it validates on, where the files are).
FREE_ON_RESUME = frozenset(
    {
        "model_dir",
        "steps",
        "val_limit",
        "eval_limit",
        "workers",
        "init_weights",
        "time_budget_minutes",
        "ema_decays",  # averages watch the weights; they never change what the weights learn
    }
)


class TrainConfigError(TrainingError, ValueError):
    """A TrainConfig field outside its allowed values."""


@dataclass(frozen=True)
class TrainConfig:
    """One training run's choices; ``None`` means "the default for this dataset".

    Args:
        preset: model preset (``repose_tf.config.PRESETS``); default repose_lsp14 with real data,
            repose_tiny for the synthetic quick start.
        dataset: training datasets, optionally weighted (``("lspet:3", "mpii:1")``); empty: the
            embedded synthetic dataset.
        data_dir: one directory per dataset, or one root holding ``<dataset>/`` subdirectories.
        model_dir: where checkpoints, logs, state.json and the final model go.
        steps: training steps (rounded up to a multiple of ``checkpoint_every``).
        batch_size: global batch size.
        learning_rate: initial Adam learning rate.
        lr_schedule: ``paper``, ``cosine``, ``warmup_cosine``, ``constant``, ``warmup_constant``
            or ``warmup_stable_decay`` (``repose_tf.training.schedules``).
        decay_steps: with ``warmup_stable_decay``, the last steps over which the rate falls to zero
            (a decay branch of the trunk); refused with any other schedule.
        checkpoint_every: steps between checkpoints and validations (default ~steps/10, <= 1000).
        mixed_precision: ``auto`` (bfloat16 where the CPU has it natively), ``float32``,
            ``bfloat16`` or ``float16`` (``repose_tf.training.precision``).
        jit_compile: compile the train step with XLA (float32 only).
        strategy: tf.distribute strategy: ``default``, ``mirrored`` or ``multi_worker`` (TF_CONFIG).
        cpu_devices: split the CPU into N logical devices (to test ``mirrored`` on a CPU).
        seed: seed of initialisation, data order and augmentation.
        val_dataset: validation dataset (default: the first training dataset's).
        val_split: validation split.
        val_limit: images used by periodic validation.
        eval_limit: images in the final held-out evaluation (None: the whole split).
        max_samples: train on the first N samples only (smoke tests, overfitting checks).
        augment: the paper's augmentation (scale, rotation, flip, colour).
        rotation: largest augmentation rotation in degrees (uniform in +-rotation; the paper: 60).
        rotation_prob: share of training samples rotated at all (the paper: every one).
        sigma: target Gaussian sigma in input pixels (None: the preset's).
        init_weights: start from these weights (layers matched by name, fresh optimizer; a trunk
            ``.npz`` weight set from ``tools/trunk.py save``: variables matched by path).
        workers: data loading threads of the PyDataset path (JAX backend).
        resolution_schedule: progressive resolution, ``SIZE:FRACTION,...`` of the steps ending at the
            preset's input size, e.g. ``64:0.6,96:0.2,128:0.2`` (``repose_tf.training.resolution``);
            ``none``: every step at the preset's size; None: the dataset's default.
        time_budget_minutes: stop at the first checkpoint after this much training time (periodic
            validation excluded; the run's earlier stretches count), then save and evaluate as usual;
            None or 0: no budget.
        ema_decays: exponential moving averages of the weights to keep, e.g. ``"0.99,0.998"``
            (``repose_tf.training.ema``): saved beside each checkpoint, validated with it, resumed
            with it; ``""``: none.
    """

    preset: str | None = None
    dataset: tuple[str, ...] = ()
    data_dir: tuple[str, ...] = ()
    model_dir: str = "runs/repose"
    steps: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    lr_schedule: str | None = None
    decay_steps: int | None = None
    checkpoint_every: int | None = None
    mixed_precision: str = "auto"
    jit_compile: bool = False
    strategy: str = "default"
    cpu_devices: int | None = None
    seed: int = 0
    val_dataset: str | None = None
    val_split: str = "val"
    val_limit: int = 200
    eval_limit: int | None = None
    max_samples: int | None = None
    augment: bool = True
    rotation: float = 60.0
    rotation_prob: float = 1.0
    sigma: float | None = None
    init_weights: str | None = None
    workers: int = 2
    resolution_schedule: str | None = None
    time_budget_minutes: float | None = None
    ema_decays: str = ""

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen dataclass
        set_("dataset", tuple(str(d) for d in (self.dataset or ())))
        set_("data_dir", tuple(str(d) for d in (self.data_dir or ())))
        set_("model_dir", str(self.model_dir))
        defaults = QUICKSTART if self.is_quickstart else REAL
        default_schedule = self.resolution_schedule is None
        for name, value in defaults.items():
            if getattr(self, name) is None:
                set_(name, value)
        set_("steps", int(self.steps))
        set_("batch_size", int(self.batch_size))
        set_("learning_rate", float(self.learning_rate))
        if self.checkpoint_every is None:
            set_("checkpoint_every", max(1, min(1000, self.steps // 10)))
        if str(self.resolution_schedule).strip().lower() in ("", "none"):
            set_("resolution_schedule", "none")
        else:
            set_("resolution_schedule", str(self.resolution_schedule).replace(" ", ""))
            if default_schedule and not self._schedule_fits():
                set_("resolution_schedule", "none")  # a run too short for the default's phases
        if self.time_budget_minutes is not None:
            set_("time_budget_minutes", float(self.time_budget_minutes) or None)  # 0: no budget
        from repose_tf.training.ema import decay_key, parse_decays

        try:
            set_("ema_decays", ",".join(decay_key(d) for d in parse_decays(self.ema_decays)))
        except ValueError as e:
            raise TrainConfigError(str(e)) from None
        if self.mixed_precision == "none":
            set_("mixed_precision", "float32")
        self._check()

    def _check(self) -> None:
        from repose_tf.config import PRESETS
        from repose_tf.training.data import parse_dataset_names

        if self.preset not in PRESETS:
            raise TrainConfigError(f"unknown preset {self.preset!r}; known presets: {', '.join(PRESETS)}")
        parse_dataset_names(self.dataset)  # unknown names / bad weights, before any file is read
        for name, allowed in (
            ("lr_schedule", LR_SCHEDULES),
            ("mixed_precision", PRECISIONS),
            ("strategy", STRATEGIES),
        ):
            if getattr(self, name) not in allowed:
                raise TrainConfigError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
        for name in ("steps", "batch_size", "checkpoint_every", "val_limit", "workers"):
            if int(getattr(self, name)) < 1:
                raise TrainConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr_schedule == "warmup_stable_decay" and not (self.decay_steps or 0) >= 1:
            raise TrainConfigError("lr_schedule warmup_stable_decay needs decay_steps >= 1")
        if self.decay_steps is not None and self.lr_schedule != "warmup_stable_decay":
            raise TrainConfigError(
                f"decay_steps is for lr_schedule warmup_stable_decay, not {self.lr_schedule}; drop one"
            )
        if self.decay_steps is not None and self.decay_steps > self.total_steps:
            raise TrainConfigError(f"decay_steps {self.decay_steps} > the run's {self.total_steps} steps")
        for name in ("cpu_devices", "eval_limit", "max_samples"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise TrainConfigError(f"{name} must be >= 1 when given, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise TrainConfigError(f"learning_rate must be > 0, got {self.learning_rate}")
        if not 0.0 <= self.rotation <= 180.0:
            raise TrainConfigError(f"rotation must be 0-180 degrees, got {self.rotation:g}")
        if not 0.0 <= self.rotation_prob <= 1.0:
            raise TrainConfigError(f"rotation_prob must be 0-1, got {self.rotation_prob:g}")
        if self.sigma is not None and not self.sigma > 0:
            raise TrainConfigError(f"sigma must be > 0, got {self.sigma}")
        if self.time_budget_minutes is not None and not self.time_budget_minutes > 0:
            raise TrainConfigError(
                f"time_budget_minutes must be >= 0 (0: none), got {self.time_budget_minutes}"
            )
        if self.strategy == "multi_worker" and self.jit_compile:
            raise TrainConfigError(
                "jit_compile does not combine with strategy multi_worker (its distributed train loop "
                "runs without XLA); drop one of them"
            )
        if self.resolution_schedule != "none":
            self.phases()  # refused here, before anything is read or built

    def _schedule_fits(self) -> bool:
        try:
            self.phases()
        except TrainingError:
            return False
        return True

    def phases(self):
        """The run's resolution phases (one at the preset's size without a schedule)."""
        from repose_tf.config import get_preset
        from repose_tf.training.resolution import phases

        cfg = get_preset(self.preset)
        try:
            return phases(
                self.resolution_schedule,
                total_steps=self.total_steps,
                chunk=self.checkpoint_every,
                input_size=cfg.input_size,
                coarsest=cfg.coarsest_resolution,
            )
        except TrainingError as e:
            raise TrainConfigError(str(e)) from None

    @property
    def is_quickstart(self) -> bool:
        """No dataset (or only ``synthetic``): the no-download demo with its own defaults."""
        return all(d.partition(":")[0].strip().lower() == "synthetic" for d in self.dataset)

    @property
    def total_steps(self) -> int:
        """``steps`` rounded up to a whole number of checkpoint chunks."""
        return math.ceil(self.steps / self.checkpoint_every) * self.checkpoint_every

    @property
    def preset_overrides(self) -> dict:
        return {"sigma": self.sigma} if self.sigma else {}

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["dataset"], d["data_dir"] = list(self.dataset), list(self.data_dir)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        from repose_tf.config import from_known_keys

        return from_known_keys(cls, d, TrainConfigError)

    def diff(self, other: TrainConfig) -> dict[str, tuple[Any, Any]]:
        """``{field: (ours, theirs)}`` for every field that differs."""
        a, b = self.to_dict(), other.to_dict()
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}

    # --------------------------------------------------------------------- run directory
    def write(self, model_dir: str | Path | None = None, **extra) -> Path:
        """Write ``train_config.json`` into the run directory (``extra``: e.g. the resolved precision)."""
        from repose_tf.io import atomic_write_text

        path = Path(model_dir or self.model_dir) / CONFIG_FILE
        atomic_write_text(path, json.dumps({"train_config": self.to_dict(), **extra}, indent=2))
        return path

    @classmethod
    def read(cls, model_dir: str | Path) -> TrainConfig | None:
        """The config a run directory was started with; None for a directory written before it existed."""
        path = Path(model_dir) / CONFIG_FILE
        if not path.is_file():
            return None
        try:
            saved = json.loads(path.read_text())["train_config"]
            return cls.from_dict({**LEGACY_VALUES, **saved})
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise TrainConfigError(f"{path}: unreadable train config ({e})") from None


def check_resume(saved: TrainConfig | None, new: TrainConfig, *, allow_change: bool = False) -> list[str]:
    """Notes to print when ``new`` resumes a run started with ``saved``; raises on a refused change.

    A run directory from before TrainConfig (no ``train_config.json``) is accepted with a note.
    """
    if saved is None:
        return [f"note: {new.model_dir} has no {CONFIG_FILE} (a run from before TrainConfig); writing it now"]
    changes = saved.diff(new)
    strict = {k: v for k, v in changes.items() if k not in FREE_ON_RESUME}
    free = {k: v for k, v in changes.items() if k in FREE_ON_RESUME}
    text = lambda d: ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in d.items())  # noqa: E731
    if strict and not allow_change:
        raise ConfigChangeError(
            f"--resume: {text(strict)} differs from {Path(saved.model_dir).name}/{CONFIG_FILE}; "
            "resume with the run's values, or pass --allow_config_change"
        )
    notes = [f"note: resuming with changed {text(free)}"] if free else []
    if strict:
        notes.append(
            f"note: --allow_config_change: resuming with {text(strict)} (the checkpoint keeps its optimizer)"
        )
    return notes


__all__ = [
    "CONFIG_FILE",
    "FREE_ON_RESUME",
    "QUICKSTART",
    "REAL",
    "STRATEGIES",
    "TrainConfig",
    "TrainConfigError",
    "check_resume",
]
