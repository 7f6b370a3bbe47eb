"""``python -m repose_tf.train``: train RePose with the paper's loss and schedule; resumable.

With no arguments it trains a small RePose on the embedded synthetic dataset (no download)
for a few minutes and evaluates it on held-out synthetic figures. Real data::

    python -m repose_tf.train --preset repose_lsp14 --dataset lspet \\
        --data_dir ../shared/data/lspet --model_dir runs/lspet --steps 20000

This module only parses flags into a :class:`~repose_tf.training.TrainConfig` and hands it to the
engine (``repose_tf.training``). Flags are registered when the CLI runs, never on import. The
config is written to ``MODEL_DIR/train_config.json``; ``--resume`` continues a killed run at the
same step, optimizer state and data order, takes the run's saved choices for flags not given, and
refuses a changed choice (``--allow_config_change`` accepts it with a note).
"""

from __future__ import annotations

import sys

from repose_tf.cli import absl_main, fail
from repose_tf.training import TrainConfig, TrainingError, train
from repose_tf.training.initialise import warm_start  # noqa: F401  (public: tests and notebooks)
from repose_tf.training.precision import PRECISIONS
from repose_tf.training.schedules import LR_SCHEDULES


def define_flags() -> None:
    """Register the training flags (idempotent; called by :func:`run`, not on import)."""
    from absl import flags

    if "model_dir" in flags.FLAGS and "allow_config_change" in flags.FLAGS:
        return
    d = TrainConfig.__dataclass_fields__
    flags.DEFINE_string(
        "preset",
        None,
        "Model preset (see `python -m repose_tf.summary`). Default: repose_lsp14 "
        "with real data, repose_tiny for the synthetic quick start.",
    )
    flags.DEFINE_list(
        "dataset",
        None,
        "Training dataset(s), optionally weighted: lspet or lspet:3,mpii:1. "
        "Default: the embedded synthetic dataset.",
    )
    flags.DEFINE_list(
        "data_dir", None, "One directory per dataset, or one root holding <dataset>/ subdirectories."
    )
    flags.DEFINE_string(
        "val_dataset", None, "Validation dataset (default: the first training dataset's val split)."
    )
    flags.DEFINE_string("val_split", d["val_split"].default, "Validation split.")
    flags.DEFINE_integer(
        "val_limit",
        d["val_limit"].default,
        "Images used by periodic validation (the final evaluation uses all).",
    )
    flags.DEFINE_string(
        "model_dir", d["model_dir"].default, "Where checkpoints, logs and the final model go."
    )
    flags.DEFINE_integer("steps", None, "Training steps (default: 500 quick start, 20000 with real data).")
    flags.DEFINE_integer("batch_size", None, "Global batch size (default: 16).")
    flags.DEFINE_float(
        "learning_rate",
        None,
        "Initial Adam learning rate (default: 1e-3, the paper's, with real data; 3e-3 for the quick start).",
    )
    flags.DEFINE_integer(
        "checkpoint_every", None, "Steps between checkpoints and validations (default ~steps/10)."
    )
    flags.DEFINE_bool(
        "resume",
        False,
        "Continue from model_dir/checkpoint.keras if it exists; flags not given take the run's saved values.",
    )
    flags.DEFINE_bool(
        "allow_config_change",
        False,
        "With --resume: accept a training choice that differs from model_dir/train_config.json (printed).",
    )
    flags.DEFINE_string(
        "init_weights",
        None,
        "Start from these weights (.keras, or .weights.h5 with its .config.json beside it), e.g. a shipped "
        "model to fine-tune on your data: layers are matched by name, a fresh optimizer is used.",
    )
    flags.DEFINE_enum(
        "mixed_precision",
        d["mixed_precision"].default,
        list(PRECISIONS),
        "Compute dtype. auto: bfloat16 where the CPU has it natively (AMX or AVX512_BF16), float32 "
        "elsewhere; the choice and reason are printed. float16 needs a GPU; none = float32.",
    )
    flags.DEFINE_bool(
        "jit_compile", False, "Compile the train step with XLA (float32: refused with bfloat16)."
    )
    flags.DEFINE_enum(
        "lr_schedule",
        None,
        list(LR_SCHEDULES),
        "paper: x0.5 at 50%, 1e-6 at 65% of the run; constant (default with real data); cosine: decay to 1% "
        "(default for the quick start); warmup_cosine: linear warmup over 5% of the steps, then "
        "cosine to 1%; warmup_constant: a 100-step ramp to a steady rate (the campaign trunk); "
        "warmup_stable_decay: warmup_constant whose last --decay_steps fall linearly to zero "
        "(a decay branch: resume a copy of the trunk's run with a later --steps).",
    )
    flags.DEFINE_integer(
        "decay_steps", None, "With --lr_schedule warmup_stable_decay: the steps of the fall to zero."
    )
    flags.DEFINE_enum(
        "strategy",
        d["strategy"].default,
        ["default", "mirrored", "multi_worker"],
        "tf.distribute strategy (TensorFlow backend): multi_worker reads TF_CONFIG.",
    )
    flags.DEFINE_integer(
        "cpu_devices", None, "Split the CPU into N logical devices (to test mirrored on a CPU)."
    )
    flags.DEFINE_integer("seed", d["seed"].default, "Seed for initialisation, data order and augmentation.")
    flags.DEFINE_integer(
        "workers", d["workers"].default, "Data loading threads for the PyDataset path (JAX backend)."
    )
    flags.DEFINE_bool("progress", True, "Show a progress bar.")
    flags.DEFINE_integer(
        "max_samples", None, "Train on the first N samples only (smoke tests, overfitting checks)."
    )
    flags.DEFINE_float(
        "sigma",
        None,
        "Target Gaussian sigma in input pixels (default: the preset's, 5 at 128; "
        "the paper's table 7 also trains 10).",
    )
    flags.DEFINE_bool("augment", True, "The paper's augmentation (scale, rotation, flip, colour).")
    flags.DEFINE_float(
        "rotation", d["rotation"].default, "Largest augmentation rotation, degrees (uniform in +-rotation)."
    )
    flags.DEFINE_float("rotation_prob", d["rotation_prob"].default, "Share of training samples rotated.")
    flags.DEFINE_integer(
        "eval_limit", None, "Images in the final held-out evaluation (default: the whole split)."
    )
    flags.DEFINE_string(
        "resolution_schedule",
        None,
        "Progressive resolution: SIZE:FRACTION of the steps, ending at the preset's input size, "
        "e.g. 64:0.6,96:0.2,128:0.2 (same weights at every size; the saved model is at the preset's).",
    )
    flags.DEFINE_string(
        "ema_decays",
        d["ema_decays"].default,
        "Exponential moving averages of the weights to keep, e.g. 0.99,0.998: saved beside each "
        "checkpoint (ema.npz), validated with it and resumed with it; export one with "
        "tools/trunk.py export.",
    )
    flags.DEFINE_float(
        "time_budget_minutes",
        None,
        "Stop at the first checkpoint after this many minutes of training (validation excluded), "
        "then save and evaluate as usual (0: none, e.g. to resume such a run without it).",
    )


