"""The benchmark at one size, cached like any experiment (the reuse page)."""

from __future__ import annotations

from dataclasses import dataclass

from . import layer_timing
from .cache import experiment


@dataclass(frozen=True)
class SpeedConfig:
    """`layer_timing.measure` at batch 32, sequence 100, input 64; medians of interleaved rounds.

    The full benchmark (hidden 128 and 512, 21 rounds) is `python -m snippets.bench`; the site
    runs this smaller one so that a cold build stays within its time budget.
    """

    hidden: int = 128
    repeats: int = 9
    modes: tuple = ("LSTM", "GRU")


@experiment("speed")
def speed(config: SpeedConfig = SpeedConfig()) -> dict:
    """Median seconds per training step and per inference, for each candidate of `layer_timing`."""
    out = {
        "machine": layer_timing.machine_description(),
        "hidden": config.hidden,
        "repeats": config.repeats,
        "modes": {},
    }
    for mode in config.modes:
        medians, _ = layer_timing.measure(mode, config.hidden, config.repeats, compiled=False)
        out["modes"][mode] = {name: [train, infer] for name, (train, infer) in medians.items()}
    return out
