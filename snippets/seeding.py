"""Seeds: one place they come from, one call that makes a run repeatable.

Every seeded experiment and figure takes its seeds from `seeds(n)` (or `seed(k)`): the integers
`base() + k`. `SNIPPETS_SEED_BASE` (default 0) shifts them all at once, so a build with another
base runs every experiment on seeds it has never seen: a claim on a page that still holds then is
a claim about the model, not about one lucky seed.

Every run seeds Python's `random`, NumPy and torch's global generator (weight
initialisation draws from it), and draws its data from a separate
`torch.Generator`, so that changing how much data a run draws never changes
its initial weights, and the reverse.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def base() -> int:
    """`$SNIPPETS_SEED_BASE`, a non-negative int (default 0)."""
    text = os.environ.get("SNIPPETS_SEED_BASE", "0")
    if not text.strip().isdigit():
        raise ValueError(f"SNIPPETS_SEED_BASE must be a non-negative int, got {text!r}")
    return int(text)


def seed(k: int = 0) -> int:
    """The `k`-th seed: `base() + k`."""
    return base() + k


def seeds(n: int) -> tuple[int, ...]:
    """The first `n` seeds: `base()`, `base() + 1`, ..."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of seeds must be a positive int, got {n!r}")
    return tuple(base() + k for k in range(n))


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy and torch's global generator with `seed`."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def data_generator(seed: int, stream: int = 0) -> torch.Generator:
    """A `torch.Generator` for data, independent of the weight-initialisation stream.

    `stream` separates the training data (0) from the validation data (1) of
    one seed: the two never share a sample by construction of the seeds.
    """
    # Large odd multiplier: seeds 0, 1, 2 and streams 0, 1 map to distinct, far-apart seeds.
    return torch.Generator().manual_seed(1_000_003 * seed + 7_919 * (stream + 1))
