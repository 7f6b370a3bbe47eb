"""A training campaign: consecutive training runs ("stretches") that continue one model.

A stretch either resumes the previous run directory (``--resume``: its ``state.json`` history keeps
growing) or starts a new run from the last release (``--init_weights models/<name>.keras``: its
step counter starts at 0 again). To draw one learning curve over every stretch, the histories are
chained: samples seen and compute are accumulated across stretches, so every point says how much
training the model had behind it in total.

Compute is counted in CPU core-hours of the training process (``cpu_s`` of each checkpoint chunk,
both cores of a 2-core machine). Chunks recorded before ``cpu_s`` existed are estimated as
wall time x the machine's cores and marked ``cpu_estimated`` (an upper bound: the process may have
shared the CPU).

Where the stretches are kept: a run directory's ``state.json`` holds its own history; a release's
``manifest.json`` (written by :mod:`repose_tf.export.package`) holds ``training.stretches``, every
stretch that led to the shipped weights, so a new machine can continue the curve from ``models/``;
the campaign trunk's ledger ``models/trunk/trunk.json`` (:mod:`repose_tf.training.trunk`) holds the
trunk's stretches, with their weight averages' validation (``ema_val``) at every checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

ENTRY_KEYS = (
    "step", "samples_seen", "loss", "samples_per_s", "wall_s", "cpu_s",
    "val_metric", "val_mean", "ema_val", "lr",
)  # fmt: skip
DEFAULT_CORES = 2  # this project's machines; used only to estimate cpu_s of old chunks


@dataclass
class Stretch:
    """One training run's checkpoint history, with where and on what it ran."""

    label: str
    history: list[dict]
    machine: str = "not recorded"
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "machine": self.machine,
            "source": self.source,
            "history": [{k: h[k] for k in ENTRY_KEYS if k in h} | _extra(h) for h in self.history],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Stretch:
        return cls(label=d["label"], history=list(d["history"]), machine=d.get("machine", "not recorded"),
                   source=d.get("source", ""))  # fmt: skip


def _extra(h: dict) -> dict:
    return {"cpu_estimated": True} if h.get("cpu_estimated") else {}


def _check(history: list, where: Path) -> list[dict]:
    if not history:
        raise ValueError(f"{where}: no checkpoints recorded yet")
    for i, h in enumerate(history):
        missing = [k for k in ("step", "samples_seen", "loss") if k not in h]
        if missing:
            raise ValueError(f"{where}: history entry {i} lacks {', '.join(missing)}")
    return history


def _read_json(p: Path) -> dict:
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: not valid JSON ({e})") from None


def load_stretches(path: str | Path, label: str | None = None) -> list[Stretch]:
    """The stretches recorded at ``path``: a run directory / ``state.json`` (one stretch) or a
    release ``manifest.json`` (every stretch behind the shipped weights).

    Raises FileNotFoundError or ValueError naming the file.
    """
    p = Path(path)
    p = p / "state.json" if p.is_dir() else p
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no state.json or manifest.json (is this a training run directory?)")
    data = _read_json(p)
    if "lr_schedule" in data and "stretches" in data:  # the campaign trunk's ledger
        stretches = []
        for d in data["stretches"]:
            hist = _check(d.get("history", []), p)
            hist = [
                {**h, "lr": h.get("lr", data["learning_rate"])} for h in hist
            ]  # steady after a 100-step ramp
            stretches.append(
                Stretch(d["label"], hist, machine=d.get("machine", "not recorded"), source=str(p))
            )
        if not stretches:
            raise ValueError(f"{p}: the trunk ledger records no stretch yet")
        return stretches
    if "training" in data:  # a release manifest
        training = data["training"] or {}
        if training.get("stretches"):
            stretches = [Stretch.from_dict(s) for s in training["stretches"]]
            for s in stretches:
                _check(s.history, p)
            return stretches
        hist = _check(training.get("history", []), p)
        return [Stretch(label or f"{p.parent.name} release", hist, source=str(training.get("checkpoint", p)))]
    hist = _check(data.get("history", []), p)
    machine = next((h["machine"] for h in reversed(hist) if h.get("machine")), "not recorded")
    return [Stretch(label or p.parent.name, hist, machine=machine, source=str(p.parent))]


def chunk_wall_s(h: dict, prev_samples: int) -> float:
    """Wall seconds of one checkpoint chunk (recorded, or from its samples and samples/s)."""
    if h.get("wall_s") is not None:
        return float(h["wall_s"])
    rate = h.get("samples_per_s") or 0.0
    return (h["samples_seen"] - prev_samples) / rate if rate > 0 else 0.0


def chain(stretches: list[Stretch], cores: int = DEFAULT_CORES) -> list[dict]:
    """Every checkpoint of every stretch, in order, with campaign totals added:
    ``total_samples``, ``total_wall_h``, ``total_cpu_h`` (core-hours) and ``stretch`` (its label)."""
    out, samples0, wall, cpu = [], 0, 0.0, 0.0
    for s in stretches:
        prev = 0
        for h in s.history:
            w = chunk_wall_s(h, prev)
            estimated = h.get("cpu_s") is None or bool(h.get("cpu_estimated"))
            c = float(h["cpu_s"]) if h.get("cpu_s") is not None else w * cores
            wall, cpu = wall + w, cpu + c
            out.append(
                {
                    **h,
                    "stretch": s.label,
                    "machine": h.get("machine", s.machine),
                    "total_samples": samples0 + int(h["samples_seen"]),
                    "total_wall_h": wall / 3600,
                    "total_cpu_h": cpu / 3600,
                    "cpu_estimated": estimated,
                }
            )
            prev = int(h["samples_seen"])
        samples0 += prev
    return out


def _key(h: dict) -> tuple:
    return tuple(h.get(k) for k in ("step", "samples_seen", "loss", "val_mean", "samples_per_s"))


def join_stretches(stretches: list[Stretch]) -> list[Stretch]:
    """``stretches`` without those a later stretch continues: a run that was shipped and then
    resumed (``--resume``) holds the shipped stretch's checkpoints as the start of its own history
    (same steps, losses and validation figures), so keeping both would count them twice."""
    out: list[Stretch] = []
    for s in stretches:
        keys = [_key(h) for h in s.history]
        while (
            out
            and len(out[-1].history) <= len(keys)
            and [_key(h) for h in out[-1].history] == keys[: len(out[-1].history)]
        ):
            out.pop()
        out.append(s)
    return out


def campaign_stretches(run_dir: str | Path, previous: str | Path | None = None) -> list[Stretch]:
    """The stretches behind a run: those of the release it started from (``previous``, a
    manifest.json, when the run began with ``--init_weights`` from it, or the release this very run
    was shipped as before it was resumed), then the run itself."""
    before = load_stretches(previous) if previous else []
    return join_stretches(before + load_stretches(run_dir))


def totals(points: list[dict]) -> dict:
    """Samples, wall hours and CPU core-hours behind the last point of a chained history."""
    last = points[-1]
    return {k: last[k] for k in ("total_samples", "total_wall_h", "total_cpu_h")}


__all__ = [
    "Stretch",
    "campaign_stretches",
    "chain",
    "chunk_wall_s",
    "join_stretches",
    "load_stretches",
    "totals",
]
