"""Fisher's exact test for "k of n seeds" comparisons, against values worked out by hand."""

from math import comb

import pytest

from snippets.figures.significance import compare_counts, compare_values, fisher_greater, rank_sum_less


def test_p_values_worked_out_by_hand():
    assert fisher_greater(5, 5, 0, 5) == pytest.approx(1 / comb(10, 5))  # only one way of 252
    # 3 of 5 against 0 of 5: 3 successes among 10 runs all in group 1 (C(5,3) ways of C(10,3))
    assert fisher_greater(3, 5, 0, 5) == pytest.approx(comb(5, 3) / comb(10, 3))
    assert fisher_greater(0, 5, 0, 5) == pytest.approx(1.0)  # nothing to share out: as likely as can be
    assert fisher_greater(2, 5, 4, 5) > 0.5


def test_p_values_sum_to_one_over_the_outcomes():
    # P(X >= k) - P(X >= k + 1) is the hypergeometric mass at k; the masses add up to 1
    masses = [fisher_greater(k, 4, 5 - k, 6) - fisher_greater(k + 1, 4, 4 - k, 6) for k in range(4)]
    masses.append(fisher_greater(4, 4, 1, 6))
    assert sum(masses) == pytest.approx(1.0)


def test_count_words_follow_the_p_value():
    assert compare_counts(5, 5, 0, 5) == (1, "more often (one-sided Fisher exact test, p = 0.004)")
    assert compare_counts(0, 5, 5, 5) == (-1, "less often (one-sided Fisher exact test, p = 0.004)")
    sign, text = compare_counts(3, 5, 0, 5)  # the example: a lopsided split, not a significant one
    assert sign == 0 and text.startswith("not significantly more often or less often at this number of runs")
    assert "p = 0.083 in the likelier direction" in text
    assert compare_counts(2, 5, 2, 5) == (0, "equally often")


@pytest.mark.parametrize("bad", [(6, 5, 0, 5), (-1, 5, 0, 5), (1, 0, 0, 5), (1.0, 5, 0, 5)])
def test_bad_counts_are_refused(bad):
    with pytest.raises(ValueError, match="expected a count of successes k out of n runs"):
        fisher_greater(*bad)


def test_rank_sum_p_values_worked_out_by_hand():
    assert rank_sum_less([1, 2], [3, 4]) == pytest.approx(1 / 6)  # one split of six has U = 4
    assert rank_sum_less([200] * 5, [600] * 9 + [None]) == pytest.approx(1 / comb(15, 5))
    # a run that never reached the threshold (None) counts as slower than any that did
    assert rank_sum_less([None], [5]) == pytest.approx(1.0) and rank_sum_less([5], [None]) == pytest.approx(0.5)
    # ties count half: [1, 2] against [2, 3] has U = 3.5 of 4; of the six splits of 1, 2, 2, 3, the two
    # that put 1 with either 2 reach it
    assert rank_sum_less([1, 2], [2, 3]) == pytest.approx(2 / 6)


def test_value_words_follow_the_p_value():
    assert compare_values([200] * 5, [600] * 10, "fewer", "more") == (
        -1,
        "fewer (one-sided exact Mann-Whitney test, p = 0.00033)",
    )
    assert compare_values([0.3] * 5, [0.1] * 5) == (1, "higher (one-sided exact Mann-Whitney test, p = 0.004)")
    sign, text = compare_values([1, 3], [2, 4])
    assert sign == 0 and text.startswith("not significantly higher or lower at this number of runs")
    assert compare_values([1, 2], [1, 2]).sign == 0


def test_empty_groups_are_refused():
    with pytest.raises(ValueError, match="expected two non-empty groups of values, got 0 and 2"):
        rank_sum_less([], [1, 2])
