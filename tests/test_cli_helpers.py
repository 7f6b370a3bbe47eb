"""repose_tf.cli (the CLIs' shared helpers), repose_tf.paths (default places) and repose_tf.cpu's
machine description: what the thin tools in tools/ build on."""

from __future__ import annotations

import pytest

from repose_tf import cli, cpu, paths


def test_markdown_table_aligns_and_stringifies():
    lines = cli.markdown_table(
        ["model", "runtime", "PCK", "ms"], [["a", "keras", 1.5, 3], ["b", "tflite", 2, 4]], "llr"
    )
    assert lines == [
        "| model | runtime | PCK | ms |",
        "| --- | --- | ---: | ---: |",
        "| a | keras | 1.5 | 3 |",
        "| b | tflite | 2 | 4 |",
    ]
    assert cli.markdown_table(["x"], [])[1] == "| --- |"
    with pytest.raises(ValueError):
        cli.markdown_table(["x"], [], align="c")


def test_refuse_and_fail_print_one_error_line(capsys):
    assert cli.refuse("no such file: m.keras") == 2
    with pytest.raises(SystemExit) as e:
        cli.fail("bad --steps", code=3)
    assert e.value.code == 3
    assert capsys.readouterr().err == "error: no such file: m.keras\nerror: bad --steps\n"


def test_export_cli_keeps_the_names_it_had():
    from repose_tf.export import cli as export_cli

    assert export_cli.HelpFormatter is cli.HelpFormatter
    assert export_cli.write_marked_section is cli.write_marked_section
    assert export_cli.invocation("x.py", ["--a", "b c"]) == "python tools/x.py --a 'b c'"


def test_absl_help_wants():
    assert cli._wants_help(["--model", "m", "--help"]) and cli._wants_help(["-h"])
    assert cli._wants_help(["--helpfull"]) and not cli._wants_help(["--", "--help"])
    assert not cli._wants_help(["--model", "help"])


def test_default_places(monkeypatch, tmp_path):
    from repose_tf import config

    monkeypatch.setenv(config.MODELS_DIR_ENV, str(tmp_path))
    assert paths.default_model() == tmp_path / "repose_lsp14.keras"
    monkeypatch.setenv(paths.SHARED_ENV, str(tmp_path / "shared"))
    assert paths.shared_dir() == tmp_path / "shared"
    (tmp_path / "shared" / "data" / "lspet").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "lspet" / "joints.mat").write_bytes(b"")
    assert paths.find_lspet_dir() == paths.lspet_dir() == tmp_path / "shared" / "data" / "lspet"


def test_machine_description_helpers():
    info = cpu.parse_cpuinfo("processor\t: 0\nmodel name\t: X\nflags\t\t: fma avx2 sse\nprocessor\t: 1\n")
    assert info.has(cpu.INFERENCE_FLAGS) == ["avx2", "fma"] and not info.has(cpu.INT8_DOT_FLAGS)
    assert cpu.usable_cores() >= 1
    busy = cpu.busy_cpu_seconds()
    assert busy is None or busy > 0
