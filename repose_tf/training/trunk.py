"""The campaign trunk: one long steady-rate training schedule that continues across machines.

Earlier stretches each restarted a warmup + cosine schedule from the last release, spending samples
climbing back to a peak and then decaying what the next stretch undid. The trunk instead trains at
one steady rate (``warmup_constant``) with weight averages (:mod:`repose_tf.training.ema`); a release
is taken from it without ending it.

What travels between machines is chosen by size, because it travels through git and every clone
carries it: the trunk's **weight average** in the training form (auxiliary heads included), in
float16 (about 7 MB for ``repose_lsp14``; float32 would be 14 MB, the full checkpoint with Adam's
two moments 42 MB), plus this ledger (``trunk.json``: rate, averaging, every stretch's history).
The next machine continues from the average with fresh Adam moments, re-warmed over 100 steps to
the same rate (not a new peak). On the same machine ``--resume`` of the run directory continues
exactly (Adam moments and raw weights included). Arrays float16 cannot hold to 1e-3 relative error
(large BatchNorm variances, tiny values) are kept in float32.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from pathlib import Path

import numpy as np

from repose_tf.compact import FLOAT16_TOLERANCE, compact_array
from repose_tf.config import RePoseConfig, architecture_diff, get_preset
from repose_tf.io import atomic_write_bytes, atomic_write_text

#: Where the repository keeps the trunk's state.
TRUNK_DIR = Path(__file__).resolve().parents[2] / "models" / "trunk"
LEDGER = "trunk.json"
WEIGHTS = "trunk.weights.npz"


def write_weights(path: str | Path, names: list[str], arrays: list[np.ndarray], config: dict) -> Path:
    """Write a weight set (variable paths, arrays, RePose config) as a compact ``.npz``."""
    payload = {"__names__": np.array(names), "__config__": np.array(json.dumps(config))}
    payload |= {f"w{i}": compact_array(a) for i, a in enumerate(arrays)}
    buf = io.BytesIO()
    np.savez(buf, **payload)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def read_weights(path: str | Path) -> tuple[list[str], list[np.ndarray], dict]:
    """``(names, float32 arrays, config dict)`` of a weight set; ValueError names a bad file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: trunk weights not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            names = [str(n) for n in z["__names__"]]
            config = json.loads(str(z["__config__"]))
            arrays = [np.asarray(z[f"w{i}"], np.float32) for i in range(len(names))]
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{path}: not a readable trunk weight file ({e})") from None
    return names, arrays, config


def load_into(model, path: str | Path) -> tuple[int, list[str]]:
    """Set ``model``'s variables from a weight set by variable path; returns (set, missing names).

    A different architecture is a ValueError naming the file.
    """
    names, arrays, config = read_weights(path)
    diff = architecture_diff(model.repose_config, RePoseConfig.from_dict(config))
    if diff:
        raise ValueError(f"{path}: a different architecture (theirs, ours): {diff}")
    saved = dict(zip(names, arrays, strict=True))
    done, missing = 0, []
    for v in model.weights:
        if v.path in saved:
            if tuple(v.shape) != saved[v.path].shape:
                raise ValueError(
                    f"{path}: {v.path} has shape {saved[v.path].shape}, the model {tuple(v.shape)}"
                )
            v.assign(saved[v.path])
            done += 1
        else:
            missing.append(v.path)
    return done, missing


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_ledger(trunk_dir: str | Path = TRUNK_DIR) -> dict | None:
    """The trunk ledger, or None where no trunk has been saved yet."""
    p = Path(trunk_dir) / LEDGER
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: not valid JSON ({e})") from None


def save_trunk(
    run_dir: str | Path, decay: float, trunk_dir: str | Path = TRUNK_DIR, *, label: str | None = None
) -> dict:
    """Save a run's ``decay`` weight average as the trunk state and record the run as a stretch.

    The run's history (``state.json``) becomes (or replaces, when saved again from the same run)
    one stretch of the ledger, so the curve through every stretch is in the repository.
    """
    from repose_tf.training.config import TrainConfig
    from repose_tf.training.ema import EMA_FILE, WeightAverages, decay_key

    run_dir, trunk_dir = Path(run_dir), Path(trunk_dir)
    state_path = run_dir / "state.json"
    if not state_path.is_file():
        raise FileNotFoundError(f"{state_path}: not found (is {run_dir} a training run directory?)")
    cfg = TrainConfig.read(run_dir)
    if cfg is None or cfg.lr_schedule != "warmup_constant" or not cfg.ema_decays:
        raise ValueError(f"{run_dir}: not a trunk run (needs --lr_schedule warmup_constant and --ema_decays)")
    key = decay_key(decay)
    loaded = WeightAverages.load(run_dir / EMA_FILE)
    if loaded is None:
        raise FileNotFoundError(f"{run_dir / EMA_FILE}: no weight averages saved yet")
    if key not in loaded:
        raise ValueError(f"{run_dir / EMA_FILE}: no average with decay {key}")
    with np.load(run_dir / EMA_FILE, allow_pickle=False) as z:
        names = [str(n) for n in z["__names__"]]
    state = json.loads(state_path.read_text())
    meta = json.loads((run_dir / "train_config.json").read_text())
    config = _run_model_config(run_dir, cfg)
    trunk_dir.mkdir(parents=True, exist_ok=True)
    weights = write_weights(trunk_dir / WEIGHTS, names, loaded[key], config)
    ledger = read_ledger(trunk_dir) or {"stretches": []}
    label = label or f"trunk {time.strftime('%Y-%m-%d')} {run_dir.name}"
    history = state.get("history", [])
    machine = next((h["machine"] for h in reversed(history) if h.get("machine")), "not recorded")
    stretch = {
        "label": label,
        "run": str(run_dir.name),
        "machine": machine,
        "started_from": cfg.init_weights,
        "seed": cfg.seed,
        "precision": meta.get("precision", {}).get("policy"),
        "history": history,
    }
    stretches = [s for s in ledger["stretches"] if s.get("label") != label] + [stretch]
    ledger.update(
        preset=cfg.preset,
        dataset=list(cfg.dataset),
        batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        lr_schedule=cfg.lr_schedule,
        ema_decays=cfg.ema_decays,
        val_split=cfg.val_split,
        carried_average=float(key),
        step_in_run=int(loaded["__step__"]),
        weights=WEIGHTS,
        weights_sha256=sha256(weights),
        stretches=stretches,
    )
    atomic_write_text(trunk_dir / LEDGER, json.dumps(ledger, indent=1))
    return ledger


