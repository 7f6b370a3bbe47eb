"""PCK tables (markdown, the paper's column order) and PCK-vs-threshold plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from repose_tf.cli import markdown_table
from repose_tf.keypoints import LSP14
from repose_tf.metrics.results import PCKCurve, PCKResult

#: Column order of the paper's tables (and of every PCK table in the LSP/MPII literature).
PAPER_COLUMNS: tuple[str, ...] = (*LSP14.pck_columns, "Mean")


def format_markdown_table(
    results: PCKResult | Sequence[PCKResult] | Mapping[str, PCKResult],
    *,
    digits: int = 1,
    columns: Sequence[str] = PAPER_COLUMNS,
    extra_columns: Sequence[str] = (),
    label_header: str = "Method",
) -> str:
    """Markdown table in the paper's column order; ``-`` where a column does not apply.

    ``results`` maps row labels to results (a bare result or list is labelled by its metric).
    ``extra_columns`` appends entries of ``result.extras`` (e.g. ``"Mean@0.1"``).
    """
    rows = _labelled(results, lambda r: r.metric)
    cols = [*columns, *extra_columns]
    body = []
    for label, r in rows:
        cells = []
        for c in cols:
            v = r.per_group.get(c, r.extras.get(c))
            cells.append("-" if v is None or not np.isfinite(v) else f"{v:.{digits}f}")
        body.append([label, *cells])
    return "\n".join(markdown_table([label_header, *cols], body, align="lr")) + "\n"


def plot_pck_curves(
    curves: PCKCurve | Sequence[PCKCurve] | Mapping[str, PCKCurve],
    path: str | Path,
    *,
    groups: Sequence[str] = ("Mean",),
    title: str | None = None,
    dpi: int = 120,
) -> Path:
    """Write a PCK-vs-threshold PNG (one line per curve and group); returns the path.

    Uses matplotlib's object API with the Agg canvas, so it never touches pyplot's global
    backend state (safe on headless CI and inside other programs).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = _labelled(curves, lambda c: c.label or c.metric)
    if not rows:
        raise ValueError("plot_pck_curves: no curves given")
    fig = Figure(figsize=(6.0, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for label, c in rows:
        for g in groups:
            if g != "Mean" and g not in c.per_group:
                raise ValueError(f"curve {label!r} has no group {g!r} (has {', '.join(c.per_group)})")
            y = c.mean if g == "Mean" else c.per_group[g]
            name = label if len(groups) == 1 else f"{label} {g}"
            ax.plot(c.thresholds, y, label=f"{name} (AUC {c.auc(g):.1f})", linewidth=1.8)
    metric = rows[0][1].metric
    ax.set_xlabel("normalised distance threshold" + (" (x head size)" if metric == "PCKh" else " (x torso)"))
    ax.set_ylabel(f"{metric} (%)")
    ax.set_ylim(0, 100)
    ax.set_xlim(float(min(c.thresholds[0] for _, c in rows)), float(max(c.thresholds[-1] for _, c in rows)))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    if title:
        ax.set_title(title)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, format="png", bbox_inches="tight")
    return out


def _labelled(items: Any, default_label: Any) -> list[tuple[str, Any]]:
    if isinstance(items, (PCKResult, PCKCurve)):
        return [(default_label(items), items)]
    if isinstance(items, Mapping):
        return [(str(k), v) for k, v in items.items()]
    return [(default_label(x), x) for x in items]


__all__ = ["PAPER_COLUMNS", "format_markdown_table", "plot_pck_curves"]
