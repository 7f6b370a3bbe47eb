"""``python -m repose_tf.summary``: params and GFLOPs of every paper configuration, beside the paper.

Counts come from the built Keras graph (``repose_tf.profile``): params = ``model.count_params()``
(BatchNorm moving statistics included), FLOPs = 2 x convolution multiply-adds at batch 1.
"""

from __future__ import annotations

import json

from absl import app, flags

from repose_tf.cli import fail

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Register the CLI's flags (when it runs, never on import)."""
    flags.DEFINE_bool(
        "json", False, "Print a JSON list of {name, params, gflops, paper_params, paper_gflops}."
    )
    flags.DEFINE_list(
        "presets", None, "Presets to profile (default: every preset with paper figures, plus lsp14)."
    )


def summarize(presets: list[str] | None = None) -> list[dict]:
    """Build each preset and return its measured and published size."""
    from repose_tf.config import PRESETS, preset_info
    from repose_tf.model import RePose
    from repose_tf.profile import profile_model

    if presets is None:
        presets = [n for n, p in PRESETS.items() if p.paper_params is not None] + [
            "repose_lsp14",
            "repose_coco17",
        ]
    rows = []
    for name in presets:
        p = preset_info(name)
        prof = profile_model(RePose(p.config))  # random init: only the graph is measured
        rows.append(
            {
                "name": name,
                "description": p.description,
                "params": prof.params,
                "trainable_params": prof.trainable_params,
                "gflops": round(prof.gflops, 3),
                "paper_params": None if p.paper_params is None else int(p.paper_params * 1e6),
                "paper_gflops": p.paper_gflops,
                "weights": p.weights,
            }
        )
    return rows


def _rel(ours: float, paper: float | None) -> str:
    return "-" if not paper else f"{100 * (ours / paper - 1):+.1f}%"


def format_table(rows: list[dict]) -> str:
    """Markdown table: measured vs paper, with relative differences."""
    out = [
        "| preset | params | paper | diff | GFLOPs | paper | diff | what |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        pp = r["paper_params"]
        out.append(
            f"| {r['name']} | {r['params'] / 1e6:.3f}M | {'-' if pp is None else f'{pp / 1e6:.1f}M'} "
            f"| {_rel(r['params'], pp)} | {r['gflops']:.2f} | {r['paper_gflops'] or '-'} "
            f"| {_rel(r['gflops'], r['paper_gflops'])} | {r['description']} |"
        )
    return "\n".join(out)


def main(argv):
    del argv
    rows = summarize(FLAGS.presets)
    if FLAGS.json:
        keys = ("name", "params", "gflops", "paper_params", "paper_gflops")
        print(json.dumps([{k: r[k] for k in keys} for r in rows], indent=2))
    else:
        print(format_table(rows))
        print("\nFLOPs = 2 x conv multiply-adds (batch 1); params include BatchNorm moving statistics.")
    return 0


def run() -> None:
    define_flags()
    try:
        app.run(main)
    except ValueError as e:  # bad --presets: a readable message, no traceback
        fail(e)


if __name__ == "__main__":
    run()
