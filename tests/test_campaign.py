"""A training campaign over several stretches (repose_tf.campaign): histories chained across a
shipped release and the run continued from it, cumulative samples and CPU core-hours, the
release manifest carrying every stretch, and ``learning_curve.py --chain`` drawing it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inprocess import run_tool

REPO = Path(__file__).resolve().parents[1]


def _entry(step, batch=16, **kw):
    return {"step": step, "samples_seen": step * batch, "loss": 0.03 - step * 1e-5, "val_metric": "PCK@0.2",
            "val_mean": step / 10, **kw}  # fmt: skip


@pytest.fixture
def campaign(tmp_path):
    """An older release (history without wall_s / cpu_s, as the first shipped manifest has) and a run
    started from it with --init_weights (its step counter restarts at 0; cpu_s measured)."""
    release = tmp_path / "models" / "manifest.json"
    release.parent.mkdir()
    old = [_entry(s, samples_per_s=1.6) for s in (50, 100)]  # 800 samples per chunk at 1.6/s: 500 s
    release.write_text(json.dumps({"name": "m", "training": {"checkpoint": "runs/v1/checkpoint.keras",
                                                             "history": old}}))  # fmt: skip
    run = tmp_path / "run"
    run.mkdir()
    new = [_entry(s, samples_per_s=4.0, wall_s=200.0, cpu_s=390.0, machine="AMD EPYC (2 cores; avx2)")
           for s in (50, 100, 150)]  # fmt: skip
    (run / "state.json").write_text(json.dumps({"step": 150, "history": new}))
    (run / "checkpoint.keras").write_bytes(b"not read by the provenance")
    return release, run


def test_chain_accumulates_samples_and_cpu_hours_across_stretches(campaign):
    from repose_tf.campaign import campaign_stretches, chain, totals

    release, run = campaign
    stretches = campaign_stretches(run, release)
    assert [s.label for s in stretches] == ["models release", "run"]
    assert stretches[1].machine == "AMD EPYC (2 cores; avx2)"
    pts = chain(stretches)
    assert [p["total_samples"] for p in pts] == [800, 1600, 2400, 3200, 4000]  # 1,600 + the run's 2,400
    # old chunks: no cpu_s, so 500 s wall x 2 cores, flagged; new chunks: the measured 390 s
    assert [p["cpu_estimated"] for p in pts] == [True, True, False, False, False]
    assert pts[1]["total_cpu_h"] == pytest.approx(2000 / 3600)
    assert totals(pts) == pytest.approx({"total_samples": 4000, "total_wall_h": 1600 / 3600,
                                         "total_cpu_h": (2000 + 3 * 390) / 3600})  # fmt: skip


def test_release_manifest_keeps_every_stretch_so_the_next_release_continues_the_curve(campaign, tmp_path):
    from repose_tf.campaign import chain, load_stretches
    from repose_tf.export.package import training_provenance

    release, run = campaign
    prov = training_provenance(run / "checkpoint.keras", release)
    assert prov["samples_seen"] == 4000 and prov["run_samples_seen"] == 2400 and prov["step"] == 150
    assert [s["label"] for s in prov["stretches"]] == ["models release", "run"]
    # the next release reads the stretches back from this manifest: same chained curve
    nxt = tmp_path / "next_manifest.json"
    nxt.write_text(json.dumps({"training": prov}))
    again = chain(load_stretches(nxt))
    assert [p["total_samples"] for p in again] == [800, 1600, 2400, 3200, 4000]
    assert again[-1]["total_cpu_h"] == pytest.approx((2000 + 3 * 390) / 3600)
    assert training_provenance(run / "checkpoint.keras")["samples_seen"] == 2400  # no previous: the run alone


def test_a_shipped_run_resumed_and_shipped_again_is_counted_once(campaign, tmp_path):
    """Release N ships run R at step 150; R is resumed to step 250 and shipped with
    --continues release N: R's first three checkpoints must not be counted twice."""
    from repose_tf.campaign import campaign_stretches, chain, totals
    from repose_tf.export.package import training_provenance

    release, run = campaign
    shipped = tmp_path / "release_n.json"
    shipped.write_text(json.dumps({"training": training_provenance(run / "checkpoint.keras", release)}))
    state = json.loads((run / "state.json").read_text())
    state["history"] += [_entry(s, samples_per_s=4.0, wall_s=200.0, cpu_s=390.0) for s in (200, 250)]
    (run / "state.json").write_text(json.dumps(state))
    stretches = campaign_stretches(run, shipped)
    assert [s.label for s in stretches] == ["models release", "run"]
    assert totals(chain(stretches))["total_samples"] == 1600 + 250 * 16
    # a new run from the release restarts at step 0 with the same step numbers but other losses:
    # a different stretch, kept
    other = tmp_path / "other"
    other.mkdir()
    (other / "state.json").write_text(json.dumps({"history": [_entry(50, loss=0.5)]}))
    assert [s.label for s in campaign_stretches(other, shipped)] == ["models release", "run", "other"]
    res = _tool("learning_curve.py", "--chain", "--run", shipped, "--run", run)
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"Total: {1600 + 4000:,} samples" in res.stdout


