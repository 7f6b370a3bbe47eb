"""Which compute dtype a run trains in, and why (``--mixed_precision``).

``auto`` (the default) picks bfloat16 only where the CPU computes it natively (AMX or
AVX512_BF16: 4.9 vs 3.5 samples/s float32 on a Zen 4 EPYC, 6.5 vs 4.5 on a Sapphire Rapids Xeon);
elsewhere oneDNN emulates bfloat16 and it is slower than float32. Every combination is decided
here, before anything is built or traced: a refused one is a one-line :class:`TrainingError`.
Checkpoints keep the mixed policy (a resumed run trains in it); the inference and exported models
are always rebuilt in float32 (``repose_tf.loading.load_repose``, ``float32_policy``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from repose_tf.cpu import CpuInfo
from repose_tf.training.errors import TrainingError

#: ``--mixed_precision`` values; ``none`` is the pre-``auto`` spelling of ``float32``.
PRECISIONS = ("auto", "float32", "bfloat16", "float16", "none")


@dataclass(frozen=True)
class Precision:
    """The resolved choice: a Keras dtype policy name and the reason, printed at start."""

    policy: str  # "float32", "mixed_bfloat16" or "mixed_float16"
    reason: str

    @property
    def mixed(self) -> bool:
        return self.policy != "float32"


def resolve_precision(
    requested: str,
    *,
    cpu: CpuInfo,
    jit_compile: bool = False,
    has_gpu: bool = False,
    backend: str = "tensorflow",
) -> Precision:
    """Decide the policy for ``--mixed_precision requested`` on this machine.

    ``--jit_compile`` with a mixed policy dies deep inside XLA ("Seen floating point types of
    different precisions" in the gradient of the heatmap-gain rescaling), so ``auto`` falls back
    to float32 with jit and an explicit bfloat16/float16 with jit is refused.
    """
    if requested not in PRECISIONS:
        raise TrainingError(f"--mixed_precision must be one of {', '.join(PRECISIONS)}, got {requested!r}")
    if requested in ("float32", "none"):
        return Precision("float32", f"--mixed_precision {requested}")
    if requested == "auto":
        if has_gpu:
            return Precision(
                "float32", "auto: a GPU is visible; pass --mixed_precision float16/bfloat16 for it"
            )
        if backend != "tensorflow":  # XLA on CPU gains nothing from bfloat16 (1.49 vs 1.54 samples/s)
            return Precision("float32", f"auto: the {backend} backend on a CPU is no faster in bfloat16")
        if not cpu.native_bf16:
            return Precision(
                "float32",
                f"auto: no native bfloat16 (AMX or AVX512_BF16) on {cpu.describe()}; emulated is slower",
            )
        if jit_compile:
            return Precision(
                "float32", "auto: native bfloat16, but --jit_compile cannot train mixed precision"
            )
        return Precision("mixed_bfloat16", f"auto: native bfloat16 on {cpu.describe()}")
    if jit_compile:
        raise TrainingError(
            f"--mixed_precision {requested} with --jit_compile crashes in XLA; drop one of them "
            "(--mixed_precision auto picks float32 under --jit_compile)"
        )
    if requested == "float16":
        if not has_gpu:
            raise TrainingError(
                "--mixed_precision float16 needs a GPU: CPUs have no fast float16 convolutions "
                "(use bfloat16 on a CPU with AMX/AVX512_BF16, or auto)"
            )
        return Precision("mixed_float16", "--mixed_precision float16 (loss scaling by Keras)")
    if not cpu.native_bf16 and not has_gpu:
        return Precision(
            "mixed_bfloat16",
            f"--mixed_precision bfloat16; note: {cpu.describe()} has no native bfloat16, emulated is slower",
        )
    return Precision("mixed_bfloat16", "--mixed_precision bfloat16")


def has_gpu() -> bool:
    """Whether the Keras backend sees a GPU (False where the backend cannot tell)."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return bool(tf.config.list_physical_devices("GPU"))
        if backend == "jax":
            import jax

            return any(d.platform == "gpu" for d in jax.devices())
    except Exception:  # noqa: BLE001 - a broken driver means no usable GPU
        return False
    return False


@contextlib.contextmanager
def float32_policy() -> Iterator[None]:
    """Build models in float32 inside the block (inference/export copies of a mixed-precision run)."""
    import keras

    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


__all__ = ["PRECISIONS", "Precision", "float32_policy", "has_gpu", "resolve_precision"]
