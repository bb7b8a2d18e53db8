"""Fisher's exact test for "k of n seeds" comparisons, against values worked out by hand."""

from math import comb

import pytest

from snippets.figures.significance import fisher_greater, greater, less, more_often, rank_sum_less


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


def test_the_words_follow_the_p_value():
    assert more_often(5, 5, 0, 5) == "more often (one-sided Fisher exact test, p = 0.004)"
    assert more_often(3, 5, 0, 5).startswith("more often, but not significantly at this number of runs")
    assert more_often(2, 5, 2, 5) == "no more often" and more_often(1, 5, 3, 5) == "no more often"


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


def test_rank_words_follow_the_p_value():
    assert less([200] * 5, [600] * 10) == "fewer (one-sided exact Mann-Whitney test, p = 0.0003)"
    assert less([1, 3], [2, 4]).startswith("fewer, but not significantly at this number of runs")
    assert less([2, 4], [1, 3]) == "no fewer" and less([1, 2], [1, 2]) == "no fewer"
    assert greater([0.3] * 5, [0.1] * 5) == "higher (one-sided exact Mann-Whitney test, p = 0.0040)"
    assert greater([0.1] * 5, [0.3] * 5, word="lower") == "no lower"


def test_empty_groups_are_refused():
    with pytest.raises(ValueError, match="expected two non-empty groups of values, got 0 and 2"):
        rank_sum_less([], [1, 2])
