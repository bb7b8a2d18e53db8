"""Readable features of Python source, and the search for the unit that tracks each."""

import pytest
import torch

from snippets.interpret import correlations, find_tracking_units, separation, source_features

SOURCE = 'def f(x):\n    # a (comment\n    return g(x, "a (b", [1, {2: 3}])\n'


def at(features, name, text, needle):
    return features[name][text.index(needle)].item()


def test_features_of_a_small_function():
    feats = source_features(SOURCE)
    assert all(v.shape == (len(SOURCE),) for v in feats.values())
    assert at(feats, "in_string", SOURCE, '"a (b') == 1 and at(feats, "in_string", SOURCE, "return") == 0
    assert at(feats, "in_comment", SOURCE, "# a") == 1 and at(feats, "in_comment", SOURCE, "def") == 0
    # Brackets in strings and comments do not count; depth counts those open before the character.
    assert at(feats, "bracket_depth", SOURCE, "x)") == 1
    assert at(feats, "bracket_depth", SOURCE, "return") == 0
    assert at(feats, "bracket_depth", SOURCE, "2: 3") == 3
    assert at(feats, "indent", SOURCE, "return") == 4 and at(feats, "indent", SOURCE, "def") == 0
    assert at(feats, "column", SOURCE, "return") == 4


def test_incomplete_source_is_a_clear_error():
    with pytest.raises(ValueError, match="expected complete Python source"):
        source_features('x = "unterminated\n')


def test_the_planted_unit_is_found():
    g = torch.Generator().manual_seed(0)
    feats = source_features(SOURCE)
    acts = torch.randn(len(SOURCE), 16, generator=g)
    acts[:, 11] = -2 * feats["in_string"] + 0.1 * torch.randn(len(SOURCE), generator=g)
    found = {u.feature: u for u in find_tracking_units(acts, feats)}
    assert found["in_string"].unit == 11 and found["in_string"].correlation < -0.95


def test_correlations_checks_shapes_and_constant_features():
    with pytest.raises(ValueError, match=r"got \(5, 3\) and \(4,\)"):
        correlations(torch.zeros(5, 3), torch.zeros(4))
    assert torch.equal(correlations(torch.randn(5, 3), torch.ones(5)), torch.zeros(3, dtype=torch.float64))


def test_correlations_of_several_features_at_once_are_the_columns_of_one_each():
    g = torch.Generator().manual_seed(1)
    acts, feats = torch.randn(50, 4, generator=g), torch.randn(50, 3, generator=g)
    together = correlations(acts, feats)
    assert together.shape == (4, 3)
    for k in range(3):
        torch.testing.assert_close(together[:, k], correlations(acts, feats[:, k]))


def test_separation_is_the_probability_of_ranking_a_pair_right():
    values = torch.tensor([0.1, 0.4, 0.35, 0.8, 0.4, 0.2])
    inside = torch.tensor([0, 1, 0, 1, 0, 0])
    pairs = [(a, b) for a, i in zip(values, inside) if i for b, j in zip(values, inside) if not j]
    expected = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in pairs) / len(pairs)
    result = separation(values, inside)
    assert result["auc"] == pytest.approx(expected)
    assert result["mean_inside"] == pytest.approx(0.6) and result["mean_outside"] == pytest.approx(0.2625)
    assert separation(-values, inside)["auc"] == pytest.approx(1 - expected)


def test_separation_needs_both_sides():
    with pytest.raises(ValueError, match="both inside and outside"):
        separation(torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="one shape"):
        separation(torch.ones(3), torch.ones(4))