def _tool(script, *args):
    """``python tools/<script> ARGS`` in this process (tests/inprocess.py)."""
    return run_tool(script, *args, cwd=REPO)


def test_learning_curve_chain_plots_samples_and_cpu_hours(campaign, tmp_path):
    release, run = campaign
    png, doc = tmp_path / "c.png", tmp_path / "results.md"
    res = _tool("learning_curve.py", "--chain", "--run", release, "--run", run, "--target", 56.67,
                "--target_label", "MoveNet Lightning int8", "--output", png, "--doc", doc)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    row = "| run | AMD EPYC (2 cores; avx2) | 150 | 4,000 | 0.88 | 4.00 | - | 0.02850 | 15.00 | - |"
    assert row in res.stdout  # no lr or weight average recorded for this run: "-"
    assert "| models release | not recorded | 100 | 1,600 | 0.56* |" in res.stdout
    assert "Total: 4,000 samples, 0.88 CPU core-hours" in res.stdout and "estimated" in res.stdout
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 20_000
    assert "--chain" in doc.read_text() and "c.png" in doc.read_text()


def test_learning_curve_and_ship_model_name_a_bad_campaign_file(campaign, tmp_path):
    release, run = campaign
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = _tool("learning_curve.py", "--chain", "--run", bad, "--run", run)
    assert res.returncode == 2 and "bad.json: not valid JSON" in res.stderr and "Traceback" not in res.stderr
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"training": {"history": [{"step": 5}]}}))
    res = _tool("learning_curve.py", "--chain", "--run", broken)
    assert res.returncode == 2 and "history entry 0 lacks samples_seen, loss" in res.stderr
    res = _tool("ship_model.py", "--checkpoint", run / "checkpoint.keras",
                "--continues", tmp_path / "nope.json", "--output_dir", tmp_path / "out")  # fmt: skip
    assert res.returncode == 2 and "nope.json: previous release manifest not found" in res.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_release_manifest_names_paths_that_mean_something_on_another_machine(campaign, tmp_path, monkeypatch):
    """A committed manifest names the run and the calibration data relative to the working tree
    (``../shared/...``) or the home directory (``~/...``), not as this machine's absolute paths."""
    from repose_tf.export.package import portable_path, training_provenance

    release, run = campaign
    work = tmp_path / "work"
    (work / "main").mkdir(parents=True)
    (work / "shared" / "data").mkdir(parents=True)
    monkeypatch.chdir(work / "main")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert portable_path(work / "shared" / "data") == "../shared/data"
    assert portable_path(work / "main" / "models") == "models"
    assert portable_path(tmp_path / ".cache" / "runs") == "~/.cache/runs"
    assert portable_path("/definitely/elsewhere") == "/definitely/elsewhere"
    prov = training_provenance(run / "checkpoint.keras", release)
    assert prov["checkpoint"] == "~/run/checkpoint.keras"
    assert [s["source"] for s in prov["stretches"]] == ["runs/v1/checkpoint.keras", "~/run"]


def test_the_trunk_ledger_chains_after_the_releases_with_its_rate_and_averages(campaign, tmp_path):
    """models/trunk/trunk.json (tools/trunk.py save) is one more --run of the chained curve: its
    stretches follow the release's, each checkpoint carries the trunk's rate and its best average."""
    from repose_tf.campaign import chain, load_stretches

    release, _ = campaign
    ledger = tmp_path / "trunk.json"
    hist = [_entry(s, cpu_s=300.0, ema_val={"0.99": s / 10 + 0.5, "0.998": s / 10 + 1.0}) for s in (100, 200)]
    stretches = [{"label": "trunk 1", "machine": "m", "history": hist},
                 {"label": "trunk 2", "machine": "m", "history": hist[:1]}]  # fmt: skip
    ledger.write_text(
        json.dumps({"lr_schedule": "warmup_constant", "learning_rate": 3e-4, "stretches": stretches})
    )
    stretches = load_stretches(release) + load_stretches(ledger)
    assert [s.label for s in stretches] == ["models release", "trunk 1", "trunk 2"]
    pts = chain(stretches)
    assert [p["total_samples"] for p in pts] == [800, 1600, 3200, 4800, 6400]
    assert [p.get("lr") for p in pts[2:]] == [3e-4] * 3
    png, doc = tmp_path / "curve.png", tmp_path / "doc.md"
    doc.write_text("# r\n")
    res = _tool(
        "learning_curve.py", "--chain", "--run", release, "--run", ledger, "--output", png, "--doc", doc
    )
    assert res.returncode == 0, res.stderr
    assert png.stat().st_size > 10_000
    row = next(line for line in res.stdout.splitlines() if line.startswith("| trunk 1 | m | 200 |"))
    assert "| 0.0003 |" in row and "| 21.00 (0.998) |" in row
    ledger.write_text(json.dumps({"lr_schedule": "warmup_constant", "learning_rate": 3e-4, "stretches": []}))
    with pytest.raises(ValueError, match="no stretch yet"):
        load_stretches(ledger)
