"""``python -m repose_tf.train``: train RePose with the paper's loss and schedule; resumable.

With no arguments it trains a small RePose on the embedded synthetic dataset (no download)
for a few minutes and evaluates it on held-out synthetic figures. Real data::

    python -m repose_tf.train --preset repose_lsp14 --dataset lspet \\
        --data_dir ../shared/data/lspet --model_dir runs/lspet --steps 20000 --mixed_precision bfloat16

``--resume`` continues a killed run at the same step, optimizer state and data order.
Checkpoints are written atomically (temp file + rename); a NaN/Inf loss stops the run and
keeps the last good checkpoint. Runs under ``KERAS_BACKEND=jax`` too (PyDataset input, no
TensorFlow needed), e.g. on a GPU machine; its weights load into the TensorFlow build.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string(
    "preset",
    None,
    "Model preset (see `python -m repose_tf.summary`). Default: repose_lsp14 "
    "with real data, repose_tiny for the synthetic quick start.",
)
flags.DEFINE_list(
    "dataset",
    None,
    "Training dataset(s), optionally weighted: lspet or lspet:3,mpii:1. "
    "Default: the embedded synthetic dataset.",
)
flags.DEFINE_list(
    "data_dir", None, "One directory per dataset, or one root holding <dataset>/ subdirectories."
)
flags.DEFINE_string(
    "val_dataset", None, "Validation dataset (default: the first training dataset's val split)."
)
flags.DEFINE_string("val_split", "val", "Validation split.")
flags.DEFINE_integer("val_limit", 200, "Images used by periodic validation (the final evaluation uses all).")
flags.DEFINE_string("model_dir", "runs/repose", "Where checkpoints, logs and the final model go.")
flags.DEFINE_integer("steps", None, "Training steps (default: 500 quick start, 20000 with real data).")
flags.DEFINE_integer("batch_size", None, "Global batch size (default: 16 quick start, 64 otherwise).")
flags.DEFINE_float(
    "learning_rate",
    None,
    "Initial Adam learning rate (default: 1e-3, the paper's, with real data; 3e-3 for the quick start).",
)
flags.DEFINE_integer(
    "checkpoint_every", None, "Steps between checkpoints and validations (default ~steps/10)."
)
flags.DEFINE_bool("resume", False, "Continue from model_dir/checkpoint.keras if it exists.")
flags.DEFINE_string(
    "init_weights",
    None,
    "Start from these weights (.keras, or .weights.h5 with its .config.json beside it), e.g. a shipped "
    "model to fine-tune on your data: layers are matched by name, a fresh optimizer is used.",
)
flags.DEFINE_enum(
    "mixed_precision",
    "none",
    ["none", "bfloat16", "float16"],
    "Mixed precision compute dtype (bfloat16 uses AMX on recent Xeons).",
)
flags.DEFINE_bool("jit_compile", False, "Compile the train step with XLA.")
flags.DEFINE_enum(
    "lr_schedule",
    None,
    ["paper", "cosine", "constant"],
    "paper: x0.5 at 50%, 1e-6 at 65% of the run (default with real data); cosine: decay to 1% "
    "(default for the quick start); constant.",
)
flags.DEFINE_enum(
    "strategy",
    "default",
    ["default", "mirrored", "multi_worker"],
    "tf.distribute strategy (TensorFlow backend): multi_worker reads TF_CONFIG.",
)
flags.DEFINE_integer("cpu_devices", None, "Split the CPU into N logical devices (to test mirrored on a CPU).")
flags.DEFINE_integer("seed", 0, "Seed for initialisation, data order and augmentation.")
flags.DEFINE_integer("workers", 2, "Data loading threads for the PyDataset path (JAX backend).")
flags.DEFINE_bool("progress", True, "Show a progress bar.")
flags.DEFINE_integer(
    "max_samples", None, "Train on the first N samples only (smoke tests, overfitting checks)."
)
flags.DEFINE_float(
    "sigma",
    None,
    "Target Gaussian sigma in input pixels (default: the preset's, 5 at 128; "
    "the paper's table 7 also trains 10).",
)
flags.DEFINE_bool("augment", True, "The paper's augmentation (scale, rotation, flip, colour).")
flags.DEFINE_integer(
    "eval_limit", None, "Images in the final held-out evaluation (default: the whole split)."
)

QUICKSTART = {
    "preset": "repose_tiny",
    "steps": 500,
    "batch_size": 16,
    "lr_schedule": "cosine",
    "learning_rate": 3e-3,
}
REAL = {"preset": "repose_lsp14", "steps": 20000, "batch_size": 64, "learning_rate": 1e-3}


class TrainingError(RuntimeError):
    """A readable, expected failure (bad flags, NaN loss); printed without a traceback."""


# ----------------------------------------------------------------------------- helpers
def atomic_save(model, path: Path) -> None:
    """Save ``model`` to ``path`` via a temp file in the same dir + rename (never a torn file)."""
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{''.join(path.suffixes)}")
    try:
        if path.suffix == ".keras":
            model.save(tmp)
        else:
            model.save_weights(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def lr_schedule(total_steps: int, lr: float, kind: str = "paper"):
    """Learning-rate schedule over ``total_steps``.

    ``paper``: 1e-3, x0.5 at 1M and 1e-6 at 1.3M of 2M steps, scaled to the run length (the last
    35% barely moves the weights: right for the paper's 2M steps, wasteful for short runs);
    ``cosine``: cosine decay to 1% of ``lr``; ``constant``.
    """
    import keras

    if kind == "constant":
        return lr
    if kind == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, max(1, total_steps), alpha=0.01)
    if kind != "paper":
        raise TrainingError(f"unknown lr schedule {kind!r} (paper, cosine, constant)")
    b1, b2 = max(1, int(0.5 * total_steps)), max(2, int(0.65 * total_steps))
    return keras.optimizers.schedules.PiecewiseConstantDecay([b1, b2], [lr, lr * 0.5, 1e-6])


def parse_datasets(names: list[str] | None, dirs: list[str] | None) -> list[tuple[str, str | None, float]]:
    """``lspet:3,mpii:1`` + data dirs -> [(name, dir, weight)]."""
    from repose_tf.data import DATASETS, DEFAULT_SUBDIRS

    if not names:
        return [("synthetic", None, 1.0)]
    specs = []
    for i, item in enumerate(names):
        name, _, w = item.partition(":")
        name = name.strip().lower()
        if name not in DATASETS:
            raise TrainingError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
        try:
            weight = float(w) if w else 1.0
        except ValueError:
            raise TrainingError(f"bad weight in --dataset {item!r} (expected name:number)") from None
        if name == "synthetic":
            d = None
        elif not dirs:
            raise TrainingError(f"--dataset {name} needs --data_dir")
        elif len(dirs) == len(names):
            d = dirs[i]
        elif len(dirs) == 1 and (Path(dirs[0]) / DEFAULT_SUBDIRS[name]).is_dir() and len(names) > 1:
            d = str(Path(dirs[0]) / DEFAULT_SUBDIRS[name])
        elif len(dirs) == 1:
            d = dirs[0]
        else:
            raise TrainingError("give one --data_dir per dataset, or one root holding <dataset>/ dirs")
        if d is not None and not Path(d).exists():
            raise TrainingError(f"data_dir {d} does not exist (dataset {name})")
        specs.append((name, d, weight))
    return specs


def make_strategy(name: str):
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise TrainingError(
                "--strategy multi_worker needs TF_CONFIG (cluster and task) in the environment"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief() -> bool:
    cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = cfg.get("task", {})
    return task.get("type", "worker") == "chief" or (
        task.get("type", "worker") == "worker" and task.get("index", 0) == 0
    )


# ----------------------------------------------------------------------------- training
_DYNAMICS = ("sigma", "bn_momentum", "extra")  # config fields that do not change the weights' shapes


def warm_start(model, path: str | Path) -> tuple[int, list[str]]:
    """Copy weights from the model file ``path`` into ``model`` by layer name.

    The source may be the inference form (no auxiliary heads): layers it lacks keep their fresh
    initialisation and are returned by name. A different architecture is a :class:`TrainingError`.
    """
    from repose_tf.runtime import ModelLoadError, load_repose

    try:
        src = load_repose(path)
    except (ModelLoadError, FileNotFoundError) as e:
        raise TrainingError(f"--init_weights: {e}") from None
    mine = {k: v for k, v in model.repose_config.to_dict().items() if k not in _DYNAMICS}
    theirs = {k: v for k, v in src.repose_config.to_dict().items() if k not in _DYNAMICS}
    if mine != theirs:
        diff = {k: (theirs.get(k), v) for k, v in mine.items() if theirs.get(k) != v}
        raise TrainingError(f"--init_weights {path}: a different architecture (theirs, ours): {diff}")
    source = {layer.name: layer for layer in src.layers}
    copied, fresh = 0, []
    for layer in model.layers:
        if not layer.weights:
            continue
        if layer.name in source:
            layer.set_weights(source[layer.name].get_weights())
            copied += 1
        else:
            fresh.append(layer.name)
    return copied, fresh


def build_or_resume(cfg, ckpt: Path, resume: bool, total_steps: int, lr: float, jit: bool, schedule="paper"):
    """A compiled model: restored from ``ckpt`` (with optimizer state) or freshly built."""
    import keras

    from repose_tf.losses import PartialMSE
    from repose_tf.model import RePose

    if resume and ckpt.exists():
        try:
            model = keras.saving.load_model(ckpt)
        except Exception as e:  # a truncated file cannot happen (atomic writes), but say what failed
            raise TrainingError(f"could not load checkpoint {ckpt}: {e}") from e
        return model, int(model.optimizer.iterations.numpy())
    model = RePose(cfg)
    names = list(model.output)
    model.compile(
        optimizer=keras.optimizers.Adam(lr_schedule(total_steps, lr, schedule)),
        loss={n: PartialMSE() for n in names},
        jit_compile=jit,
    )
    return model, 0


def to_training_batch(batch: dict, output_names: list[str]):
    """dict batch -> (image, {output: heatmaps}, {output: keypoint weights}) for Model.fit."""
    from repose_tf.losses import keypoint_weights

    w = keypoint_weights(batch["mask"])
    return (
        batch["image"],
        {n: batch["heatmaps"] for n in output_names},
        {n: w for n in output_names},
    )


def make_train_data(train_ds, transform, batch_size, seed, start_step, output_names, strategy=None):
    """Infinite stream of training batches starting exactly at ``start_step`` (resume-safe order)."""
    import keras

    from repose_tf.data import num_batches

    per_epoch = num_batches(len(train_ds), batch_size, True)
    if per_epoch == 0:
        raise TrainingError(f"batch_size {batch_size} is larger than the dataset ({len(train_ds)} samples)")
    start_epoch, offset = divmod(start_step, per_epoch)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        from repose_tf.data import make_tf_dataset

        ds = make_tf_dataset(
            train_ds,
            transform,
            batch_size,
            seed=seed,
            start_epoch=start_epoch,
            start_batch=offset,
            deterministic=True,
            on_error="skip",
        )
        ds = ds.map(lambda b: to_training_batch(b, output_names))
        opts = tf.data.Options()
        opts.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return ds.with_options(opts)
    return iter(_PyStream(train_ds, transform, batch_size, seed, start_epoch, offset, output_names))


class _PyStream:
    """Infinite generator over PosePyDataset batches (JAX / torch backends: no TensorFlow)."""

    def __init__(self, train_ds, transform, batch_size, seed, start_epoch, offset, output_names):
        from repose_tf.data import PosePyDataset

        self.ds = PosePyDataset(
            train_ds,
            transform,
            batch_size,
            seed=seed,
            start_epoch=start_epoch,
            on_error="skip",
            workers=FLAGS.workers if FLAGS.is_parsed() else 1,
        )
        self.offset, self.names = offset, output_names

    def __iter__(self):
        import numpy as np

        b = self.offset
        while True:
            if b >= len(self.ds):
                self.ds.on_epoch_end()
                b = 0
            batch = self.ds[b]
            w = batch["mask"] * batch["mask"].shape[-1] / np.maximum(batch["mask"].sum(-1, keepdims=True), 1)
            yield batch["image"], {n: batch["heatmaps"] for n in self.names}, {n: w for n in self.names}
            b += 1


def run_training(
    preset: str | None = None,
    datasets: list[str] | None = None,
    data_dir: list[str] | None = None,
    model_dir: str = "runs/repose",
    steps: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    mixed_precision: str = "none",
    jit_compile: bool = False,
    strategy_name: str = "default",
    seed: int = 0,
    val_dataset: str | None = None,
    val_split: str = "val",
    val_limit: int = 200,
    verbose: int = 1,
    preset_overrides: dict | None = None,
    max_samples: int | None = None,
    augment: bool = True,
    eval_limit: int | None = None,
    lr_schedule_name: str | None = None,
    init_weights: str | None = None,
) -> dict:
    """Train (or resume) and return a summary dict; see the module docstring and ``--help``."""
    import cv2
    import keras

    from repose_tf.config import get_preset
    from repose_tf.data import SampleTransform, get_mixture

    cv2.setNumThreads(1)  # the input pipeline parallelises across samples; OpenCV threads only contend

    specs = parse_datasets(datasets, data_dir)
    defaults = QUICKSTART if specs == [("synthetic", None, 1.0)] else REAL
    preset = preset or defaults["preset"]
    steps = int(steps or defaults["steps"])
    batch_size = int(batch_size or defaults["batch_size"])
    lr_schedule_name = lr_schedule_name or defaults.get("lr_schedule", "paper")
    learning_rate = float(learning_rate or defaults["learning_rate"])
    chunk = int(checkpoint_every or max(1, min(1000, steps // 10)))
    total = math.ceil(steps / chunk) * chunk
    if total != steps:
        print(f"note: --steps {steps} rounded up to {total}, a multiple of checkpoint_every={chunk}")
    out = Path(model_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoint.keras"
    state_path = out / "state.json"
    for stale in out.glob(".*.tmp*"):  # left by a process killed while writing; never a real checkpoint
        stale.unlink()
    state = json.loads(state_path.read_text()) if resume and state_path.exists() else {"history": []}
    if resume and not ckpt.exists():
        print(f"--resume: no checkpoint in {out}, starting from scratch")

    keras.utils.set_random_seed(seed)
    if mixed_precision != "none":
        keras.mixed_precision.set_global_policy(f"mixed_{mixed_precision}")
    try:
        cfg = get_preset(preset, **(preset_overrides or {}))
    except ValueError as e:
        raise TrainingError(str(e)) from None
    train_ds = get_mixture(
        [(n, d, "train", w) for n, d, w in specs], keypoint_set=cfg.keypoint_set, seed=seed
    )
    if max_samples:
        train_ds = _Head(train_ds, max_samples)
    transform = SampleTransform(cfg.input_size, cfg.keypoint_set, train=augment, sigma=cfg.sigma)
    val_name = val_dataset or specs[0][0]
    val_dir = next((d for n, d, _ in specs if n == val_name), data_dir[0] if data_dir else None)
    val = _maybe_val(val_name, val_dir, val_split)

    strategy = make_strategy(strategy_name) if keras.backend.backend() == "tensorflow" else None
    scope = strategy.scope() if strategy is not None else _nullcontext()
    with scope:
        model, step = build_or_resume(cfg, ckpt, resume, total, learning_rate, jit_compile, lr_schedule_name)
    if init_weights and step == 0:
        copied, fresh = warm_start(model, init_weights)
        print(
            f"initialised {copied} layers from {init_weights}"
            + (f"; {len(fresh)} not in it keep their fresh initialisation" if fresh else "")
        )
    if step >= total:
        print(f"checkpoint {ckpt} is already at step {step} >= {total}; nothing to train")
    names = list(model.output)
    data = make_train_data(train_ds, transform, batch_size, seed, step, names, strategy)
    chief = is_chief()
    print(
        f"training {preset} ({model.count_params() / 1e6:.2f}M params) on "
        f"{' + '.join(f'{n}({w:g})' for n, _, w in specs)}: {len(train_ds)} samples, batch {batch_size}, "
        f"steps {step}->{total}, Adam lr {learning_rate:g} ({lr_schedule_name}), "
        f"backend {keras.backend.backend()}, policy {keras.mixed_precision.global_policy().name}"
        f"{', strategy ' + strategy_name if strategy_name != 'default' else ''}\n  outputs -> {out.resolve()}"
    )
    callbacks = [
        _Guard(),
        _Checkpointer(
            ckpt,
            state_path,
            state,
            batch_size,
            val,
            val_limit,
            chief,
            total,
            {"datasets": [{"name": n, "data_dir": d, "weight": w} for n, d, w in specs]},
        ),
    ]
    if keras.backend.backend() == "tensorflow" and chief:
        callbacks.append(
            keras.callbacks.TensorBoard(log_dir=str(out / "logs"), update_freq=max(1, chunk // 10))
        )
    callbacks.append(keras.callbacks.CSVLogger(str(out / "log.csv"), append=True))
    t0 = time.time()
    if step < total:
        model.fit(
            data,
            epochs=total // chunk,
            initial_epoch=step // chunk,
            steps_per_epoch=chunk,
            callbacks=callbacks,
            verbose=verbose,
        )
    guard = callbacks[0]
    if guard.bad_step is not None:
        raise TrainingError(
            f"loss became {guard.bad_value} at step {guard.bad_step}; stopped. The last good checkpoint is "
            f"{ckpt} (step {state.get('step', 0)}). Lower --learning_rate or check the data, then --resume."
        )
    final = _finish(model, out, state, cfg, val, chief, preset, specs, time.time() - t0, eval_limit)
    if hasattr(train_ds, "report"):
        summary = train_ds.report.summary()
        if summary:
            print(summary)
    return final


def _head_cls():
    from repose_tf.data import PoseDataset

    class Head(PoseDataset):
        """The first ``n`` samples of a dataset (same images, same order)."""

        def __init__(self, base, n: int):
            self.name, self.split = base.name, getattr(base, "split", "train")
            super().__init__(base.keypoint_set, base.report)
            self.base, self.n = base, min(int(n), len(base))

        def __len__(self) -> int:
            return self.n

        def sample(self, i: int):
            return self.base.sample(i)

        def load_image(self, i: int, reduce: int = 1):
            return self.base.load_image(i, reduce)

        def locate(self, i: int, epoch: int = 0):
            return self.base.locate(i, epoch)

    return Head


def _Head(base, n):
    return _head_cls()(base, n)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _maybe_val(name: str, data_dir, split: str):
    from repose_tf.data import DataError, get_dataset
    from repose_tf.evaluate import DATASET_KEYPOINTS

    try:
        ds = get_dataset(name, data_dir, split, DATASET_KEYPOINTS.get(name, "lsp14"))
    except (ValueError, DataError, FileNotFoundError) as e:
        print(f"no validation set ({name}/{split}: {e}); periodic validation disabled")
        return None
    return (name, ds) if len(ds) else None


def _guard_cls():
    import keras

    class Guard(keras.callbacks.Callback):
        """Stop at the first non-finite loss (before any checkpoint with NaN weights is written)."""

        bad_step = None
        bad_value = None

        def on_train_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.bad_step = int(self.model.optimizer.iterations.numpy())
                self.bad_value = float(loss)
                self.model.stop_training = True

    return Guard


def _Guard():
    return _guard_cls()()


def _Checkpointer(*args):
    import keras

    from repose_tf.cpu import cpu_info

    class Checkpointer(keras.callbacks.Callback):
        """Every chunk: validate, checkpoint atomically, record throughput and history."""

        def __init__(self, ckpt, state_path, state, batch_size, val, val_limit, chief, total, extra):
            super().__init__()
            self.ckpt, self.state_path, self.state = ckpt, state_path, state
            self.batch_size, self.val, self.val_limit, self.chief, self.total = (
                batch_size,
                val,
                val_limit,
                chief,
                total,
            )
            self.extra = extra
            self.machine = cpu_info().describe()
            self.t = None
            self.step0 = None
            self.predictor = None  # built at the first validation, refreshed with new weights after

        def on_epoch_begin(self, epoch, logs=None):
            self.t, self.cpu0 = time.time(), time.process_time()
            self.step0 = int(self.model.optimizer.iterations.numpy())

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            loss = logs.get("loss")
            if loss is None or not math.isfinite(float(loss)) or self.model.stop_training:
                return  # keep the last good checkpoint
            step = int(self.model.optimizer.iterations.numpy())
            dt = time.time() - self.t
            entry = {
                "step": step,
                "samples_seen": step * self.batch_size,
                "loss": float(loss),
                "samples_per_s": (step - self.step0) * self.batch_size / max(dt, 1e-9),
                "wall_s": dt,
                "cpu_s": time.process_time() - self.cpu0,  # all threads of this process
                "machine": self.machine,
                "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            if self.val is not None:
                from repose_tf.evaluate import predict_dataset, score
                from repose_tf.runtime import Predictor

                name, ds = self.val
                if self.predictor is None:
                    self.predictor = Predictor.from_model(self.model, batch_size=32)
                else:
                    self.predictor.refresh()
                ps = predict_dataset(self.predictor, ds, limit=self.val_limit, progress=False)
                res = score(ps, name)
                entry["val_metric"] = res.metric
                entry["val_mean"] = res.mean
                logs["val_pck"] = res.mean
                print(
                    f"\n  step {step}: loss {loss:.5f}, {res.metric} on {len(ps.ids)} {name} val images: "
                    f"{res.mean:.2f}, {entry['samples_per_s']:.1f} samples/s"
                )
            if self.chief:
                atomic_save(self.model, self.ckpt)
                self.state.setdefault("history", []).append(entry)
                self.state.update(step=step, total_steps=self.total, **self.extra)
                atomic_write_text(self.state_path, json.dumps(self.state, indent=2))

    return Checkpointer(*args)


def _finish(
    model, out: Path, state: dict, cfg, val, chief: bool, preset, specs, seconds: float, limit=None
) -> dict:
    """Save the final model (.keras + .weights.h5 + config) and evaluate it on the full val split."""
    result = {
        "model_dir": str(out),
        "step": int(model.optimizer.iterations.numpy()),
        "train_seconds": seconds,
    }
    inf = model.inference_model()
    if chief:
        atomic_save(inf, out / "model.keras")
        atomic_save(inf, out / "model.weights.h5")
        meta = {
            "config": cfg.to_dict(),
            "preset_name": preset,
            "step": result["step"],
            "datasets": [{"name": n, "data_dir": d, "weight": w} for n, d, w in specs],
        }
        atomic_write_text(out / "model.config.json", json.dumps(meta, indent=2))
    if val is not None:
        from repose_tf import metrics
        from repose_tf.evaluate import predict_dataset, score
        from repose_tf.runtime import Predictor

        name, ds = val
        ps = predict_dataset(Predictor.from_model(inf, batch_size=32), ds, limit=limit, progress=False)
        res = score(ps, name)
        result["val"] = res.to_dict()
        print(f"\nheld-out evaluation on {len(ps.ids)} {name} images ({res.metric}):")
        print(metrics.format_markdown_table({preset: res}, digits=2))
        if chief:
            state["final_val"] = res.to_dict()
            atomic_write_text(out / "state.json", json.dumps(state, indent=2))
    print(
        f"done: {out / 'model.keras'} (inference model), {out / 'model.weights.h5'} + model.config.json, "
        f"checkpoint {out / 'checkpoint.keras'}, log {out / 'log.csv'}"
        + (f", TensorBoard logs {out / 'logs'}" if (out / "logs").exists() else "")
    )
    return result


def _configure_devices() -> None:
    if FLAGS.cpu_devices:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * FLAGS.cpu_devices
        )


def main(argv) -> None:
    del argv
    try:
        _configure_devices()
        run_training(
            preset=FLAGS.preset,
            datasets=FLAGS.dataset,
            data_dir=FLAGS.data_dir,
            model_dir=FLAGS.model_dir,
            steps=FLAGS.steps,
            batch_size=FLAGS.batch_size,
            learning_rate=FLAGS.learning_rate,
            checkpoint_every=FLAGS.checkpoint_every,
            resume=FLAGS.resume,
            mixed_precision=FLAGS.mixed_precision,
            jit_compile=FLAGS.jit_compile,
            strategy_name=FLAGS.strategy,
            seed=FLAGS.seed,
            val_dataset=FLAGS.val_dataset,
            val_split=FLAGS.val_split,
            val_limit=FLAGS.val_limit,
            verbose=1 if FLAGS.progress else 2,
            max_samples=FLAGS.max_samples,
            augment=FLAGS.augment,
            eval_limit=FLAGS.eval_limit,
            lr_schedule_name=FLAGS.lr_schedule,
            init_weights=FLAGS.init_weights,
            preset_overrides={"sigma": FLAGS.sigma} if FLAGS.sigma else None,
        )
    except TrainingError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(3 if "loss became" in str(e) else 2)


if __name__ == "__main__":
    app.run(main)
