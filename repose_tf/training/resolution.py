"""Progressive resolution: train the first part of a run at a lower input size, finish at the preset's.

The network is fully convolutional and its layers are named by depth (``repose_tf.model``), so
the same weights serve a 64 px input (coarsest 8) and the preset's 128 px (coarsest 16): a
phase change builds the model at the new size, copies every weight by name and carries the
optimizer's state (moments and step counter) over by position. Phase boundaries land on
checkpoint chunks, so a resumed run knows its size from its step alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from repose_tf.training.errors import TrainingError
from repose_tf.training.optimizer import compile_model


@dataclass(frozen=True)
class Phase:
    """Steps ``[start, end)`` of a run trained at ``size`` x ``size`` pixels."""

    size: int
    start: int
    end: int


def parse_schedule(text: str) -> list[tuple[int, float]]:
    """``"64:0.6,96:0.2,128:0.2"`` -> ``[(64, 0.6), (96, 0.2), (128, 0.2)]`` (checked, one-line errors)."""
    items = []
    for part in (p.strip() for p in str(text).split(",")):
        size, sep, frac = part.partition(":")
        try:
            item = (int(size), float(frac))
        except ValueError:
            item = None
        if not sep or item is None or item[0] < 1 or not item[1] > 0:
            raise TrainingError(
                f"resolution_schedule {text!r}: {part!r} is not SIZE:FRACTION with SIZE >= 1 and "
                "FRACTION > 0 (e.g. 64:0.6,96:0.2,128:0.2)"
            )
        items.append(item)
    total = sum(f for _, f in items)
    if abs(total - 1.0) > 1e-3:
        raise TrainingError(f"resolution_schedule {text!r}: fractions add up to {total:g}, not 1")
    return items


def check_sizes(items: list[tuple[int, float]], input_size: int, coarsest: int, text: str = "") -> None:
    """Every size keeps the preset's depth (size / 2**depth is a whole grid); the last is the preset's."""
    depth = round(math.log2(input_size // coarsest))
    for size, _ in items:
        if size % (1 << depth):
            raise TrainingError(
                f"resolution_schedule {text!r}: {size} px is not a multiple of {1 << depth} "
                f"(the network halves the input {depth} times)"
            )
    if items[-1][0] != input_size:
        raise TrainingError(
            f"resolution_schedule {text!r}: the last size must be the preset's input size "
            f"{input_size} (the saved model is always at that size), got {items[-1][0]}"
        )


def phases(text: str | None, *, total_steps: int, chunk: int, input_size: int, coarsest: int) -> list[Phase]:
    """The run's phases; one phase at ``input_size`` without a schedule.

    Boundaries are rounded to multiples of ``chunk`` (checkpoint_every) so each phase ends on a
    checkpoint; a phase that rounds to nothing is refused (give the run more steps). ``none``
    (or empty) means no schedule.
    """
    if not text or str(text).strip().lower() == "none":
        return [Phase(input_size, 0, total_steps)]
    items = parse_schedule(text)
    check_sizes(items, input_size, coarsest, text)
    out, start, cum = [], 0, 0.0
    for i, (size, frac) in enumerate(items):
        cum += frac
        end = total_steps if i == len(items) - 1 else round(cum * total_steps / chunk) * chunk
        if end <= start:
            raise TrainingError(
                f"resolution_schedule {text!r}: the {size} px phase gets no whole checkpoint chunk "
                f"of {chunk} steps in {total_steps} steps; use more steps or a smaller checkpoint_every"
            )
        out.append(Phase(size, start, end))
        start = end
    return out


def phase_at(plan: list[Phase], step: int) -> Phase:
    """The phase a run at ``step`` trains in (the last one once the run is done)."""
    return next((p for p in plan if p.start <= step < p.end), plan[-1])


def config_at_size(cfg, size: int):
    """``cfg`` at input ``size`` with the same depth; a given sigma scales with the size."""
    if size == cfg.input_size:
        return cfg
    scale = cfg.input_size // cfg.coarsest_resolution
    sigma = None if cfg.sigma is None else cfg.sigma * size / cfg.input_size
    return cfg.replace(input_size=size, coarsest_resolution=size // scale, sigma=sigma)


def transfer_optimizer(source, target) -> None:
    """Copy ``source`` model's optimizer state into ``target``'s (same architecture, any input size).

    Keras keys optimizer slots by variable identity, so the state moves by position; the two
    models' trainable variables must match one to one by path and shape (checked).
    """
    src_opt, dst_opt = source.optimizer, target.optimizer
    if not getattr(src_opt, "built", False):
        return  # nothing trained yet: a fresh optimizer is the same state
    a, b = source.trainable_variables, target.trainable_variables
    if [(v.path, tuple(v.shape)) for v in a] != [(v.path, tuple(v.shape)) for v in b]:
        raise TrainingError("progressive resolution: the two sizes' models do not have the same variables")
    dst_opt.build(b)
    if len(src_opt.variables) != len(dst_opt.variables):
        raise TrainingError("progressive resolution: optimizer states of different layouts")
    for s, d in zip(src_opt.variables, dst_opt.variables, strict=True):
        if tuple(s.shape) != tuple(d.shape):
            raise TrainingError(f"progressive resolution: optimizer variable {s.path} changed shape")
        d.assign(s)


def model_at_size(model, cfg, compile_kwargs: dict):
    """``model`` (training form, compiled) rebuilt with config ``cfg`` (the run's config at a phase's
    size): weights copied by name, optimizer state carried. The same model if it already is at it."""
    from repose_tf.model import RePose, copy_weights_by_name  # Keras on first use

    if model.repose_config.input_size == cfg.input_size:
        return model
    new = RePose(cfg)
    compile_model(new, **compile_kwargs)
    copy_weights_by_name(model, new)
    transfer_optimizer(model, new)
    return new


__all__ = [
    "Phase",
    "check_sizes",
    "config_at_size",
    "model_at_size",
    "parse_schedule",
    "phase_at",
    "phases",
    "transfer_optimizer",
]
