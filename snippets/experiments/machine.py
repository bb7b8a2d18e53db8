"""What a result was computed on: the settings that change a trained network's bits.

CPUs with different vector units round differently (a sum of products in another order), and after
a few hundred updates two networks trained from the same seed differ. So every cached result is
keyed by the machine's numerics as well as by its code and seed (`snippets.experiments.cache`),
and the build report prints them. They are:

- torch's version, and the versions of the two libraries its CPU kernels come from: oneDNN
  (the fused RNN kernels, some products) and MKL (most matrix products);
- the vector instructions each may use: ATen's `cpu_capability` (`ATEN_CPU_CAPABILITY` can lower
  it), oneDNN's limit `ONEDNN_MAX_CPU_ISA`, MKL's `MKL_ENABLE_INSTRUCTIONS` and `MKL_CBWR`;
- the processor's model and the vector extensions it has (oneDNN and MKL pick their kernels from
  these, whatever ATen says);
- the threads a run uses: every training run takes one (`snippets.experiments.pool`).

`simulated(name)` gives the environment that makes this machine compute as a smaller one does.
"""

from __future__ import annotations

import functools
import os
import platform
import re

import torch

THREADS_PER_RUN = 1  # `pool.in_process` and the workers run every job on one thread

# Environment variables that lower the instruction set torch, oneDNN and MKL use.
VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR")

# Other CPUs, simulated on this one (tests/test_machine.py checks that each changes the bits).
# "plain": no vector units in ATen, oneDNN's oldest kernels, MKL's conditional-reproducibility
# path (on a CPU that is not Intel's, MKL ignores MKL_ENABLE_INSTRUCTIONS; COMPATIBLE still applies).
SIMULATED = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "plain": {
        "ATEN_CPU_CAPABILITY": "default",
        "ONEDNN_MAX_CPU_ISA": "SSE41",
        "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
        "MKL_CBWR": "COMPATIBLE",
    },
}


def simulated(name: str) -> dict[str, str]:
    """The environment variables that make this machine compute like the CPU `name` ("avx2", "plain")."""
    if name not in SIMULATED:
        raise ValueError(f"expected a simulated CPU, one of {sorted(SIMULATED)}, got {name!r}")
    return dict(SIMULATED[name])


def shell_assignments(name: str) -> str:
    """`simulated(name)` as `NAME=value` words, for `env $(...) mkdocs build --strict` (.ci/run does)."""
    return " ".join(f"{variable}={value}" for variable, value in simulated(name).items())


@functools.cache
def _library_versions() -> dict[str, str]:
    config = torch.__config__.show()
    mkl = re.search(r"Math Kernel Library Version ([\w.]+)", config)
    onednn = re.search(r"MKL-DNN v([\w.]+)", config)
    return {"onednn": onednn.group(1) if onednn else "none", "mkl": mkl.group(1) if mkl else "none"}


@functools.cache
def processor() -> tuple[str, tuple[str, ...]]:
    """The processor's model name and its vector extensions (AVX, AVX2, FMA, AVX-512, AMX flags)."""
    model, flags = platform.processor() or platform.machine(), ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            text = info.read()
        model = re.search(r"^model name\s*:\s*(.*)$", text, re.M).group(1).strip()
        flags = re.search(r"^flags\s*:\s*(.*)$", text, re.M).group(1)
    except (OSError, AttributeError):  # not Linux: the model alone
        pass
    vector = tuple(sorted({f for f in flags.split() if re.match(r"(avx|fma|amx|sse4)", f)}))
    return model, vector


def signature() -> dict:
    """Every setting above, as plain data (part of each cache key; printed by the build report)."""
    model, vector = processor()
    return {
        "torch": torch.__version__,
        **_library_versions(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "processor": model,
        "vector_extensions": list(vector),
        "limits": {name: os.environ.get(name, "") for name in VARIABLES if os.environ.get(name)},
        "threads_per_run": THREADS_PER_RUN,
    }
