"""What the CPU can do fast, read from ``/proc/cpuinfo``.

Training picks its precision from this (bfloat16 only where the CPU computes it natively: AMX or
AVX512_BF16; elsewhere oneDNN emulates it and it is slower than float32), and every throughput
figure the project records names the CPU it came from.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

# The flags that decide a fast path on this project's machines, in the order they are reported.
RELEVANT_FLAGS = (
    "avx2",
    "avx512f",
    "avx512_bf16",
    "avx512_vnni",
    "avx_vnni",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
)
#: The flags that decide the fast kernels of TFLite (XNNPACK) and ONNX Runtime inference.
INFERENCE_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")
#: Flags with int8 dot-product instructions (fast int8 inference).
INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


@dataclass(frozen=True)
class CpuInfo:
    """The CPU's model name, logical core count and feature flags."""

    model: str
    cores: int
    flags: frozenset[str]

    @property
    def native_bf16(self) -> bool:
        """True when bfloat16 matmuls/convs run in hardware (AMX or AVX512_BF16), not emulated."""
        return bool({"amx_bf16", "avx512_bf16"} & self.flags)

    @property
    def relevant_flags(self) -> list[str]:
        return [f for f in RELEVANT_FLAGS if f in self.flags]

    def has(self, names) -> list[str]:
        """Those of ``names`` this CPU has, in the order given."""
        return [f for f in names if f in self.flags]

    def describe(self) -> str:
        """One line for logs and benchmark tables, e.g. ``AMD EPYC (2 cores; avx2 avx512f ...)``."""
        flags = " ".join(self.relevant_flags) or "no AVX2"
        return f"{self.model} ({self.cores} cores; {flags})"


def parse_cpuinfo(text: str) -> CpuInfo:
    """Parse the text of ``/proc/cpuinfo`` (x86 layout: ``key<TAB>: value`` blocks, one per core)."""
    model, flags, cores = "", set(), 0
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "processor":
            cores += 1
        elif key == "model name" and not model:
            model = value
        elif key == "flags" and not flags:
            flags = set(value.split())
    return CpuInfo(
        model=model or platform.processor() or "unknown CPU", cores=max(cores, 1), flags=frozenset(flags)
    )


def cpu_info(path: str | Path = "/proc/cpuinfo") -> CpuInfo:
    """This machine's CPU (an empty flag set where ``/proc/cpuinfo`` is unreadable, e.g. macOS)."""
    try:
        return parse_cpuinfo(Path(path).read_text())
    except OSError:
        return CpuInfo(model=platform.processor() or "unknown CPU", cores=1, flags=frozenset())


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity: a container's share, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def busy_cpu_seconds() -> float | None:
    """CPU seconds every process has run so far (``/proc/stat``; None where there is none).

    Two readings around a timed stretch, minus the process's own CPU time, give the share of the
    cores other work took meanwhile: the benchmarks mark rows measured on a busy machine by it."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