def _run_model_config(run_dir: Path, cfg) -> dict:
    return get_preset(cfg.preset, **cfg.preset_overrides).to_dict()


def continue_command(
    trunk_dir: str | Path = TRUNK_DIR, *, model_dir: str, data_dir: str, seed: int | None = None
) -> list[str]:
    """The ``python -m repose_tf.train`` arguments that continue the trunk on any machine."""
    ledger = read_ledger(trunk_dir)
    if ledger is None:
        raise FileNotFoundError(f"{Path(trunk_dir) / LEDGER}: no trunk saved yet")
    seed = seed if seed is not None else 100 + len(ledger["stretches"])  # a new data order per stretch
    return [
        "--preset", ledger["preset"],
        "--dataset", ",".join(ledger["dataset"]),
        "--data_dir", data_dir,
        "--model_dir", model_dir,
        "--steps", "100000",
        "--batch_size", str(ledger["batch_size"]),
        "--learning_rate", f"{ledger['learning_rate']:g}",
        "--lr_schedule", ledger["lr_schedule"],
        "--checkpoint_every", "100",
        "--val_split", ledger["val_split"],
        "--val_limit", "400",
        "--ema_decays", ledger["ema_decays"],
        "--mixed_precision", "auto",
        "--init_weights", str(Path(trunk_dir) / ledger["weights"]),
        "--seed", str(seed),
        "--time_budget_minutes", "0",
    ]  # fmt: skip


#: What a decay branch copies from the trunk's run directory (the rest is remade or per-run).
BRANCH_FILES = ("checkpoint.keras", "ema.npz", "state.json", "train_config.json", "log.csv")


def branch_command(run_dir: str | Path, output_dir: str | Path, *, decay_steps: int) -> list[str]:
    """Copy the trunk's run into ``output_dir`` and return the ``python -m repose_tf.train``
    arguments that anneal the copy to zero over ``decay_steps`` (warmup-stable-decay).

    The copy resumes exactly where the trunk stopped (Adam moments, averages, data order); the
    trunk's own directory is not touched, so it goes on at its steady rate afterwards.
    """
    import shutil

    run_dir, output_dir = Path(run_dir), Path(output_dir)
    if decay_steps < 1:
        raise ValueError(f"--decay_steps must be >= 1, got {decay_steps}")
    if not (run_dir / "checkpoint.keras").exists():
        raise FileNotFoundError(f"{run_dir}: no checkpoint.keras to branch from")
    if output_dir.resolve() == run_dir.resolve():
        raise ValueError("the branch needs its own --output_dir (annealing the trunk's own run ends it)")
    if (output_dir / "checkpoint.keras").exists():
        raise FileExistsError(f"{output_dir} already holds a run; resume it or choose another --output_dir")
    import math

    step = int(json.loads((run_dir / "state.json").read_text()).get("step", 0))
    every = math.gcd(step, decay_steps)  # checkpoints must land on the branch's last step
    if every < min(10, decay_steps):
        raise ValueError(
            f"step {step} + --decay_steps {decay_steps} leaves checkpoints every {every} steps; "
            "choose a --decay_steps that shares a factor of 10 or more with the step"
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    for name in BRANCH_FILES:
        if (run_dir / name).exists():
            shutil.copy2(run_dir / name, output_dir / name)
    return [
        "--model_dir", str(output_dir),
        "--resume",
        "--allow_config_change",
        "--lr_schedule", "warmup_stable_decay",
        "--decay_steps", str(decay_steps),
        "--steps", str(step + decay_steps),
        "--checkpoint_every", str(min(every, 100)),
    ]  # fmt: skip


__all__ = [
    "BRANCH_FILES",
    "FLOAT16_TOLERANCE",
    "LEDGER",
    "TRUNK_DIR",
    "WEIGHTS",
    "branch_command",
    "continue_command",
    "load_into",
    "read_ledger",
    "read_weights",
    "save_trunk",
    "write_weights",
]
