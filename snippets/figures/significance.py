r"""Comparing models over a few seeds, with a test whose p-value words the comparison.

Five seeds decide little: 3 of 5 against 0 of 5 looks like a win, but if both models had the same
chance, a split at least that lopsided would come up about 8 % of the time. So a page that says one
model does better than another prints the test with it, and says "more" only where p < `ALPHA`
(`compare_counts`, `compare_values`).
Which model won on one machine's runs is printed, never asserted: another CPU trains other networks.

Counts (seeds that reached a target):

Fisher's one-sided exact test: with $K = k_1 + k_2$ successes among $N = n_1 + n_2$ runs, and the
successes shared out at random between the groups, the chance that group 1 gets $k_1$ or more is

$$p = \sum_{x = k_1}^{\min(n_1, K)} \frac{\binom{K}{x} \binom{N - K}{n_1 - x}}{\binom{N}{n_1}}.$$
"""

from __future__ import annotations

from itertools import combinations
from math import comb, inf
from typing import NamedTuple

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


def rank_sum_less(a: list[float | None], b: list[float | None]) -> float:
    r"""One-sided p of the exact Mann-Whitney test that values `a` tend to be smaller than values `b`
    (updates to a threshold, say; None, a run that never got there, counts as larger than any).

    $U = \#\{(x, y) : x < y\} + \tfrac12 \#\{(x, y) : x = y\}$ over $x \in a$, $y \in b$; $p$ is the
    share of the $\binom{n_a + n_b}{n_a}$ ways of splitting the pooled values into groups of these
    sizes whose $U$ is at least the observed one (ties kept as they are).
    """
    if not a or not b:
        raise ValueError(f"expected two non-empty groups of values, got {len(a)} and {len(b)} values")
    pooled = [inf if v is None else float(v) for v in (*a, *b)]
    observed = _u(pooled[: len(a)], pooled[len(a) :])
    splits = list(combinations(range(len(pooled)), len(a)))
    if len(splits) > 200_000:
        raise ValueError(f"expected small groups for an exact test, got {len(a)} and {len(b)} values")
    at_least = 0
    for chosen in splits:
        picked = set(chosen)
        x = [pooled[i] for i in chosen]
        y = [pooled[i] for i in range(len(pooled)) if i not in picked]
        at_least += _u(x, y) >= observed - 1e-12
    return at_least / len(splits)


def _u(x: list[float], y: list[float]) -> float:
    return sum((u < v) + 0.5 * (u == v) for u in x for v in y)


class Comparison(NamedTuple):
    """Group 1 against group 2: `sign` +1 where group 1 is significantly more (or higher), -1 where
    significantly less, 0 where neither is; `text` says it, with the test and its p."""

    sign: int
    text: str


def compare_counts(
    k1: int, n1: int, k2: int, n2: int, more: str = "more often", less: str = "less often", alpha: float = ALPHA
) -> Comparison:
    """`k1` of `n1` against `k2` of `n2`, by Fisher's one-sided exact test each way, in words:
    "more often (one-sided Fisher exact test, p = 0.004)", "less often (…)", or "not significantly
    more or less often at this number of runs (…, p = 0.083)", or "equally often"."""
    if k1 * n2 == k2 * n1:
        return Comparison(0, "equally often")
    return _compare(
        fisher_greater(k1, n1, k2, n2), fisher_greater(k2, n2, k1, n1), more, less, "one-sided Fisher exact test", alpha
    )


def compare_values(
    a: list[float | None], b: list[float | None], lower: str = "lower", higher: str = "higher", alpha: float = ALPHA
) -> Comparison:
    """Values `a` against `b` (None: a run that never got there, larger than any value), by the exact
    Mann-Whitney test each way, in words as `compare_counts`; `sign` +1 where `a` is higher."""
    return _compare(rank_sum_less(b, a), rank_sum_less(a, b), higher, lower, "one-sided exact Mann-Whitney test", alpha)


def _compare(p_more: float, p_less: float, more: str, less: str, test: str, alpha: float) -> Comparison:
    if p_more < alpha and p_more < p_less:
        return Comparison(1, f"{more} ({test}, p = {p_more:.2g})")
    if p_less < alpha:
        return Comparison(-1, f"{less} ({test}, p = {p_less:.2g})")
    return Comparison(
        0,
        f"not significantly {more} or {less} at this number of runs ({test}, p = "
        f"{min(p_more, p_less):.2g} in the likelier direction)",
    )
