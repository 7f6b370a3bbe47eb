"""Exponential moving averages of the weights, kept while training and saved beside each checkpoint.

The campaign trunk trains at a steady learning rate (``warmup_constant``); its raw weights jitter
with the rate, while their moving average sits near the middle of the basin the trunk wanders in
(Polyak averaging; timm's ``ModelEmaV2``; the "EMA" of most modern detection and pose recipes). A
release can then be taken from the trunk without decaying the rate and ending it. Every variable is
averaged, BatchNorm moving statistics included (as timm does), so an average is a complete model.

Several decays are kept at once (a copy of the weights each, updated once a step: negligible next
to a step of this model), so the decay is chosen by measuring them on the selection split rather
than by guessing. They are written atomically to ``ema.npz`` beside ``checkpoint.keras`` with the
step they belong to, and a resumed run continues them.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import keras
import numpy as np

from repose_tf.io import atomic_save, atomic_write_bytes, atomic_write_text, portable_path, sha256
from repose_tf.loading import load_float32
from repose_tf.training.averaging import averaging_record_path

#: The run-directory file holding the averages.
EMA_FILE = "ema.npz"


def decay_key(decay: float) -> str:
    """``0.998`` -> ``"0.998"``: how a decay names its average in files and histories."""
    return f"{decay:g}"


def parse_decays(text: str | tuple | list | None) -> tuple[float, ...]:
    """``"0.99,0.998"`` (or a sequence) -> sorted decays, each in (0, 1); ``""``/None -> none."""
    if text is None:
        return ()
    items = [t for t in (text.split(",") if isinstance(text, str) else text) if str(t).strip()]
    try:
        decays = tuple(sorted({float(t) for t in items}))
    except ValueError:
        raise ValueError(f"EMA decays must be numbers like 0.99,0.998, got {text!r}") from None
    for d in decays:
        if not 0.0 < d < 1.0:
            raise ValueError(f"an EMA decay must lie strictly between 0 and 1, got {d:g}")
    return decays


class WeightAverages(keras.callbacks.Callback):
    """Keeps ``decays`` moving averages of every model variable, updated after each train step.

    The averages start from the weights at the first step this process trains (a run started
    from ``--init_weights`` starts them at those weights: no bias correction is needed), or from
    ``ema.npz`` when resuming at the step it was saved at.
    """

    def __init__(self, decays: tuple[float, ...], path: str | Path) -> None:
        super().__init__()
        self.decays = tuple(decays)
        self.path = Path(path)
        self.averages: dict[float, list[np.ndarray]] | None = None
        self.step = 0  # the optimizer step the averages include

    # ------------------------------------------------------------------ training
    def _variables(self):
        return self.model.weights

    def on_train_begin(self, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        if self.averages is not None and self.step == step:
            return  # a later resolution phase of the same process: carry on
        try:
            loaded = self.load(self.path, expect_step=step, names=[v.path for v in self._variables()])
        except ValueError as e:
            from repose_tf.training.errors import TrainingError

            raise TrainingError(f"--resume: {e}; move it away to start the averages afresh") from None
        current = [np.array(v.numpy(), np.float32) for v in self._variables()]
        loaded = loaded or {}
        kept = [d for d in self.decays if decay_key(d) in loaded]
        new = [d for d in self.decays if decay_key(d) not in loaded]
        self.averages = {
            d: loaded[decay_key(d)] if d in kept else [a.copy() for a in current] for d in self.decays
        }
        self.step = step
        if kept:
            print(f"EMA: continuing decays {', '.join(map(decay_key, kept))} from {self.path}")
        if kept and new:  # --ema_decays changed on --resume: a new decay starts at today's weights
            print(f"EMA: starting decays {', '.join(map(decay_key, new))} at step {step}")

    def on_train_batch_end(self, batch, logs=None):
        current = [v.numpy() for v in self._variables()]
        for d, avg in self.averages.items():
            for a, w in zip(avg, current, strict=True):
                a *= d
                a += (1.0 - d) * w
        self.step += 1

    # ------------------------------------------------------------------ files
    def save(self) -> Path:
        """Write every average with its step and variable names, atomically."""
        names = [v.path for v in self._variables()]
        arrays = {"__step__": np.array(self.step), "__names__": np.array(names)}
        for d, avg in self.averages.items():
            for i, a in enumerate(avg):
                arrays[f"{decay_key(d)}/{i}"] = a
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(self.path, buf.getvalue())
        return self.path

    @staticmethod
    def load(path: str | Path, *, expect_step: int | None = None, names: list[str] | None = None):
        """``{decay_key: [arrays]}`` from ``path``; None when absent or at another step than expected.

        A file that is not a readable average, or whose variables do not match ``names``, is a
        ValueError naming it.
        """
        path = Path(path)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                step = int(z["__step__"])
                saved = [str(n) for n in z["__names__"]]
                out: dict[str, list] = {}
                for key in z.files:
                    if "/" in key:
                        d, i = key.rsplit("/", 1)
                        out.setdefault(d, {})[int(i)] = z[key]
        except (OSError, ValueError, KeyError) as e:
            raise ValueError(f"{path}: not a readable EMA file ({e})") from None
        if names is not None and saved != list(names):
            raise ValueError(
                f"{path}: its variables do not match this model's ({len(saved)} vs {len(names)})"
            )
        if expect_step is not None and step != expect_step:
            print(f"EMA: {path} is at step {step}, the checkpoint at {expect_step}; averages restart here")
            return None
        return {d: [v[i] for i in range(len(v))] for d, v in out.items()} | {"__step__": step}

    def swapped_in(self, decay: float):
        """A context manager with the model's variables set to the ``decay`` average."""
        return _Swap(self._variables(), self.averages[decay])


