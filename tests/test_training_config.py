"""TrainConfig, the resume check, --mixed_precision auto on real /proc/cpuinfo texts, and the CLI's
refusals (all before anything is built or traced)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repose_tf.cpu import parse_cpuinfo
from repose_tf.training import ConfigChangeError, TrainConfig, TrainConfigError, TrainingError, check_resume
from repose_tf.training.precision import resolve_precision

FIXTURES = Path(__file__).parent / "fixtures"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


@pytest.fixture(scope="module")
def intel_amx(shared_dir):
    path = shared_dir / "data" / "cpuinfo" / "intel_xeon_amx_2core.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return parse_cpuinfo(path.read_text())


@pytest.fixture(scope="module")
def amd_zen4():
    return parse_cpuinfo((FIXTURES / "cpuinfo_amd_epyc_zen4_2core.txt").read_text())


@pytest.fixture(scope="module")
def amd_avx2():
    return parse_cpuinfo((FIXTURES / "cpuinfo_amd_epyc_avx2_2core.txt").read_text())


# --------------------------------------------------------------------------------------------- cpu
def test_cpuinfo_fixtures_parse(intel_amx, amd_zen4, amd_avx2):
    assert intel_amx.cores == amd_zen4.cores == amd_avx2.cores == 2
    assert "Xeon" in intel_amx.model and {"amx_bf16", "avx512_bf16"} <= intel_amx.flags
    assert amd_zen4.model.startswith("AMD EPYC") and "avx512_bf16" in amd_zen4.flags
    assert "amx_bf16" not in amd_zen4.flags
    assert amd_avx2.relevant_flags == ["avx2"]
    assert intel_amx.native_bf16 and amd_zen4.native_bf16 and not amd_avx2.native_bf16
    assert "amx_bf16" in intel_amx.describe() and "(2 cores; avx2)" in amd_avx2.describe()


def test_auto_precision_on_each_machine_kind(intel_amx, amd_zen4, amd_avx2):
    for cpu in (intel_amx, amd_zen4):
        p = resolve_precision("auto", cpu=cpu)
        assert p.policy == "mixed_bfloat16" and "native bfloat16" in p.reason
    p = resolve_precision("auto", cpu=amd_avx2)
    assert p.policy == "float32" and "no native bfloat16" in p.reason
    # auto + jit: float32 with the reason; a GPU: float32 unless asked
    p = resolve_precision("auto", cpu=intel_amx, jit_compile=True)
    assert p.policy == "float32" and "jit_compile" in p.reason
    assert resolve_precision("auto", cpu=intel_amx, has_gpu=True).policy == "float32"
    assert resolve_precision("auto", cpu=intel_amx, backend="jax").policy == "float32"


def test_explicit_precisions_and_refused_combinations(intel_amx, amd_avx2):
    assert resolve_precision("none", cpu=intel_amx).policy == "float32"
    assert resolve_precision("float32", cpu=intel_amx, jit_compile=True).policy == "float32"
    assert resolve_precision("bfloat16", cpu=intel_amx).policy == "mixed_bfloat16"
    emulated = resolve_precision("bfloat16", cpu=amd_avx2)
    assert emulated.policy == "mixed_bfloat16" and "emulated" in emulated.reason
    assert resolve_precision("float16", cpu=amd_avx2, has_gpu=True).policy == "mixed_float16"
    for requested in ("bfloat16", "float16"):
        with pytest.raises(TrainingError, match="--jit_compile") as e:
            resolve_precision(requested, cpu=intel_amx, jit_compile=True, has_gpu=True)
        assert "\n" not in str(e.value)
    with pytest.raises(TrainingError, match="needs a GPU"):
        resolve_precision("float16", cpu=intel_amx)
    with pytest.raises(TrainingError, match="must be one of"):
        resolve_precision("int4", cpu=intel_amx)


# ------------------------------------------------------------------------------------- TrainConfig
def test_train_config_defaults_follow_the_dataset():
    quick = TrainConfig()
    assert (quick.preset, quick.steps, quick.batch_size, quick.lr_schedule) == (
        "repose_tiny",
        500,
        16,
        "cosine",
    )
    real = TrainConfig(dataset=["lspet"], data_dir=["/data/lspet"], steps=95, checkpoint_every=10)
    assert (real.preset, real.batch_size, real.learning_rate, real.lr_schedule) == (
        "repose_lsp14",
        16,
        1e-3,
        "constant",
    )  # the recipe study's winner (docs/results.md, "Time to accuracy")
    assert (real.mixed_precision, real.resolution_schedule) == ("auto", "none")
    assert real.dataset == ("lspet",) and real.total_steps == 100
    assert TrainConfig(mixed_precision="none").mixed_precision == "float32"
    assert TrainConfig.from_dict(json.loads(json.dumps(real.to_dict()))) == real
    with pytest.raises(dataclasses_frozen_error()):
        real.steps = 1


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"preset": "repose_nope"}, "unknown preset"),
        ({"dataset": ["nope"]}, "unknown dataset"),
        ({"dataset": ["lspet:x"]}, "bad weight"),
        ({"lr_schedule": "linear"}, "lr_schedule must be one of"),
        ({"mixed_precision": "int8"}, "mixed_precision must be one of"),
        ({"strategy": "tpu"}, "strategy must be one of"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"learning_rate": -1.0}, "learning_rate must be > 0"),
        ({"bogus": 1}, "unknown TrainConfig keys"),
    ],
)
def test_train_config_refuses_bad_values(kwargs, message):
    with pytest.raises(TrainingError, match=message):
        TrainConfig.from_dict(kwargs)


def test_resume_check(tmp_path):
    run = TrainConfig(model_dir=str(tmp_path), learning_rate=1e-3, steps=100)
    run.write()
    assert TrainConfig.read(tmp_path) == run
    assert check_resume(run, run) == []
    # a run directory from before TrainConfig: accepted with a note
    assert "no train_config.json" in check_resume(TrainConfig.read(tmp_path / "old"), run)[0]
    with pytest.raises(ConfigChangeError, match=r"learning_rate 0\.001 -> 0\.01") as e:
        check_resume(run, run.replace(learning_rate=1e-2))
    assert "\n" not in str(e.value) and "--allow_config_change" in str(e.value)
    notes = check_resume(run, run.replace(learning_rate=1e-2, batch_size=8), allow_change=True)
    assert len(notes) == 1 and "learning_rate" in notes[0] and "batch_size" in notes[0]
    notes = check_resume(run, run.replace(steps=200, val_limit=50))  # how long / how much to validate
    assert notes == ["note: resuming with changed steps 100 -> 200, val_limit 200 -> 50"]
    (tmp_path / "train_config.json").write_text("{")
    with pytest.raises(TrainConfigError, match="unreadable"):
        TrainConfig.read(tmp_path)


# ----------------------------------------------------------------------------------------- the CLI
def test_importing_the_library_registers_no_absl_flag():
    code = (
        "from absl import app, flags, logging; before = set(flags.FLAGS)  # absl's own flags\n"
        "import repose_tf.export.package, repose_tf.train, repose_tf.training.engine, repose_tf.summary\n"
        "print(sorted(set(flags.FLAGS) - before))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=ENV)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().splitlines()[-1] == "[]"


def _train(*args):
    return subprocess.run(
        [sys.executable, "-m", "repose_tf.train", "--progress=false", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mixed_precision=bfloat16", "--jit_compile"], "--jit_compile crashes in XLA"),
        (["--mixed_precision=float16"], "needs a GPU"),
        (["--batch_size=0"], "batch_size must be >= 1"),
    ],
)
def test_cli_refuses_bad_combinations_before_anything_runs(tmp_path, args, message):
    """The CLI's flags in this process (tests/inprocess.py); the next test runs a real process."""
    from inprocess import train_cli

    out = tmp_path / "run"
    res = train_cli(*args, f"--model_dir={out}", check=False)
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    assert message in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()  # refused before the run directory is even created


