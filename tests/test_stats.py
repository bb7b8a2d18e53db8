"""The confidence interval of a mean over seeds."""

import pytest
import torch

from snippets.experiments.stats import mean_ci95, t_quantile


def test_the_interval_is_t_times_the_standard_error():
    mean, low, high = mean_ci95([1.0, 2.0, 3.0, 4.0, 5.0])
    assert mean.item() == 3.0
    half = 2.776 * torch.tensor([1.0, 2, 3, 4, 5]).std().item() / 5**0.5
    assert low.item() == pytest.approx(3.0 - half) and high.item() == pytest.approx(3.0 + half)


def test_it_covers_the_true_mean_about_95_times_in_100():
    g = torch.Generator().manual_seed(0)
    draws = torch.randn(20000, 5, generator=g, dtype=torch.float64)
    _, low, high = mean_ci95(draws, dim=1)
    coverage = ((low < 0) & (0 < high)).double().mean().item()
    assert 0.94 < coverage < 0.96  # a normal quantile (1.96) would cover only about 88 %


def test_per_step_curves_and_bad_input():
    mean, low, high = mean_ci95(torch.tensor([[1.0, 2.0], [3.0, 2.0]]))
    assert mean.tolist() == [2.0, 2.0] and high[1] == low[1] == 2.0
    with pytest.raises(ValueError, match="at least 2 runs, got 1"):
        mean_ci95([1.0])
    with pytest.raises(ValueError, match="an int >= 1, got 0"):
        t_quantile(0)
    assert t_quantile(100) == 1.96
