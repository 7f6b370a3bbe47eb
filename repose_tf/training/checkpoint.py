"""The checkpointer: every chunk of steps, validate, save atomically and append to state.json.

``state.json`` is the run's history: one entry per checkpoint with the step, samples seen, loss,
throughput (``samples_per_s``, ``wall_s`` and ``cpu_s`` of this process, on which ``machine``)
and the periodic validation PCK. ``tools/learning_curve.py`` and the release manifest read it.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from repose_tf.cpu import cpu_info
from repose_tf.io import atomic_save, atomic_write_text


@dataclass
class RunFiles:
    """Where a run directory keeps its checkpoint and history."""

    model_dir: Path

    @property
    def checkpoint(self) -> Path:
        return self.model_dir / "checkpoint.keras"

    @property
    def state(self) -> Path:
        return self.model_dir / "state.json"

    def read_state(self) -> dict:
        return json.loads(self.state.read_text()) if self.state.exists() else {"history": []}

    def write_state(self, state: dict) -> None:
        atomic_write_text(self.state, json.dumps(state, indent=2))


@dataclass
class Validation:
    """Periodic validation: the dataset name, the dataset and how many images to score."""

    name: str
    dataset: Any
    limit: int = 200


@dataclass(eq=False)  # a callback is identified by itself, not by its fields
class Checkpointer(keras.callbacks.Callback):
    """Every epoch (= ``checkpoint_every`` steps): validate, checkpoint, record history.

    Only the chief writes; a non-finite loss writes nothing (the last good checkpoint stays).
    Validation always runs a float32 inference copy at ``final_config``'s size (the preset's), so
    a progressive-resolution run's curve is measured like any other. With ``budget_s``, training
    stops after the checkpoint at which the run's training time (every chunk's ``wall_s``, this
    and earlier stretches) reaches it.
    """

    files: RunFiles
    state: dict
    batch_size: int
    total_steps: int
    validation: Validation | None = None
    chief: bool = True
    extra: dict = field(default_factory=dict)  # written into state.json at every checkpoint
    final_config: Any = None  # RePoseConfig validation runs at (None: the training model's)
    budget_s: float | None = None
    averages: Any = None  # a repose_tf.training.ema.WeightAverages, saved and validated with the checkpoint

    def __post_init__(self) -> None:
        super().__init__()
        self.machine = cpu_info().describe()
        self.t0 = self.cpu0 = 0.0
        self.step0 = 0
        self.predictor = self.eval_model = None  # built at the first validation, reused after
        self.trained_s = sum(float(h.get("wall_s") or 0.0) for h in self.state.get("history", []))
        self.budget_reached = False

    def on_epoch_begin(self, epoch, logs=None):
        self.t0, self.cpu0 = time.time(), time.process_time()
        self.step0 = int(self.model.optimizer.iterations.numpy())

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        loss = logs.get("loss")
        if loss is None or not math.isfinite(float(loss)) or self.model.stop_training:
            return  # keep the last good checkpoint
        step = int(self.model.optimizer.iterations.numpy())
        dt = time.time() - self.t0
        entry = {
            "step": step,
            "samples_seen": step * self.batch_size,
            "loss": float(loss),
            "samples_per_s": (step - self.step0) * self.batch_size / max(dt, 1e-9),
            "wall_s": dt,
            "cpu_s": time.process_time() - self.cpu0,  # all threads of this process
            "machine": self.machine,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "lr": _current_lr(self.model.optimizer),
        }
        if self.validation is not None:
            entry.update(self._validate(step, float(loss), entry["samples_per_s"]))
            logs["val_pck"] = entry["val_mean"]
        if self.averages is not None and self.validation is not None:
            entry["ema_val"] = self._validate_averages()
        if self.chief:
            atomic_save(self.model, self.files.checkpoint)
            if self.averages is not None:
                self.averages.save()  # after the checkpoint: a kill between leaves it behind, never ahead
            self.state.setdefault("history", []).append(entry)
            self.state.update(step=step, total_steps=self.total_steps, **self.extra)
            self.files.write_state(self.state)
        self.trained_s += dt
        if self.budget_s is not None and self.trained_s >= self.budget_s and step < self.total_steps:
            self.budget_reached = True
            self.model.stop_training = True
            print(
                f"\n  time budget reached: {self.trained_s / 60:.1f} of {self.budget_s / 60:g} training "
                f"minutes at step {step}; stopping after this checkpoint"
            )

    def _score(self):
        """Score the model's current weights on the periodic validation images."""
        from repose_tf.evaluate import predict_dataset, score
        from repose_tf.model import RePose, copy_weights_by_name
        from repose_tf.runtime import Predictor
        from repose_tf.training.precision import float32_policy

        v = self.validation
        if self.eval_model is None:
            with float32_policy():  # what ships computes in float32, at the preset's size
                self.eval_model = RePose(self.final_config or self.model.repose_config, inference=True)
            self.predictor = Predictor.from_model(self.eval_model, batch_size=32)
        copy_weights_by_name(self.model, self.eval_model)  # same names at every input size
        ps = predict_dataset(self.predictor, v.dataset, limit=v.limit, progress=False)
        return ps, score(ps, v.name)

    def _validate_averages(self) -> dict[str, float]:
        """Periodic validation of each weight average, keyed by its decay."""
        from repose_tf.training.ema import decay_key

        out = {}
        for d in self.averages.decays:
            with self.averages.swapped_in(d):
                _, res = self._score()
            out[decay_key(d)] = res.mean
        print("  EMA " + ", ".join(f"{k}: {m:.2f}" for k, m in out.items()))
        return out

    def _validate(self, step: int, loss: float, samples_per_s: float) -> dict:
        v = self.validation
        ps, res = self._score()
        print(
            f"\n  step {step}: loss {loss:.5f}, {res.metric} on {len(ps.ids)} {v.name} val images: "
            f"{res.mean:.2f}, {samples_per_s:.1f} samples/s"
        )
        return {"val_metric": res.metric, "val_mean": res.mean}


def _current_lr(optimizer) -> float | None:
    """The learning rate the optimizer applies now (schedules evaluated at its step)."""
    try:
        return float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    except (TypeError, ValueError, AttributeError):
        return None


__all__ = ["Checkpointer", "RunFiles", "Validation"]
