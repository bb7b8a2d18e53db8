r"""Summaries over seeds: the mean and its 95 % confidence interval.

For $n$ runs with mean $\bar x$ and sample standard deviation $s$ (divisor $n - 1$), the interval is

$$\bar x \pm t_{0.975,\, n-1} \, \frac{s}{\sqrt n},$$

Student's $t$ quantile because $s$ is estimated from the same few runs (with 5 seeds
$t_{0.975, 4} = 2.776$, not the normal 1.96). It assumes the runs are independent draws of one
distribution; it says how well the mean is pinned down, not how far one run may stray.
"""

from __future__ import annotations

import math

import torch

# t_{0.975, df} for df = 1 .. 30 (two-sided 95 %); beyond 30 the normal quantile is within 4 %.
T_975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)
Z_975 = 1.960


def t_quantile(df: int) -> float:
    """$t_{0.975, df}$, the two-sided 95 % quantile of Student's t with `df` degrees of freedom."""
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"t_quantile: expected degrees of freedom an int >= 1, got {df!r}")
    return T_975[df - 1] if df <= len(T_975) else Z_975


def mean_ci95(values, dim: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean over `dim` and the low and high ends of its 95 % confidence interval (float64 tensors).

    Needs at least two values along `dim`; NaN values (a diverged run) make that entry NaN.
    """
    table = torch.as_tensor(values, dtype=torch.float64)
    n = table.shape[dim]
    if n < 2:
        raise ValueError(f"mean_ci95: a confidence interval needs at least 2 runs, got {n}")
    mean = table.mean(dim)
    half = t_quantile(n - 1) * table.std(dim, unbiased=True) / math.sqrt(n)
    return mean, mean - half, mean + half
