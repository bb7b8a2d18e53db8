r"""Comparing counts of seeds: "k of n runs reached the target" against another model's.

Five seeds decide little: 3 of 5 against 0 of 5 looks like a win, but if both models had the same
chance, a split at least that lopsided would come up about 8 % of the time. So a page that says one
model solves more often than another prints Fisher's exact test with it, and words the comparison by
its p-value.

Fisher's one-sided exact test: with $K = k_1 + k_2$ successes among $N = n_1 + n_2$ runs, and the
successes shared out at random between the groups, the chance that group 1 gets $k_1$ or more is

$$p = \sum_{x = k_1}^{\min(n_1, K)} \frac{\binom{K}{x} \binom{N - K}{n_1 - x}}{\binom{N}{n_1}}.$$
"""

from __future__ import annotations

from math import comb

ALPHA = 0.05  # a comparison is called a difference only below this p


def _check(k: int, n: int) -> None:
    if not (isinstance(k, int) and isinstance(n, int) and 0 <= k <= n and n > 0):
        raise ValueError(f"expected a count of successes k out of n runs (0 <= k <= n, n > 0), got {k!r} of {n!r}")


def fisher_greater(k1: int, n1: int, k2: int, n2: int) -> float:
    """One-sided p of Fisher's exact test that group 1 (`k1` of `n1`) succeeds more often than
    group 2 (`k2` of `n2`)."""
    _check(k1, n1), _check(k2, n2)
    total, successes = n1 + n2, k1 + k2
    ways = comb(total, n1)
    return sum(comb(successes, x) * comb(total - successes, n1 - x) for x in range(k1, min(n1, successes) + 1)) / ways


def more_often(k1: int, n1: int, k2: int, n2: int, alpha: float = ALPHA) -> str:
    """Group 1 against group 2 in words, by Fisher's one-sided test, to follow "reached the target":
    "more often (…, p = 0.004)", "more often, but not significantly at this number of runs (…,
    p = 0.083)", or "no more often"."""
    if k1 * n2 <= k2 * n1:
        return "no more often"
    p = fisher_greater(k1, n1, k2, n2)
    if p < alpha:
        return f"more often (one-sided Fisher exact test, p = {p:.3f})"
    return f"more often, but not significantly at this number of runs (one-sided Fisher exact test, p = {p:.3f})"
