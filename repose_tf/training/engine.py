"""The training engine: one :class:`TrainConfig` in, a trained run directory out.

Order matters and is kept here in one place: check the config (and, on ``--resume``, against the
run's ``train_config.json``), decide the precision, then read data, build or restore the model,
fit in chunks of ``checkpoint_every`` steps, and save and evaluate the float32 inference model.
"""

from __future__ import annotations

import time
from pathlib import Path

from repose_tf.io import atomic_save, atomic_write_bytes, atomic_write_text, remove_stale_temps
from repose_tf.training.config import TrainConfig, check_resume
from repose_tf.training.errors import NonFiniteLoss, TrainingError


def train(
    config: TrainConfig, *, resume: bool = False, allow_config_change: bool = False, verbose: int = 1
) -> dict:
    """Train (or, with ``resume``, continue) the run ``config`` describes; returns a summary dict."""
    import cv2
    import keras

    from repose_tf.config import get_preset
    from repose_tf.cpu import cpu_info
    from repose_tf.data import SampleTransform
    from repose_tf.data.transforms import AugmentConfig
    from repose_tf.training import data as train_data
    from repose_tf.training.checkpoint import Checkpointer, RunFiles, Validation
    from repose_tf.training.distributed import fit_distributed, peer_loss_as_error
    from repose_tf.training.guard import NonFiniteGuard
    from repose_tf.training.initialise import build_training_state, compile_model, restore, warm_start
    from repose_tf.training.precision import has_gpu, resolve_precision
    from repose_tf.training.resolution import config_at_size, model_at_size
    from repose_tf.training.strategy import configure_cpu_devices, is_chief, make_strategy, strategy_scope

    cv2.setNumThreads(1)  # the input pipeline parallelises across samples; OpenCV threads only contend
    c = config
    specs = train_data.parse_datasets(c.dataset, c.data_dir)
    if keras.backend.backend() == "tensorflow":
        configure_cpu_devices(c.cpu_devices)  # before any TensorFlow op runs
    precision = resolve_precision(
        c.mixed_precision,
        cpu=cpu_info(),
        jit_compile=c.jit_compile,
        has_gpu=has_gpu(),
        backend=keras.backend.backend(),
    )  # refused combinations end here, before anything is written, built or traced
    out = Path(c.model_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = RunFiles(out)
    remove_stale_temps(out)  # left by a process killed while writing; never a real checkpoint
    resuming = resume and files.checkpoint.exists()
    if resume and not resuming:
        print(f"--resume: no checkpoint in {out}, starting from scratch")
    if resuming:
        for note in check_resume(TrainConfig.read(out), c, allow_change=allow_config_change):
            print(note)
    print(f"precision: {precision.policy} ({precision.reason})")
    if c.total_steps != c.steps:
        print(
            f"note: --steps {c.steps} rounded up to {c.total_steps}, "
            f"a multiple of checkpoint_every={c.checkpoint_every}"
        )
    try:
        cfg = get_preset(c.preset, **c.preset_overrides)
    except ValueError as e:
        raise TrainingError(str(e)) from None

    keras.utils.set_random_seed(c.seed)
    keras.mixed_precision.set_global_policy(precision.policy)
    train_ds = train_data.training_set(specs, cfg.keypoint_set, c.seed, c.max_samples)
    val_name = c.val_dataset or specs[0].name
    val_dir = next((s.data_dir for s in specs if s.name == val_name), c.data_dir[0] if c.data_dir else None)
    val = train_data.validation_set(val_name, val_dir, c.val_split)

    plan = c.phases()  # progressive resolution; one phase at the preset's size without a schedule
    strategy = make_strategy(c.strategy)
    schedule = {
        "total_steps": c.total_steps,
        "learning_rate": c.learning_rate,
        "lr_schedule": c.lr_schedule,
        "decay_steps": c.decay_steps,
    }
    compile_kwargs = {**schedule, "jit_compile": c.jit_compile}
    with strategy_scope(strategy):
        if resuming:
            model, step = restore(files.checkpoint, **schedule)
        else:
            from repose_tf.model import RePose

            model, step = RePose(cfg), 0  # random init: the run starts from scratch (or --init_weights)
            compile_model(model, **compile_kwargs)
    chief = is_chief()
    if chief:
        c.write(out, precision={"policy": precision.policy, "reason": precision.reason})
    if c.init_weights and step == 0:
        copied, fresh = warm_start(model, c.init_weights)
        unit = "variables" if str(c.init_weights).endswith(".npz") else "layers"
        print(
            f"initialised {copied} {unit} from {c.init_weights}"
            + (f"; {len(fresh)} not in it keep their fresh initialisation" if fresh else "")
        )
    total = c.total_steps
    if step >= total:
        print(f"checkpoint {files.checkpoint} is already at step {step} >= {total}; nothing to train")
    print(
        f"training {c.preset} ({model.count_params() / 1e6:.2f}M params) on "
        f"{' + '.join(f'{s.name}({s.weight:g})' for s in specs)}: {len(train_ds)} samples, "
        f"batch {c.batch_size}, "
        f"steps {step}->{total}, Adam lr {c.learning_rate:g} ({c.lr_schedule}), "
        f"backend {keras.backend.backend()}, policy {keras.mixed_precision.global_policy().name}"
        f"{', strategy ' + c.strategy if c.strategy != 'default' else ''}"
        + (
            "\n  resolution: " + ", ".join(f"{p.size} px steps {p.start}-{p.end}" for p in plan)
            if len(plan) > 1
            else ""
        )
        + f"\n  outputs -> {out.resolve()}"
    )
    state = files.read_state() if resume else {"history": []}
    guard = NonFiniteGuard()
    averages = None
    if c.ema_decays:
        from repose_tf.training.ema import EMA_FILE, WeightAverages, parse_decays

        averages = WeightAverages(parse_decays(c.ema_decays), out / EMA_FILE)
    checkpointer = Checkpointer(
        files=files,
        state=state,
        batch_size=c.batch_size,
        total_steps=total,
        validation=Validation(val[0], val[1], c.val_limit) if val else None,
        chief=chief,
        extra={"datasets": [s.to_dict() for s in specs]},
        final_config=cfg,
        budget_s=None if c.time_budget_minutes is None else 60.0 * c.time_budget_minutes,
        averages=averages,
    )
    callbacks = [guard, checkpointer] if averages is None else [guard, averages, checkpointer]
    chunk = c.checkpoint_every
    if keras.backend.backend() == "tensorflow" and chief:
        callbacks.append(
            keras.callbacks.TensorBoard(log_dir=str(out / "logs"), update_freq=max(1, chunk // 10))
        )
    if chief:
        callbacks.append(keras.callbacks.CSVLogger(str(out / "log.csv"), append=True))
    t0 = time.time()
    for phase in plan:
        if step >= phase.end:
            continue
        if checkpointer.budget_reached or guard.bad_step is not None:
            break
        size_cfg = config_at_size(cfg, phase.size)
        with strategy_scope(strategy):
            model = model_at_size(model, size_cfg, compile_kwargs)  # weights + optimizer state carried
        if len(plan) > 1:
            print(f"resolution phase: {phase.size} px, steps {step}->{phase.end}")
        augment = AugmentConfig(rotation=c.rotation, rotation_prob=c.rotation_prob)
        transform = SampleTransform(
            phase.size, cfg.keypoint_set, train=c.augment, augment=augment, sigma=size_cfg.sigma
        )
        stream = train_data.make_train_data(
            train_ds,
            transform,
            batch_size=c.batch_size,
            seed=c.seed,
            start_step=step,
            output_names=list(model.output),
            workers=c.workers,
        )
        fit = dict(
            epochs=phase.end // chunk,
            initial_epoch=step // chunk,
            steps_per_epoch=chunk,
            callbacks=callbacks,
            verbose=verbose,
        )
        if keras.backend.backend() == "tensorflow":
            with strategy_scope(strategy):
                build_training_state(model, stream.element_spec)  # one trace of the step, not two
        with peer_loss_as_error(c.strategy, files.checkpoint, state):
            if c.strategy == "multi_worker":  # Model.fit fails there under Keras 3.15 (keras#20585)
                fit_distributed(model, stream, strategy, **fit)
            else:
                model.fit(stream, **fit)
        step = int(model.optimizer.iterations.numpy())
    if guard.bad_step is not None:
        raise NonFiniteLoss(
            f"loss became {guard.bad_value} at step {guard.bad_step}; stopped. The last good checkpoint is "
            f"{files.checkpoint} (step {state.get('step', 0)}). "
            "Lower --learning_rate or check the data, then --resume."
        )
    final = finish(
        model, files, state, c, val=val, chief=chief, specs=specs, seconds=time.time() - t0,
        validation=checkpointer,
    )  # fmt: skip
    if hasattr(train_ds, "report"):
        summary = train_ds.report.summary()
        if summary:
            print(summary)
    return final


def finish(
    model,
    files,
    state: dict,
    config: TrainConfig,
    *,
    val,
    chief: bool,
    specs,
    seconds: float,
    validation=None,
) -> dict:
    """Save the final float32 inference model (.keras + .weights.h5 + config) and evaluate it.

    ``validation``: the run's :class:`~repose_tf.training.checkpoint.Checkpointer`; when its periodic
    validation model is the saved model's graph, the final evaluation runs on it with the final
    weights (its predict function is traced already: the same numbers, one trace fewer).
    """
    import json

    from repose_tf.model import RePose, copy_weights_by_name
    from repose_tf.training.precision import float32_policy

    out = files.model_dir
    result = {
        "model_dir": str(out),
        "step": int(model.optimizer.iterations.numpy()),
        "train_seconds": seconds,
    }
    from repose_tf.config import get_preset
    from repose_tf.training.resolution import config_at_size

    final_cfg = config_at_size(model.repose_config, get_preset(config.preset).input_size)
    with float32_policy():  # mixed precision stays in training: the shipped model computes in float32
        inf = copy_weights_by_name(model, RePose(final_cfg, inference=True))  # at the preset's size
    if chief:
        atomic_save(inf, out / "model.keras")
        atomic_save(inf, out / "model.weights.h5")
        meta = {
            "config": model.repose_config.to_dict(),
            "preset_name": config.preset,
            "step": result["step"],
            "datasets": [s.to_dict() for s in specs],
        }
        atomic_write_text(out / "model.config.json", json.dumps(meta, indent=2))
    if val is not None:
        from repose_tf import metrics
        from repose_tf.evaluate import predict_dataset, score
        from repose_tf.runtime import Predictor

        name, ds = val
        predictor = getattr(validation, "predictor", None)
        if predictor is not None and validation.eval_model.repose_config == final_cfg:
            copy_weights_by_name(model, validation.eval_model)  # the weights just saved, in float32
        else:
            predictor = Predictor.from_model(inf, batch_size=32)
        ps = predict_dataset(predictor, ds, limit=config.eval_limit, progress=False)
        res = score(ps, name)
        result["val"] = res.to_dict()
        print(f"\nheld-out evaluation on {len(ps.ids)} {name} images ({res.metric}):")
        print(metrics.format_markdown_table({config.preset: res}, digits=2))
        if chief:
            state["final_val"] = res.to_dict()
            files.write_state(state)
            result["picture"] = str(write_prediction_sheet(ds, ps, out / "predictions.png"))
    print(
        f"done: {out / 'model.keras'} (inference model), {out / 'model.weights.h5'} + model.config.json, "
        f"checkpoint {files.checkpoint}, log {out / 'log.csv'}"
        + (f", TensorBoard logs {out / 'logs'}" if (out / "logs").exists() else "")
    )
    if "picture" in result:
        print(f"picture of its predictions on held-out images: {result['picture']}")
    return result


def write_prediction_sheet(dataset, predictions, path: Path) -> Path:
    """Write the held-out prediction sheet (:func:`repose_tf.predict.prediction_sheet`) as a PNG."""
    import cv2

    from repose_tf.predict import prediction_sheet

    ok, png = cv2.imencode(".png", prediction_sheet(dataset, predictions))
    if not ok:
        raise RuntimeError(f"{path}: could not encode the prediction sheet")
    atomic_write_bytes(path, png.tobytes())
    return path


__all__ = ["finish", "train"]