class _Swap:
    def __init__(self, variables, values) -> None:
        self.variables, self.values, self.saved = list(variables), values, None

    def __enter__(self):
        self.saved = [v.numpy() for v in self.variables]
        for v, a in zip(self.variables, self.values, strict=True):
            v.assign(a.astype(v.dtype) if hasattr(a, "astype") else a)
        return self

    def __exit__(self, *exc):
        for v, a in zip(self.variables, self.saved, strict=True):
            v.assign(a)
        return False


def ema_decays_in(path: str | Path) -> list[str]:
    """The decay keys an ``ema.npz`` holds (for messages and tools)."""
    with np.load(Path(path), allow_pickle=False) as z:
        return sorted({k.rsplit("/", 1)[0] for k in z.files if "/" in k}, key=float)


def export_average(run_dir: str | Path, decay: str | float, output: str | Path) -> dict:
    """Write the run's checkpoint with its ``decay`` average as weights: a float32 training-form
    ``.keras`` (no optimizer state) that ``tools/ship_model.py`` packages and ``--init_weights``
    continues from, plus an ``X.averaging.json`` record of where it came from."""
    run_dir, output = Path(run_dir), Path(output)
    ckpt, ema = run_dir / "checkpoint.keras", run_dir / EMA_FILE
    for p in (ckpt, ema):
        if not p.is_file():
            raise FileNotFoundError(f"{p}: not found (is {run_dir} a run directory with EMA on?)")
    if output.suffix != ".keras":
        raise ValueError(f"{output}: the averaged model is written as a .keras file")
    key = decay_key(float(decay))
    model = load_float32(ckpt)  # float32 training form, names as in training
    loaded = WeightAverages.load(ema, names=[v.path for v in model.weights])
    if key not in loaded:
        raise ValueError(f"{ema}: no average with decay {key} (it has {', '.join(ema_decays_in(ema))})")
    for v, a in zip(model.weights, loaded[key], strict=True):
        v.assign(a)
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(model, output)
    record = {
        "averaged_from": [{"checkpoint": portable_path(ckpt), "sha256": sha256(ckpt), "weight": 1.0}],
        "ema": {"decay": float(key), "step": int(loaded["__step__"]), "file": portable_path(ema)},
        "output": portable_path(output),
    }
    atomic_write_text(averaging_record_path(output), json.dumps(record, indent=2))
    return record


__all__ = [
    "EMA_FILE",
    "WeightAverages",
    "decay_key",
    "ema_decays_in",
    "export_average",
    "parse_decays",
]
