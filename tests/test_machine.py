"""The machine's numerics are part of every cache key, and simulating another CPU changes the bits.

CPUs with different vector units train different networks from the same seed, so a result computed
under other settings must never be served; and the simulated CPUs the claims are tested on
(`snippets.experiments.machine.SIMULATED`) must really compute differently here, or testing on them
proves nothing.
"""

import os
import subprocess
import sys

import pytest
import torch

from snippets.experiments import cache, machine

# An LSTM's forward pass (oneDNN's fused kernel) and a product (MKL), as bytes' hashes, in a fresh
# process: the variables are read when the libraries load.
PROBE = """
import hashlib, torch
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
torch.manual_seed(0)
lstm = torch.nn.LSTM(64, 96)
out, _ = lstm(torch.randn(50, 7, 64, generator=g))
a, b = torch.randn(333, 517, generator=g), torch.randn(517, 129, generator=g)
h = lambda t: hashlib.sha1(t.detach().numpy().tobytes()).hexdigest()[:12]
print(torch.backends.cpu.get_cpu_capability(), h(out), h(a @ b))
"""


def probe(variables: dict[str, str]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in machine.VARIABLES}
    result = subprocess.run([sys.executable, "-c", PROBE], env={**env, **variables}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_signature_names_the_settings_that_change_the_bits():
    found = machine.signature()
    assert found["torch"] == torch.__version__ and found["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert found["onednn"] != "none" and found["mkl"] != "none", found
    assert found["processor"] and found["threads_per_run"] == 1


@pytest.mark.parametrize("name", sorted(machine.SIMULATED))
def test_a_simulated_cpu_is_another_cache_key(name, monkeypatch):
    fn = cache.experiment("probe")(lambda config=None: config)
    native = cache.entry_key("probe", {"a": 1}, fn)
    for variable, value in machine.simulated(name).items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setattr(cache, "_fingerprints", {})  # a process reads its settings once; this is a new one
    assert cache.entry_key("probe", {"a": 1}, fn) != native


def test_the_plain_kernels_compute_differently_here():
    native, plain = probe({}), probe(machine.simulated("plain"))
    assert plain[0] == "DEFAULT"
    if native[0] != "DEFAULT":  # a machine with vector units: the LSTM and the product round otherwise
        assert plain[1] != native[1] and plain[2] != native[2], (native, plain)


def test_the_avx2_kernels_compute_differently_on_an_avx512_machine():
    native = probe({})
    if native[0] != "AVX512":
        pytest.skip(f"this CPU's own kernels are {native[0]}: simulating AVX2 on it changes nothing")
    avx2 = probe(machine.simulated("avx2"))
    assert avx2[0] == "AVX2" and avx2[1] != native[1], (native, avx2)


def test_an_unknown_simulated_cpu_is_refused():
    with pytest.raises(ValueError, match=r"expected a simulated CPU, one of \['avx2', 'plain'\], got 'avx3'"):
        machine.simulated("avx3")
