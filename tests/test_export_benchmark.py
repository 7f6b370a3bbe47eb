"""tools/benchmark.py in fast mode on the small model's exports (and the MoveNet peer when present)."""

from __future__ import annotations

from pathlib import Path

from inprocess import run_tool

REPO = Path(__file__).resolve().parents[1]


def test_benchmark_fast_writes_its_section_only(tiny_exports, tiny_onnx, shared_dir, tmp_path):
    exports, onnx = tiny_exports, tiny_onnx  # the suite's small trained model's exports (conftest.py)
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\nintro kept\n\n"
        "<!-- input-benchmark:start -->\nother section\n<!-- input-benchmark:end -->\n"
        "\n<!-- export-benchmark:start -->\nold table\n<!-- export-benchmark:end -->\n\ntrailer kept\n"
    )
    peers = sorted((shared_dir / "peers").glob("*.tflite"))
    args = ["--fast", "--doc", doc, "--json", tmp_path / "b.json"]
    args += ["--models", exports["none"], exports["int8"], onnx, "--peers", *peers]
    r = run_tool("benchmark.py", *args, cwd=REPO)  # in this process (tests/inprocess.py)
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
    r = run_tool("benchmark.py", "--models", tmp_path / "none", "--peers", "--no_write", cwd=REPO)
    assert r.returncode == 2 and "error:" in r.stderr and "Traceback" not in r.stderr
