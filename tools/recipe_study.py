"""Time-to-accuracy study: train candidate recipes for the same training time, compare PCK.

    python tools/recipe_study.py --data_dir ../shared/data/lspet --budget_minutes 20
    python tools/recipe_study.py --only current,bf16 --rerun current      # (re)run some
    python tools/recipe_study.py --report_only --doc docs/results.md --plot docs/img/recipe_study.png

Every candidate starts from the same random initialisation (``--seed``) on LSPET 1-8000 and is
trained with ``python -m repose_tf.train ... --time_budget_minutes B`` (training stops at the
first checkpoint past B minutes of training wall time: periodic validation excluded, tracing
included), one at a time, in its own run directory under --run_root. Every checkpoint is
validated in float32 inference mode at 128 px on the first --val_limit LSPET validation images,
so each run gives a curve of PCK@0.2 against training minutes. Run it on a quiet machine: the
share of the cores other processes used while it trained is measured (/proc/stat minus the
trainer's CPU time), with the load average before and after; above 10% the candidate is marked
disturbed, to rerun (--rerun). The trainer's own CPU share is shown too: it is lower at 64 px,
where per-op overhead leaves cores idle, so it is not a disturbance measure.
Finished candidates are skipped, so a killed study continues where it stopped. The report is a
Markdown table (PCK at quarters of the budget, linear between checkpoints; the last checkpoint;
the ratio to the current recipe at the budget) and a PNG, one line per recipe.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from repose_tf.cli import HelpFormatter, invocation, markdown_table, write_marked_section  # noqa: E402
from repose_tf.paths import lspet_dir  # noqa: E402

START, END = "<!-- recipe-study:start -->", "<!-- recipe-study:end -->"
OTHERS_SHARE = 0.10  # other processes' share of the cores above which a candidate is disturbed


@dataclass(frozen=True)
class Recipe:
    """A candidate: its training flags and the throughput used to size its schedule.

    ``samples_per_s`` (measured by tools/benchmark_train.py on the study's machine) sets
    ``--steps`` so that the learning-rate schedule and the resolution phases end near the budget;
    the budget itself stops the run.
    """

    name: str
    description: str
    flags: tuple[str, ...]
    batch_size: int = 16
    samples_per_s: float = 5.0  # over the whole run (a progressive run's phases averaged by time)
    trace_minutes: float = 2.7  # graph tracing (first step ~160 s here), once per input size
    open_ended: bool = False  # constant lr: more steps than the budget holds, the budget stops it
    fixed: tuple[int, int] | None = None  # (steps, checkpoint_every) where phases must fit chunks

    def steps(self, budget_minutes: float, chunk_minutes: float) -> tuple[int, int]:
        """``(steps, checkpoint_every)`` for a run of about ``budget_minutes``."""
        if self.fixed:
            return self.fixed
        per_min = 60.0 * self.samples_per_s / self.batch_size * (3.0 if self.open_ended else 1.0)
        every = max(5, int(round(chunk_minutes * per_min / (3.0 if self.open_ended else 1.0) / 5.0)) * 5)
        train_minutes = max(chunk_minutes, budget_minutes - self.trace_minutes)
        steps = max(every, int(round(train_minutes * per_min / every)) * every)
        return steps, every


#: The candidates. samples/s from tools/benchmark_train.py on a 2-core AMD EPYC Zen 4 (AVX512_BF16):
#: float32 128 px 3.07, bfloat16 128 px 4.70, bfloat16 64 px 14.96; a progressive 64:0.8,128:0.2
#: run spends ~56% of its training time at 64 px, ~10.4 samples/s overall.
RECIPES = {
    r.name: r
    for r in (
        Recipe(
            "current",
            "float32, 128 px, batch 16, constant lr 1e-3 (the campaign's recipe, in float32)",
            ("--mixed_precision", "float32", "--batch_size", "16", "--learning_rate", "1e-3",
             "--lr_schedule", "constant"),
            samples_per_s=3.0,
            open_ended=True,
        ),
        Recipe(
            "bf16",
            "bfloat16, 128 px, batch 16, constant lr 1e-3",
            ("--mixed_precision", "bfloat16", "--batch_size", "16", "--learning_rate", "1e-3",
             "--lr_schedule", "constant"),
            samples_per_s=4.6,
            open_ended=True,
        ),
        Recipe(
            "bf16_cos3e-3",
            "bfloat16, 128 px, batch 16, warmup + cosine, peak lr 3e-3",
            ("--mixed_precision", "bfloat16", "--batch_size", "16", "--learning_rate", "3e-3",
             "--lr_schedule", "warmup_cosine"),
            samples_per_s=4.6,
        ),
        Recipe(
            "bf16_b8_cos2e-3",
            "bfloat16, 128 px, batch 8, warmup + cosine, peak lr 2e-3",
            ("--mixed_precision", "bfloat16", "--batch_size", "8", "--learning_rate", "2e-3",
             "--lr_schedule", "warmup_cosine"),
            batch_size=8,
            samples_per_s=4.4,
        ),
        Recipe(
            "prog64_cos3e-3",
            "bfloat16, progressive: 64 px for 5/6 of the steps, then 128 px; batch 16, warmup + cosine 3e-3",
            ("--mixed_precision", "bfloat16", "--batch_size", "16", "--learning_rate", "3e-3",
             "--lr_schedule", "warmup_cosine", "--resolution_schedule", "64:0.83,128:0.17"),
            samples_per_s=10.4,
            trace_minutes=5.4,
            fixed=(600, 100),  # 500 steps at 64 px (~9 min) + 100 at 128 px (~6 min) + 2 traces (~5 min)
        ),
    )
}  # fmt: skip


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="recipe_study.py", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--data_dir", default=str(lspet_dir()), help="LSPET directory.")
    p.add_argument("--run_root", default=str(Path.home() / ".cache" / "repose-runs" / "study"),
                   help="One run directory per candidate goes here (outside the work tree).")  # fmt: skip
    p.add_argument("--budget_minutes", type=float, default=20.0, help="Training minutes per candidate.")
    p.add_argument(
        "--chunk_minutes", type=float, default=4.0, help="About this many minutes between checkpoints."
    )
    p.add_argument("--only", default=None, help=f"Comma-separated candidates (of {', '.join(RECIPES)}).")
    p.add_argument("--rerun", default="", help="Comma-separated candidates to train again from scratch.")
    p.add_argument("--seed", type=int, default=0, help="Initialisation, data order and augmentation seed.")
    p.add_argument("--val_limit", type=int, default=200, help="Validation images per checkpoint.")
    p.add_argument("--report_only", action="store_true", help="Only build the report from finished runs.")
    p.add_argument("--doc", default=None, help=f"Markdown file whose {START} section gets the table.")
    p.add_argument("--plot", default=None, help="PNG: PCK against training minutes, one line per recipe.")
    p.add_argument("--dry_run", action="store_true", help="Print the commands, train nothing.")
    args = p.parse_args(argv)
    names = [n.strip() for n in (args.only or ",".join(RECIPES)).split(",") if n.strip()]
    rerun = [n.strip() for n in args.rerun.split(",") if n.strip()]
    bad = [n for n in names + rerun if n not in RECIPES]
    if bad:
        p.error(f"unknown candidate(s) {', '.join(bad)}; known: {', '.join(RECIPES)}")
    if not args.budget_minutes > 0:
        p.error("--budget_minutes must be > 0")
    args.names, args.rerun_names = names, set(rerun)
    return args


def command(recipe: Recipe, args, run_dir: Path) -> list[str]:
    steps, every = recipe.steps(args.budget_minutes, args.chunk_minutes)
    return [
        sys.executable, "-m", "repose_tf.train", "--preset", "repose_lsp14", "--dataset", "lspet",
        "--data_dir", args.data_dir, "--model_dir", str(run_dir), "--seed", str(args.seed),
        "--steps", str(steps), "--checkpoint_every", str(every), "--val_limit", str(args.val_limit),
        "--eval_limit", str(args.val_limit), "--time_budget_minutes", f"{args.budget_minutes:g}",
        "--noprogress", *recipe.flags,
    ]  # fmt: skip


def finished(run_dir: Path) -> bool:
    state = run_dir / "state.json"
    return state.is_file() and "final_val" in json.loads(state.read_text())


def run_candidate(recipe: Recipe, args) -> dict:
    """Train one candidate (from scratch) and return its study record."""
    import shutil

    run_dir = Path(args.run_root) / recipe.name
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    cmd = command(recipe, args, run_dir)
    print(f"[{recipe.name}] {recipe.description}\n  {' '.join(cmd[1:])}", flush=True)
    import resource

    from repose_tf.cpu import busy_cpu_seconds

    load0, t0, busy0 = os.getloadavg(), time.time(), busy_cpu_seconds()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(run_dir / "train.log", "w") as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})  # fmt: skip
    wall, busy1 = time.time() - t0, busy_cpu_seconds()
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
    others = (
        None
        if busy0 is None or busy1 is None
        else max(0.0, busy1 - busy0 - own) / (wall * (os.cpu_count() or 1))
    )
    rec = {"load_before": load0, "load_after": os.getloadavg(), "process_wall_s": wall, "rc": rc,
           "others_cpu": others}  # fmt: skip
    (run_dir / "study.json").write_text(json.dumps({"recipe": recipe.name, "command": cmd, **rec}, indent=2))
    if rc != 0:
        print(f"  failed (exit {rc}); see {run_dir / 'train.log'}", flush=True)
    return rec


def load_runs(args) -> dict[str, dict]:
    """``{name: {"history": [...], "study": {...}, "final": ...}}`` of the finished candidates."""
    runs = {}
    for name in args.names:
        d = Path(args.run_root) / name
        if not (d / "state.json").is_file():
            continue
        state = json.loads((d / "state.json").read_text())
        if not state.get("history"):
            continue  # started, no checkpoint yet: nothing to report
        study = json.loads((d / "study.json").read_text()) if (d / "study.json").is_file() else {}
        runs[name] = {"history": state["history"], "study": study, "final": state.get("final_val"),
                      "stopped_early": "final_val" not in state}  # fmt: skip
    return runs


def curve(history: list[dict]) -> list[tuple[float, float, int]]:
    """``(training minutes, PCK, samples seen)`` at every validated checkpoint, from 0."""
    out, t = [], 0.0
    for h in history:
        t += float(h.get("wall_s") or 0.0)
        if h.get("val_mean") is not None:
            out.append((t / 60.0, float(h["val_mean"]), int(h["samples_seen"])))
    return out


def pck_at(points: list[tuple[float, float, int]], minutes: float) -> tuple[float, int] | None:
    """PCK and samples at ``minutes``, linear between checkpoints (from 0 PCK at 0 minutes, as
    time-to-accuracy curves are read); None past the last checkpoint."""
    prev = (0.0, 0.0, 0)
    for p in points:
        if p[0] >= minutes - 1e-9:
            f = (minutes - prev[0]) / max(p[0] - prev[0], 1e-9)
            return prev[1] + f * (p[1] - prev[1]), round(prev[2] + f * (p[2] - prev[2]))
        prev = p
    return None


def cpu_share(history: list[dict]) -> float | None:
    """The trainer's share of all cores over its chunks after the first (which traces the graph,
    mostly on one thread): ~0.95 when it has the machine to itself, lower when others take CPU."""
    rest = [h for h in history[1:] if h.get("cpu_s") is not None and h.get("wall_s")]
    if not rest:
        return None
    return sum(h["cpu_s"] for h in rest) / (sum(h["wall_s"] for h in rest) * (os.cpu_count() or 1))


def disturbed(study: dict) -> bool:
    """Other processes took more than 10% of the cores while the candidate trained (measured by
    the study from /proc/stat minus the trainer's own CPU time; older records lack it)."""
    others = study.get("others_cpu")
    return others is not None and others > OTHERS_SHARE


def report(runs: dict[str, dict], args, argv) -> str:
    from repose_tf.cpu import cpu_info

    budget = args.budget_minutes
    marks = [budget * f for f in (0.25, 0.5, 0.75, 1.0)]
    base = runs.get("current")
    base_at_budget = pck_at(curve(base["history"]), budget) if base else None
    head = ["recipe", *[f"PCK@0.2 at {m:g} min" for m in marks], "final: min / samples / PCK@0.2",
            f"vs current at {budget:g} min", "trainer CPU share", "load avg before/after"]  # fmt: skip
    body = []
    for name, run in runs.items():
        pts = curve(run["history"])
        cells = []
        for m in marks:
            v = pck_at(pts, m)
            cells.append(f"{v[0]:.2f}" if v else "-")
        end = pts[-1] if pts else (0.0, float("nan"), 0)
        mine = pck_at(pts, budget)
        ratio = (
            f"{mine[0] / base_at_budget[0]:.2f}x"
            if mine and base_at_budget and base_at_budget[0] > 0
            else "-"
        )
        st = run["study"]
        load = f"{st['load_before'][0]:.2f} / {st['load_after'][0]:.2f}" if st.get("load_before") else "-"
        share = cpu_share(run["history"])
        share_text = "-" if share is None else f"{100 * share:.0f}%"
        if st.get("others_cpu") is not None:
            share_text += f", others {100 * st['others_cpu']:.0f}%" + (
                " (disturbed)" if disturbed(st) else ""
            )
        title = f"`{name}`: {RECIPES[name].description}{' (stopped early)' if run['stopped_early'] else ''}"
        body.append([title, *cells, f"{end[0]:.1f} / {end[2]:,} / {end[1]:.2f}", ratio, share_text, load])
    text = "\n".join(markdown_table(head, body, align="lr"))
    return (
        f"Machine: {cpu_info().describe()}. Budget {budget:g} training minutes per recipe (validation "
        f"excluded, tracing included), seed {args.seed}, validation PCK@0.2 on the first {args.val_limit} "
        "LSPET val images (float32 inference, 128 px), one recipe at a time on a quiet machine.\n"
        f"Produced by `{invocation('recipe_study.py', argv)}` (training commands: each run's study.json).\n\n"
        + text
        + "\n"
    )


def plot(runs: dict[str, dict], path: str, budget: float) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for name, run in runs.items():
        pts = curve(run["history"])
        ax.plot([0] + [p[0] for p in pts], [0] + [p[1] for p in pts], marker="o", label=name)
    ax.set_xlabel("training minutes (2-core CPU; validation excluded)")
    ax.set_ylabel("PCK@0.2, first 200 LSPET val images")
    last = max((p[0] for run in runs.values() for p in curve(run["history"])), default=budget)
    ax.axvline(budget, color="grey", linestyle=":", linewidth=1)
    ax.set_xlim(0, max(budget * 1.05, last + 0.5))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Time to accuracy from a random init, repose_lsp14")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    Path(args.run_root).mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        for name in args.names:
            run_dir = Path(args.run_root) / name
            if finished(run_dir) and name not in args.rerun_names:
                print(f"[{name}] finished earlier in {run_dir}; skipped (--rerun {name} to train again)")
                continue
            if args.dry_run:
                print(" ".join(command(RECIPES[name], args, run_dir)))
                continue
            run_candidate(RECIPES[name], args)
    runs = load_runs(args)
    if not runs:
        print("no finished candidates to report")
        return 0 if args.dry_run else 1
    text = report(runs, args, argv)
    print(text)
    if args.doc:
        write_marked_section(args.doc, START, END, text, heading="## Time to accuracy: the recipe study")
    if args.plot:
        plot(runs, args.plot, args.budget_minutes)
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
