"""The benchmark at one size, cached like any experiment (the reuse page)."""

from __future__ import annotations

from dataclasses import dataclass

from ..bench import layers as bench
from .cache import experiment


@dataclass(frozen=True)
class SpeedConfig:
    """`snippets.bench.measure` at batch 32, sequence 100, input 64; medians of interleaved rounds.

    The full benchmark (hidden 128 and 512, 21 rounds) is `python -m snippets.bench`; the site
    runs this smaller one so that a cold build stays within its time budget.
    """

    hidden: int = 128
    repeats: int = 9
    modes: tuple = ("LSTM", "GRU")


@experiment("speed")
def speed(config: SpeedConfig = SpeedConfig()) -> dict:
    """Median seconds per training step and per inference, for each candidate of `snippets.bench`."""
    out = {"machine": bench.machine(), "hidden": config.hidden, "repeats": config.repeats, "modes": {}}
    for mode in config.modes:
        medians, _ = bench.measure(mode, config.hidden, config.repeats, compiled=False)
        out["modes"][mode] = {name: [train, infer] for name, (train, infer) in medians.items()}
    return out
