"""tools/recipe_study.py: every candidate is a valid training run; the report's arithmetic."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import recipe_study  # noqa: E402
from inprocess import run_tool  # noqa: E402


def _config_of(cmd: list[str]):
    """The TrainConfig `python -m repose_tf.train` would build from a study command line."""
    from repose_tf.training import TrainConfig

    ints = {"steps", "batch_size", "checkpoint_every", "val_limit", "eval_limit", "seed"}
    floats = {"learning_rate", "time_budget_minutes"}
    args, values = cmd[cmd.index("repose_tf.train") + 1 :], {}
    i = 0
    while i < len(args):
        key = args[i].lstrip("-")
        if key in ("noprogress", "progress"):
            i += 1
            continue
        value = args[i + 1]
        values[key] = (int(value) if key in ints else float(value) if key in floats
                       else (value,) if key in ("dataset", "data_dir") else value)  # fmt: skip
        i += 2
    return TrainConfig(**values)


@pytest.mark.parametrize("name", list(recipe_study.RECIPES))
def test_every_candidate_is_a_valid_run_that_fits_the_budget(name, tmp_path):
    args = recipe_study.parse_args(["--budget_minutes", "20", "--run_root", str(tmp_path)])
    recipe = recipe_study.RECIPES[name]
    cmd = recipe_study.command(recipe, args, tmp_path / name)
    cfg = _config_of(cmd)  # refused flags or phases that do not fit the chunks would raise here
    assert cfg.time_budget_minutes == 20 and cfg.seed == 0 and cfg.val_limit == 200
    assert cfg.dataset == ("lspet",) and cfg.preset == "repose_lsp14"
    assert cfg.batch_size == recipe.batch_size
    plan = cfg.phases()
    assert plan[-1].size == 128 and plan[-1].end == cfg.total_steps
    per_step = recipe.batch_size / recipe.samples_per_s / 60.0  # minutes per step, as estimated
    minutes = cfg.total_steps * per_step + recipe.trace_minutes
    if recipe.open_ended:
        assert minutes > 20  # the budget, not the step count, ends a constant-lr run
    else:
        assert 15 <= minutes <= 21.5, minutes  # the schedule ends near the budget


def _history(points, batch=16, cpu_share=0.93):
    """A state.json history: (training minutes, PCK, steps) per checkpoint."""
    out, t_prev = [], 0.0
    for minutes, pck, step in points:
        wall = 60.0 * (minutes - t_prev)
        t_prev = minutes
        out.append({"step": step, "samples_seen": step * batch, "loss": 0.02, "wall_s": wall,
                    "cpu_s": wall * 2 * cpu_share, "val_metric": "PCK@0.2", "val_mean": pck})  # fmt: skip
    return out


def test_report_reads_pck_at_budget_marks_and_flags_a_disturbed_run(tmp_path):
    root = tmp_path / "study"
    runs = {
        "current": _history([(6, 4.0, 60), (12, 6.0, 120), (18, 7.0, 180), (21, 8.0, 210)]),
        "bf16": _history([(6, 5.0, 90), (12, 9.0, 180), (20.5, 14.0, 285)]),
        "prog64_cos3e-3": _history([(5, 6.0, 200), (11, 12.0, 400), (20, 17.5, 600)], cpu_share=0.8),
    }
    others = {"current": None, "bf16": 0.02, "prog64_cos3e-3": 0.3}  # None: a record from before it
    for name, hist in runs.items():
        d = root / name
        d.mkdir(parents=True)
        (d / "state.json").write_text(json.dumps({"history": hist, "final_val": {"mean": 1.0}}))
        study = {"load_before": [0.3, 0, 0], "load_after": [2.1, 0, 0], "others_cpu": others[name]}
        (d / "study.json").write_text(json.dumps(study))
    (root / "bf16_cos3e-3").mkdir()  # started, no checkpoint yet: not reported
    (root / "bf16_cos3e-3" / "state.json").write_text(json.dumps({"history": []}))
    (root / "bf16_b8_cos2e-3").mkdir()  # stopped after two checkpoints: reported as such
    partial = {"history": _history([(7, 5.0, 130), (12, 6.0, 260)], batch=8)}
    (root / "bf16_b8_cos2e-3" / "state.json").write_text(json.dumps(partial))
    out = run_tool(  # in this process (tests/inprocess.py)
        "recipe_study.py", "--report_only", "--run_root", root, "--doc", tmp_path / "results.md",
        "--plot", tmp_path / "study.png",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {line.split("`")[1]: line for line in out.stdout.splitlines() if line.startswith("| `")}
    assert set(rows) == {"current", "bf16", "prog64_cos3e-3", "bf16_b8_cos2e-3"}
    assert "(stopped early)" in rows["bf16_b8_cos2e-3"] and "(stopped early)" not in rows["bf16"]
    assert [c.strip() for c in rows["bf16_b8_cos2e-3"].strip("|").split("|")][4] == "-"  # no 20 min point
    cells = lambda row: [c.strip() for c in row.strip("|").split("|")]  # noqa: E731
    # PCK at 5 / 10 / 15 / 20 minutes, linear between checkpoints (from 0 at 0 minutes)
    assert cells(rows["current"])[1:5] == ["3.33", "5.33", "6.50", "7.67"]
    assert cells(rows["bf16"])[1:5] == ["4.17", "7.67", "10.76", "13.71"]
    assert cells(rows["prog64_cos3e-3"])[1:5] == ["6.00", "11.00", "14.44", "17.50"]
    assert cells(rows["current"])[5] == "21.0 / 3,360 / 8.00"
    assert cells(rows["prog64_cos3e-3"])[6] == "2.28x"  # at 20 minutes: 17.5 / 7.67
    assert cells(rows["current"])[6] == "1.00x"
    assert cells(rows["bf16"])[7] == "93%, others 2%" and cells(rows["current"])[7] == "93%"
    assert "(disturbed)" in rows["prog64_cos3e-3"] and "(disturbed)" not in rows["bf16"]
    assert "<!-- recipe-study:start -->" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "study.png").stat().st_size > 10_000


def test_bad_candidate_names_are_refused_in_one_line():
    out = run_tool("recipe_study.py", "--only", "current,nope", "--dry_run")
    assert out.returncode == 2 and "unknown candidate(s) nope" in out.stderr and "Traceback" not in out.stderr