def config_from_flags(flag_values) -> TrainConfig:
    """The TrainConfig the command line asks for.

    On ``--resume`` of a run that has a ``train_config.json``, flags not given on the command line
    take the run's saved values, so ``--resume --model_dir DIR`` alone continues the same run.
    """
    fields = TrainConfig.__dataclass_fields__
    values = {name: flag_values[name].value for name in fields if name in flag_values}
    given = {name for name in values if flag_values[name].present}
    if flag_values.resume:
        saved = TrainConfig.read(values["model_dir"])
        if saved is not None:
            values = {**saved.to_dict(), **{k: values[k] for k in given}, "model_dir": values["model_dir"]}
    values = {k: v for k, v in values.items() if v is not None or fields[k].default is None}
    return TrainConfig(**values)


def main(argv) -> None:
    from absl import flags

    del argv
    f = flags.FLAGS
    try:
        train(
            config_from_flags(f),
            resume=f.resume,
            allow_config_change=f.allow_config_change,
            verbose=1 if f.progress else 2,
        )
    except TrainingError as e:
        fail(e, e.exit_code)


def run(argv: list[str] | None = None) -> int:
    """Entry point (``repose-train``): register the flags, parse ``argv`` (default ``sys.argv``), train."""
    return absl_main(__name__, __doc__, define_flags, main, argv, prog="python -m repose_tf.train")


__all__ = ["TrainingError", "config_from_flags", "define_flags", "main", "run", "warm_start"]

if __name__ == "__main__":
    sys.exit(run())
