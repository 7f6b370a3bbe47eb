"""tools/benchmark_train.py: each config in its own process, a table naming the CPU, a marked doc
section, and flag values refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inprocess import run_tool

REPO = Path(__file__).resolve().parents[1]


def _run(*args):
    """``python tools/benchmark_train.py ARGS`` in this process (tests/inprocess.py); the tool still
    times each config in a process of its own."""
    return run_tool("benchmark_train.py", *args, cwd=REPO)


@pytest.mark.slow
def test_benchmark_train_times_a_real_train_step_and_writes_the_doc(tmp_path):
    from repose_tf.cpu import cpu_info

    doc, js = tmp_path / "benchmarks.md", tmp_path / "b.json"
    doc.write_text("# Benchmarks\n\nkept text\n")
    res = _run("--preset", "repose_tiny", "--input_size", "32", "--precision", "float32", "--steps", 2,
               "--warmup", 1, "--doc", doc, "--json", js)  # fmt: skip
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    row = json.loads(js.read_text())["rows"][0]
    assert row["input_size"] == 32 and row["batch_size"] == 16 and row["policy"] == "float32"
    assert row["samples_per_s"] == pytest.approx(16 / row["median_step_s"]) and row["samples_per_s"] > 0
    assert row["first_step_s"] >= row["median_step_s"]  # the first step traces the graph
    text = doc.read_text()
    assert "kept text" in text and "<!-- train-benchmark:start -->" in text
    assert f"CPU: {cpu_info().describe()}" in text and "| tensorflow | float32 | 32 | 16 |" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--input_size", "100"], "--input_size 100: must be a multiple of 32"),
        (["--precision", "float8"], "expected a comma-separated list of float32, bfloat16, float16"),
        (["--backend", "torch"], "of tensorflow, jax"),
        (["--steps", "0"], "must be >= 1"),
    ],
)
def test_benchmark_train_refuses_bad_flags_in_one_line(args, message):
    res = _run(*args)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr
