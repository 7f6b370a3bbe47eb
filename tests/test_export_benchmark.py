"""tools/benchmark.py in fast mode on the small model's exports (and the MoveNet peer when present)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import test_export_helpers as H

REPO = Path(__file__).resolve().parents[1]


def test_benchmark_fast_writes_its_section_only(tmp_path_factory, shared_dir, tmp_path):
    exports = H.tiny_exports(tmp_path_factory, shared_dir)
    onnx = H.tiny_onnx(tmp_path_factory, shared_dir)
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\nintro kept\n\n"
        "<!-- input-benchmark:start -->\nother section\n<!-- input-benchmark:end -->\n"
        "\n<!-- export-benchmark:start -->\nold table\n<!-- export-benchmark:end -->\n\ntrailer kept\n"
    )
    peers = sorted((shared_dir / "peers").glob("*.tflite"))
    cmd = [
        sys.executable,
        "tools/benchmark.py",
        "--fast",
        "--doc",
        str(doc),
        "--json",
        str(tmp_path / "b.json"),
    ]
    cmd += ["--models", str(exports["none"]), str(exports["int8"]), str(onnx), "--peers", *map(str, peers)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert r.returncode == 0, r.stderr[-2000:]
    text = doc.read_text()
    assert "intro kept" in text and "other section" in text and "trailer kept" in text
    assert "old table" not in text and text.count("<!-- export-benchmark:start -->") == 1
    section = text.split("<!-- export-benchmark:start -->")[1].split("<!-- export-benchmark:end -->")[0]
    assert "tiny_none.tflite" in section and "tiny_int8.tflite" in section and "tiny.onnx" in section
    assert "| model |" in section and "Machine:" in section and "phone" in section
    row = next(line for line in section.splitlines() if line.startswith("| tiny_int8.tflite"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "int8" and cells[2] == "uint8/uint8" and float(cells[7]) > 0  # median ms
    if peers:
        assert "(peer)" in section


def test_benchmark_without_models_says_why(tmp_path):
    r = subprocess.run(
        [sys.executable, "tools/benchmark.py", "--models", str(tmp_path / "none"), "--peers", "--no_write"],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert r.returncode == 2 and "error:" in r.stderr and "Traceback" not in r.stderr
