"""Package a trained checkpoint as a release directory (``models/``): the model and its exports.

What a user of the release needs, built from one training checkpoint:

* ``<name>.keras``: the weights with their architecture config, *training form* (all supervised
  stacks, so ``python -m repose_tf.train --init_weights`` continues training with every head
  initialised) but without optimizer state, its weights **stored in float16** where float16 holds
  them (:mod:`repose_tf.compact`; loaded as float32). The model is rounded to that storage before
  anything is exported or measured, so every file of a release is the same model;
  ``predict`` / ``evaluate`` / the export tools run its inference form;
* ``<name>_int8.tflite`` (calibrated on real crops, float I/O) with its JSON sidecar;
* ``manifest.json``: every file's size and SHA-256, the model's metadata and where it came from
  (checkpoint, training step, samples seen, validation history), so a model card and tests can
  check the files against it.

Those are **committed**; a release adds about 11 MB to git history (every replacement stays in
every clone). ``<name>_float16.tflite`` and its sidecar (the Android demo's and the browser page's
other model) are **derived**: one deterministic export of the committed ``.keras`` that anyone can
regenerate without data (:func:`regenerate_derived`, ``python tools/ship_model.py --regenerate``,
and the commands that need them do it on first use), so they are git-ignored and listed under
``derived`` in the manifest. The int8 file is committed because rebuilding it needs the calibration
images. The directory is also checked against a size budget (``max_mb``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from repose_tf.campaign import campaign_stretches, chain, totals
from repose_tf.compact import float16_share, round_weights, save_compact_keras
from repose_tf.export import ExportError
from repose_tf.io import portable_path, sha256  # their home is repose_tf.io; re-exported here
from repose_tf.loading import ModelLoadError, load_float32
from repose_tf.training.averaging import read_averaging_record

#: TFLite variants a release carries (the Android demo loads exactly these two).
RELEASE_VARIANTS = ("float16", "int8")
#: Variants regenerated from the committed ``.keras`` instead of committed (no data needed).
DERIVED_VARIANTS = ("float16",)
DEFAULT_MAX_MB = 30.0


def release_model(checkpoint):
    """An uncompiled training-form RePose with the checkpoint's weights (no optimizer state), in
    float32 (:func:`repose_tf.loading.load_float32`); a bad file is an :class:`ExportError`."""
    try:
        return load_float32(checkpoint)
    except ModelLoadError as e:
        raise ExportError(str(e)) from None


def training_provenance(checkpoint: Path, previous: Path | None = None) -> dict:
    """Step, samples seen and validation history from the run's ``state.json`` (if beside it),
    and ``averaged_from`` when the checkpoint is a mean of several (tools/average_checkpoints.py).

    With ``previous`` (the manifest of the release the run started from with ``--init_weights``),
    ``stretches`` lists every run behind the weights and ``samples_seen`` counts all of them.
    """
    averaging = read_averaging_record(checkpoint)  # made by tools/average_checkpoints.py
    extra = {"averaged_from": averaging["averaged_from"]} if averaging else {}
    state_path = checkpoint.parent / "state.json"
    if not state_path.is_file():
        return {"checkpoint": portable_path(checkpoint), **extra}
    state = json.loads(state_path.read_text())
    hist = state.get("history", [])
    last = hist[-1] if hist else {}
    out = {
        "checkpoint": portable_path(checkpoint),
        "step": state.get("step"),
        "samples_seen": last.get("samples_seen"),
        "train_wall_s": round(sum(h.get("wall_s", 0.0) for h in hist), 1),
        "history": [
            {k: h.get(k) for k in ("step", "samples_seen", "loss", "samples_per_s", "val_metric", "val_mean")}
            for h in hist
        ],
        **extra,
    }
    if hist:
        stretches = campaign_stretches(checkpoint.parent, previous)
        t = totals(chain(stretches))
        out.update(
            run_samples_seen=out["samples_seen"],
            samples_seen=t["total_samples"],
            total_wall_h=round(t["total_wall_h"], 3),
            total_cpu_h=round(t["total_cpu_h"], 3),
            stretches=[
                s.to_dict() | {"source": portable_path(s.source) if s.source else ""} for s in stretches
            ],
        )
    return out


def _portable_calibration(info: dict | None) -> dict | None:
    if not info or not isinstance(info.get("source"), str) or info["source"] == "array":
        return info
    return info | {"source": portable_path(info["source"])}


def package_model(
    checkpoint: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    name: str = "repose_lsp14",
    calibration: Any = None,
    num_calibration: int = 200,
    seed: int = 0,
    max_mb: float = DEFAULT_MAX_MB,
    previous_manifest: str | os.PathLike | None = None,
    log=print,
) -> dict:
    """Write the release files into ``output_dir``; returns the manifest (also written as JSON).

    ``previous_manifest``: the manifest of the release the run was started from (``--init_weights``);
    its stretches are kept in front of this run's so the curve and the totals cover the whole campaign.
    Raises :class:`ExportError` for an unreadable checkpoint or a release over ``max_mb``.
    """
    from repose_tf.export.tflite import default_calibration_dir, export_tflite_variants, model_metadata

    checkpoint, out = Path(checkpoint), Path(output_dir)
    if not checkpoint.is_file():
        raise ExportError(f"{checkpoint}: checkpoint not found")
    if previous_manifest is not None:
        if not Path(previous_manifest).is_file():
            raise ExportError(f"{previous_manifest}: previous release manifest not found")
        # Read before anything is replaced: it may be the manifest this release overwrites.
        training = training_provenance(checkpoint, Path(previous_manifest))
    else:
        training = training_provenance(checkpoint)
    if calibration is None:
        calibration = default_calibration_dir()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    model = release_model(checkpoint)
    n_half = round_weights(model)  # the release *is* the rounded model: export and measure that
    log(f"rounded {n_half}/{len(model.weights)} weight arrays to float16 storage (the rest stay float32)")
    # Build everything in a staging dir beside the release, move it in only when complete and
    # within budget: a failed or refused packaging never leaves a half-replaced models/.
    with tempfile.TemporaryDirectory(prefix=".staging_", dir=out) as tmp:
        stage = Path(tmp)
        keras_path = stage / f"{name}.keras"
        save_compact_keras(model, keras_path)
        log(
            f"saved {keras_path.name} ({keras_path.stat().st_size / 1e6:.1f} MB, no optimizer state, "
            f"{100 * float16_share(keras_path):.1f}% of weights in float16)"
        )
        results = export_tflite_variants(
            model,
            {m: stage / f"{name}_{m}.tflite" for m in RELEASE_VARIANTS},
            calibration=calibration,
            num_calibration=num_calibration,
            seed=seed,
            log=log,
        )
        for r in results.values():
            log(r.summary())
        files = [keras_path]
        made = {m: [p for p in (r.path, r.sidecar) if p is not None] for m, r in results.items()}
        files += [p for m, ps in made.items() if m not in DERIVED_VARIANTS for p in ps]
        derived = [p for m, ps in made.items() if m in DERIVED_VARIANTS for p in ps]
        meta = model_metadata(model.inference_model())
        manifest = {
            "name": name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "model": {k: v for k, v in meta.items() if k != "config"},
            "config": model.repose_config.to_dict(),
            "training": training,
            "calibration": _portable_calibration(results["int8"].calibration) if "int8" in results else None,
            "files": {p.name: {"bytes": p.stat().st_size, "sha256": sha256(p)} for p in files},
            "derived": {
                p.name: {"bytes": p.stat().st_size, "sha256": sha256(p), "from": keras_path.name}
                for p in derived
            },
            "package_seconds": round(time.perf_counter() - t0, 1),
        }
        total = sum(f["bytes"] for f in manifest["files"].values())
        manifest["committed_mb"] = round(total / 1e6, 2)
        total += sum(f["bytes"] for f in manifest["derived"].values())
        manifest["total_mb"] = round(total / 1e6, 2)
        if total / 1e6 > max_mb:
            raise ExportError(
                f"{out}: release would be {total / 1e6:.1f} MB, over the {max_mb:g} MB budget (every "
                "replacement stays in git history); nothing was written. Drop a variant or raise max_mb"
            )
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        for p in [*files, *derived, stage / "manifest.json"]:  # the manifest last: it vouches for the rest
            os.chmod(p, 0o644)
            os.replace(p, out / p.name)
    log(
        f"wrote {out}: {', '.join(manifest['files'])} + manifest.json "
        f"({manifest['committed_mb']} MB to commit); "
        f"derived, git-ignored: {', '.join(manifest['derived'])} ({manifest['total_mb']} MB in all)"
    )
    return manifest


def check_manifest(directory: str | os.PathLike) -> list[str]:
    """Problems with a release directory (missing/changed committed files against its manifest); [] if none.

    Derived files are not checked here: they may be absent (a fresh clone) and a re-export on
    another machine may differ in converter metadata; :func:`regenerate_derived` makes them.
    """
    d = Path(directory)
    mf = d / "manifest.json"
    if not mf.is_file():
        return [f"{mf}: no manifest"]
    manifest = json.loads(mf.read_text())
    problems = []
    for fname, info in manifest["files"].items():
        p = d / fname
        if not p.is_file():
            problems.append(f"{p}: listed in the manifest but missing")
        elif sha256(p) != info["sha256"]:
            problems.append(f"{p}: SHA-256 differs from the manifest (replaced without re-packaging?)")
    return problems


def missing_derived(directory: str | os.PathLike) -> list[str]:
    """Derived files of the release in ``directory`` that are not there (names); [] if none or no manifest."""
    d = Path(directory)
    mf = d / "manifest.json"
    if not mf.is_file():
        return []
    return [n for n in json.loads(mf.read_text()).get("derived", {}) if not (d / n).is_file()]


def regenerate_derived(directory: str | os.PathLike, *, force: bool = False, log=print) -> list[Path]:
    """Export the release's derived files (float16 TFLite + sidecar) from its committed ``.keras``.

    Only the missing ones unless ``force``; returns the files written. Raises :class:`ExportError`
    naming the directory when it holds no release to regenerate from.
    """
    from repose_tf.export.tflite import export_tflite_variants

    d = Path(directory)
    mf = d / "manifest.json"
    if not mf.is_file():
        raise ExportError(f"{d}: no manifest.json: no release to regenerate (tools/ship_model.py makes one)")
    manifest = json.loads(mf.read_text())
    derived = manifest.get("derived", {})
    todo = sorted(derived) if force else missing_derived(d)
    if not todo:
        return []
    name = manifest["name"]
    keras_path = d / f"{name}.keras"
    problems = [p for p in check_manifest(d) if keras_path.name in p]
    if problems:
        raise ExportError(problems[0])
    modes = [m for m in DERIVED_VARIANTS if f"{name}_{m}.tflite" in derived]
    log(f"{d}: making {', '.join(todo)} from {keras_path.name} (derived, not committed; once per checkout)")
    results = export_tflite_variants(keras_path, {m: d / f"{name}_{m}.tflite" for m in modes}, log=log)
    written = [p for r in results.values() for p in (r.path, r.sidecar) if p is not None]
    for p in written:
        same = derived.get(p.name, {}).get("sha256") == sha256(p)
        note = "" if same else " (converter metadata differs from the release build's)"
        log(f"  {p.name}: {p.stat().st_size / 1e6:.1f} MB{note}")
    return written


__all__ = [
    "DEFAULT_MAX_MB",
    "DERIVED_VARIANTS",
    "RELEASE_VARIANTS",
    "check_manifest",
    "missing_derived",
    "package_model",
    "regenerate_derived",
    "portable_path",
    "release_model",
    "sha256",
]
