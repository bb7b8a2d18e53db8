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

SEED_LIMIT = 2**32  # NumPy takes seeds in [0, 2**32); torch's generators take more
BASE_LIMIT = 2**31  # leaves room for base() + k below SEED_LIMIT


def base() -> int:
    """`$SNIPPETS_SEED_BASE`, a non-negative int below `BASE_LIMIT` in ASCII digits (default 0)."""
    text = os.environ.get("SNIPPETS_SEED_BASE", "0")
    digits = text.strip()
    # str.isdigit() is also true of '²' and other digits int() refuses: ask for ASCII 0-9 only.
    if not (digits.isascii() and digits.isdigit()) or int(digits) >= BASE_LIMIT:
        raise ValueError(
            f"SNIPPETS_SEED_BASE must be a non-negative int below 2**31 = {BASE_LIMIT}, written with the digits "
            f"0-9 (seeds are the base plus a small count, and NumPy takes seeds below 2**32), got {text!r}"
        )
    return int(digits)


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
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"seed must be an int in [0, 2**32) (NumPy's range), got {seed!r}")
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