def test_cli_resume_with_a_changed_learning_rate_is_refused_in_one_line(tmp_path):
    """A real process: its exit status and stderr (the training CLI's other refusals are checked in
    this process: test_cli_refuses_bad_combinations_before_anything_runs,
    test_train.test_bad_flags_give_clear_errors)."""
    run = TrainConfig(model_dir=str(tmp_path), learning_rate=3e-3, steps=4, checkpoint_every=2, batch_size=4)
    run.write()
    (tmp_path / "checkpoint.keras").write_bytes(b"")  # the check comes before the checkpoint is read
    res = _train("--resume", f"--model_dir={tmp_path}", "--learning_rate=0.01")
    assert res.returncode == 2
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: --resume: learning_rate 0.003 -> 0.01 differs from {tmp_path.name}/train_config.json; "
        "resume with the run's values, or pass --allow_config_change"
    ]
    assert "Traceback" not in res.stderr


def test_architecture_diff_ignores_the_fields_that_keep_weight_shapes():
    """warm_start and the trunk's load_into refuse another architecture through one rule."""
    from repose_tf.config import architecture_diff, get_preset

    tiny = get_preset("repose_tiny")
    assert architecture_diff(tiny, tiny.replace(sigma=3.0, bn_momentum=0.5, extra={"note": 1})) == {}
    diff = architecture_diff(tiny, tiny.replace(width=tiny.width * 2))
    assert diff == {"width": (tiny.width * 2, tiny.width)}  # (theirs, ours)
    assert architecture_diff(tiny, get_preset("repose_small"))
