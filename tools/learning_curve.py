"""Plot validation PCK against training samples seen, from training runs' ``state.json``.

    python tools/learning_curve.py --run runs/lspet_v2 --output docs/img/learning_curve.png
    python tools/learning_curve.py --run runs/a --run runs/b --label "gain 30" --label "gain 10"
    python tools/learning_curve.py --chain --run models/manifest.json --run ~/.cache/repose-runs/campaign \
        --target 56.67 --target_label "MoveNet Lightning int8" --output docs/img/campaign_curve.png

--chain reads the runs as consecutive stretches of one campaign (a release manifest.json holds
every stretch behind the shipped weights; a run started from it with --init_weights comes after;
the trunk ledger models/trunk/trunk.json holds the trunk's stretches and their weight averages)
and plots validation PCK against the total samples seen and against the CPU core-hours spent
(repose_tf.campaign), with one table row per checkpoint naming its stretch and machine.

Reads the history that ``python -m repose_tf.train`` appends at every checkpoint (step, samples
seen, loss, samples/s, chunk wall time, periodic validation metric) and writes a PNG (validation
metric and training loss against samples seen, one line per run), prints the log as a Markdown
table, and with --doc puts that table between markers in a Markdown file. Optional --target
draws a horizontal reference line (e.g. a peer's PCK).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from repose_tf.cli import HelpFormatter, invocation, markdown_table, refuse, write_marked_section

START, END = "<!-- learning-curve:start -->", "<!-- learning-curve:end -->"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="learning_curve.py", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument(
        "--run",
        action="append",
        required=True,
        help="Run dir (with state.json), a state.json, or (with --chain) a release manifest.json.",
    )
    p.add_argument("--chain", action="store_true", help="The runs are consecutive stretches of one campaign.")
    p.add_argument("--label", action="append", help="Legend label per --run (default: the run dir name).")
    p.add_argument("--output", default=None, help="PNG to write.")
    p.add_argument("--target", type=float, default=None, help="Reference line (e.g. a peer's PCK).")
    p.add_argument("--target_label", default="reference", help="Legend label of --target.")
    p.add_argument(
        "--doc", default=None, help=f"Write the table into this Markdown file between {START} markers."
    )
    return p.parse_args(argv)


def load_history(run: str | Path) -> list[dict]:
    """The checkpoint history of a run; ValueError naming the file if it has none."""
    from repose_tf.campaign import load_stretches

    return [h for st in load_stretches(run) for h in st.history]


def _val(h: dict) -> str:
    return f"{h['val_mean']:.2f}" if h.get("val_mean") is not None else "-"


def _metric(hist: list[dict], default: str = "validation metric") -> str:
    return next((h["val_metric"] for h in hist if h.get("val_metric")), default)


def table(hist: list[dict]) -> str:
    header = ["step", "samples seen", "train loss", "samples/s", "chunk wall s", "validation"]
    rows = [
        [str(h["step"]), f"{h['samples_seen']:,}", f"{h['loss']:.5f}", f"{h.get('samples_per_s', 0):.2f}",
         f"{h.get('wall_s', 0):.0f}", _val(h)]
        for h in hist
    ]  # fmt: skip
    lines = markdown_table(header, rows, align="r")
    total = sum(h.get("wall_s", 0.0) for h in hist)
    metric = _metric(hist)
    lines += [
        "",
        f"{metric} on the periodic validation subset; {total / 3600:.2f} h of recorded chunk wall time.",
    ]
    return "\n".join(lines)


def _save(fig, axes, path: str | Path) -> Path:
    """Grid and legend on every panel, then the PNG (its folder made if missing)."""
    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, format="png", bbox_inches="tight")
    return out


def plot(
    runs: dict[str, list[dict]], path: str | Path, target: float | None = None, target_label: str = ""
) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax_v, ax_l = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    metric = "validation"
    for label, hist in runs.items():
        pts = [(h["samples_seen"], h["val_mean"]) for h in hist if h.get("val_mean") is not None]
        metric = _metric(hist, metric)
        if pts:
            ax_v.plot(*zip(*pts, strict=True), marker="o", markersize=3, label=label)
        ax_l.plot([h["samples_seen"] for h in hist], [h["loss"] for h in hist], label=label)
    if target is not None:
        ax_v.axhline(target, color="gray", linestyle="--", label=target_label)
    ax_v.set(xlabel="training samples seen", ylabel=f"{metric} (%)", title=f"validation {metric}")
    ax_l.set(xlabel="training samples seen", ylabel="training loss (all stacks)", title="training loss")
    return _save(fig, (ax_v, ax_l), path)


def _best_ema(h: dict) -> tuple[str, float] | None:
    """The best weight average of a checkpoint: (decay, validation), or None without averages."""
    ema = h.get("ema_val") or {}
    return max(ema.items(), key=lambda kv: kv[1]) if ema else None


def _lr(h: dict) -> str:
    return f"{h['lr']:.2g}" if h.get("lr") is not None else "-"


def campaign_table(points: list[dict]) -> str:
    header = ["stretch", "machine", "step", "total samples", "CPU core-h", "samples/s", "lr", "train loss"]
    header += ["validation", "best average (decay)"]
    rows = [
        [h["stretch"], h["machine"], str(h["step"]), f"{h['total_samples']:,}",
         f"{h['total_cpu_h']:.2f}{'*' if h['cpu_estimated'] else ''}", f"{h.get('samples_per_s', 0):.2f}",
         _lr(h), f"{h['loss']:.5f}", _val(h),
         f"{b[1]:.2f} ({b[0]})" if (b := _best_ema(h)) else "-"]
        for h in points
    ]  # fmt: skip
    lines = markdown_table(header, rows, align="llr")
    last = points[-1]
    metric = _metric(points)
    lines += [
        "",
        f"{metric} on the periodic validation subset. Total: {last['total_samples']:,} samples, "
        f"{last['total_cpu_h']:.2f} CPU core-hours ({last['total_wall_h']:.2f} h of chunk wall time)"
        + ("; * = CPU time estimated as wall time x 2 cores (chunks recorded before cpu_s existed)"
           if any(h["cpu_estimated"] for h in points) else "") + ".",
    ]  # fmt: skip
    return "\n".join(lines)


def plot_campaign(points: list[dict], path: str | Path, target: float | None, target_label: str) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13.0, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax_s, ax_c, ax_l = (fig.add_subplot(1, 3, i) for i in (1, 2, 3))
    metric = _metric(points, "validation")
    for label in dict.fromkeys(h["stretch"] for h in points):
        pts = [h for h in points if h["stretch"] == label]
        val = [h for h in pts if h.get("val_mean") is not None]
        ema = [(h, b) for h in pts if (b := _best_ema(h))]
        for ax, key in ((ax_s, "total_samples"), (ax_c, "total_cpu_h")):
            line = ax.plot(
                [h[key] for h in val], [h["val_mean"] for h in val], marker="o", markersize=3, label=label
            )
            if ema:
                ax.plot([h[key] for h, _ in ema], [b[1] for _, b in ema], linestyle="--", marker="^",
                        markersize=3, color=line[0].get_color(),
                        label=f"{label}: best weight average")  # fmt: skip
        ax_l.plot([h["total_samples"] for h in pts], [h["loss"] for h in pts], label=label)
    if target is not None:
        for ax in (ax_s, ax_c):
            ax.axhline(target, color="gray", linestyle="--", label=target_label)
    ax_s.set(
        xlabel="training samples seen (all stretches)", ylabel=f"{metric} (%)", title=f"validation {metric}"
    )
    ax_c.set(xlabel="CPU core-hours (all stretches)", ylabel=f"{metric} (%)", title=f"validation {metric}")
    ax_l.set(xlabel="training samples seen (all stretches)", ylabel="training loss", title="training loss")
    return _save(fig, (ax_s, ax_c, ax_l), path)


def main(argv=None) -> int:
    args = parse_args(argv)
    labels = args.label or []
    if labels and len(labels) != len(args.run):
        return refuse(f"{len(labels)} --label for {len(args.run)} --run")
    from repose_tf.campaign import chain, join_stretches, load_stretches

    try:
        if args.chain:
            stretches = [
                st for i, r in enumerate(args.run) for st in load_stretches(r, labels[i] if labels else None)
            ]
            points = chain(join_stretches(stretches))  # a shipped run resumed later is counted once
        else:
            runs = {
                (labels[i] if labels else Path(r).name or str(r)): load_history(r)
                for i, r in enumerate(args.run)
            }
    except (FileNotFoundError, ValueError) as e:
        return refuse(e)
    if args.chain:
        text = campaign_table(points)
    else:
        texts = [f"{label}:\n\n{table(h)}" if len(runs) > 1 else table(h) for label, h in runs.items()]
        text = "\n\n".join(texts)
    print(text)
    if args.output:
        if args.chain:
            out = plot_campaign(points, args.output, args.target, args.target_label)
        else:
            out = plot(runs, args.output, args.target, args.target_label)
        print(f"plot: {out}")
    if args.doc:
        cmd = invocation("learning_curve.py", argv)
        body = f"`{cmd}`\n\n" + (
            f"![learning curve]({_rel(args.output, args.doc)})\n\n" if args.output else ""
        )
        write_marked_section(Path(args.doc), START, END, body + text)
        print(f"doc: {args.doc}")
    return 0


def _rel(target: str, doc: str) -> str:
    import os

    return os.path.relpath(Path(target).resolve(), Path(doc).resolve().parent)


if __name__ == "__main__":
    sys.exit(main())
