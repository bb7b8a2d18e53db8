"""Seeds: one call makes a run repeatable.

Every run seeds Python's `random`, NumPy and torch's global generator (weight
initialisation draws from it), and draws its data from a separate
`torch.Generator`, so that changing how much data a run draws never changes
its initial weights, and the reverse.
"""

from __future__ import annotations

import random

import numpy as np
import torch


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
