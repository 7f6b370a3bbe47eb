"""The campaign trunk: save its state into the repository, continue it anywhere, take a release from it.

    python tools/trunk.py status                                   # the ledger: stretches, rate, averages
    python tools/trunk.py save --run_dir ~/.cache/repose-runs/trunk --decay 0.998
    python tools/trunk.py continue --model_dir ~/.cache/repose-runs/trunk   # prints the train command
    python tools/trunk.py continue --model_dir ~/.cache/repose-runs/trunk --run
    python tools/trunk.py branch --run_dir ~/.cache/repose-runs/trunk --output_dir BRANCH --decay_steps 150
    python tools/trunk.py export --run_dir ~/.cache/repose-runs/trunk --decay 0.998 --output avg.keras

The trunk trains at one steady rate (``--lr_schedule warmup_constant``) with exponential moving
averages of its weights (``--ema_decays``). ``save`` writes one average, float16, to
models/trunk/trunk.weights.npz and the run's history to models/trunk/trunk.json (one stretch per
run directory; saving again from the same run replaces its stretch). ``continue`` gives the command
that goes on from there on any machine: the same rate and averages, a 100-step re-warm of fresh Adam
moments, the next seed. On the machine that holds the run directory, ``python -m repose_tf.train
--model_dir DIR --resume`` continues it exactly instead. ``export`` writes an average as a
training-form .keras for tools/ship_model.py and the evaluation tools.
The logic lives in repose_tf.training.trunk and repose_tf.training.ema.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from repose_tf.cli import HelpFormatter, refuse  # noqa: E402
from repose_tf.paths import lspet_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TRUNK = REPO / "models" / "trunk"
DEFAULT_DATA = lspet_dir()


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="trunk.py", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--trunk_dir", default=str(DEFAULT_TRUNK), help="Where the trunk state lives.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="Print the ledger: rate, averages, stretches and their last validation.")
    s = sub.add_parser("save", help="Save a run's weight average and history as the trunk state.")
    s.add_argument("--run_dir", required=True, help="The trunk's run directory (state.json, ema.npz).")
    s.add_argument("--decay", type=float, required=True, help="Which average to carry (e.g. 0.998).")
    s.add_argument("--label", default=None, help="Stretch label (default: date and run directory name).")
    c = sub.add_parser("continue", help="The command that continues the trunk on this machine.")
    c.add_argument("--model_dir", required=True, help="A new run directory for this stretch.")
    c.add_argument("--data_dir", default=str(DEFAULT_DATA), help="LSPET directory.")
    c.add_argument(
        "--seed", type=int, default=None, help="Data-order seed (default: 100 + stretches so far)."
    )
    c.add_argument("--run", action="store_true", help="Run it (in the foreground) instead of printing it.")
    b = sub.add_parser(
        "branch", help="Copy the trunk's run and anneal the copy to zero (a decay branch for a release)."
    )
    b.add_argument("--run_dir", required=True, help="The trunk's run directory.")
    b.add_argument("--output_dir", required=True, help="Where the branch runs (a new directory).")
    b.add_argument("--decay_steps", type=int, default=150, help="Steps of the linear fall to zero.")
    b.add_argument("--run", action="store_true", help="Start it (default: print the command).")
    e = sub.add_parser("export", help="Write a run's weight average as a training-form .keras.")
    e.add_argument("--run_dir", required=True, help="The run directory (checkpoint.keras, ema.npz).")
    e.add_argument("--decay", type=float, required=True, help="Which average (e.g. 0.998).")
    e.add_argument("--output", required=True, help="The .keras file to write.")
    return p.parse_args(argv)


def status(trunk_dir: Path) -> int:
    from repose_tf.training.trunk import read_ledger

    ledger = read_ledger(trunk_dir)
    if ledger is None:
        print(f"no trunk saved in {trunk_dir} yet: start one with tools/trunk.py continue (see --help)")
        return 0
    print(
        f"trunk: {ledger['preset']} on {','.join(ledger['dataset'])}, batch {ledger['batch_size']}, "
        f"Adam {ledger['learning_rate']:g} ({ledger['lr_schedule']}), averages {ledger['ema_decays']}, "
        f"carried: the {ledger['carried_average']:g} average ({ledger['weights']})"
    )
    for s in ledger["stretches"]:
        h = s["history"][-1] if s["history"] else {}
        ema = ", ".join(f"{k} {v:.2f}" for k, v in (h.get("ema_val") or {}).items())
        print(
            f"  {s['label']}: {len(s['history'])} checkpoints to step {h.get('step', 0)} on {s['machine']}; "
            f"{ledger['val_split']} PCK raw {h.get('val_mean', float('nan')):.2f}"
            + (f", EMA {ema}" if ema else "")
        )
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    from repose_tf.export import ExportError
    from repose_tf.training import trunk
    from repose_tf.training.ema import export_average

    trunk_dir = Path(args.trunk_dir)
    try:
        if args.command == "status":
            return status(trunk_dir)
        if args.command == "save":
            ledger = trunk.save_trunk(args.run_dir, args.decay, trunk_dir, label=args.label)
            w = trunk_dir / ledger["weights"]
            print(
                f"saved the {args.decay:g} average of {args.run_dir} to {w} ({w.stat().st_size / 1e6:.1f} MB)"
            )
            print(f"ledger {trunk_dir / trunk.LEDGER}: {len(ledger['stretches'])} stretch(es)")
            return 0
        if args.command == "continue":
            cmd = [sys.executable, "-m", "repose_tf.train"] + trunk.continue_command(
                trunk_dir, model_dir=args.model_dir, data_dir=args.data_dir, seed=args.seed
            )
            if not args.run:
                print(shlex.join(cmd))
                return 0
            os.execv(sys.executable, cmd)
        if args.command == "branch":
            cmd = [sys.executable, "-m", "repose_tf.train"] + trunk.branch_command(
                args.run_dir, args.output_dir, decay_steps=args.decay_steps
            )
            print(f"copied {args.run_dir} to {args.output_dir}")
            if not args.run:
                print(shlex.join(cmd))
                return 0
            os.execv(sys.executable, cmd)
        if args.command == "export":
            rec = export_average(args.run_dir, args.decay, args.output)
            print(f"wrote {args.output} (the {args.decay:g} average at step {rec['ema']['step']})")
            return 0
    except (ExportError, FileNotFoundError, FileExistsError, ValueError) as e:
        return refuse(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
