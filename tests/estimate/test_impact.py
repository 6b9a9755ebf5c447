"""The headline's statistics (estimate/impact.py), hand-worked (issue 36, finding 6: the
module had no test file of its name, and a normal instead of a t interval went unnoticed)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from evaluation.estimate.impact import MatchedData, percent_change, weighted_difference

#: Six matched pairs, each person once: treated then comparison offences.
Y = np.array([3, 1, 2, 2, 5, 1, 0, 1, 4, 2, 2, 0], float)


def pairs(y: np.ndarray = Y) -> MatchedData:
    n = len(y)
    person = np.arange(n)
    return MatchedData(treat=np.tile([1, 0], n // 2).astype(np.int8), weight=np.ones(n),
                       subclass=np.repeat(np.arange(n // 2), 2), unit=person, person=person,
                       offences_before=np.zeros(n), offences_after=y, days_at_risk_after=np.ones(n),
                       first_after_day=np.full(n, np.nan), after_days=365, replace=False)


def test_the_difference_is_the_mean_paired_difference():
    result = weighted_difference(Y, pairs())
    assert result.treated == np.mean(Y[0::2]) == 16 / 6 and result.comparison == np.mean(Y[1::2]) == 7 / 6
    assert abs(result.difference.estimate - 1.5) < 1e-12  # (2 + 0 + 4 - 1 + 2 + 2) / 6


def test_the_interval_and_p_value_are_those_of_a_t_with_pairs_minus_one_degrees_of_freedom():
    """With 6 matched pairs the interval is t(5)-based, as clustered inference with few
    clusters needs: a normal interval (use_t=False) is about 24% narrower, and its p-value
    does not match the interval under t(5)."""
    d = weighted_difference(Y, pairs()).difference
    lo, hi = d.ci95
    se = (hi - lo) / (2 * stats.t.ppf(0.975, 5))
    assert abs(2 * stats.t.sf(abs(d.estimate) / se, 5) - d.p_value) < 1e-9
    z_se = (hi - lo) / (2 * stats.norm.ppf(0.975))
    assert abs(2 * stats.norm.sf(abs(d.estimate) / z_se) - d.p_value) > 0.01


def test_comparison_weights_make_a_weighted_mean():
    """1:2 matching: each comparison weighs a half (MatchIt's weights)."""
    y = np.array([4.0, 1.0, 3.0, 2.0, 0.0, 5.0])
    data = MatchedData(treat=np.array([1, 0, 0, 1, 0, 0], np.int8), weight=np.array([1, 0.5, 0.5, 1, 0.5, 0.5]),
                       subclass=np.array([0, 0, 0, 1, 1, 1]), unit=np.arange(6), person=np.arange(6),
                       offences_before=np.zeros(6), offences_after=y, days_at_risk_after=np.ones(6),
                       first_after_day=np.full(6, np.nan), after_days=365, replace=False)
    result = weighted_difference(y, data)
    assert result.comparison == (1 + 3 + 0 + 5) / 4 and result.treated == 3.0
    assert abs(result.difference.estimate - 0.75) < 1e-12


def test_percent_change_is_the_weighted_change_in_the_total():
    assert percent_change(np.array([10.0, 10.0]), np.array([5.0, 10.0]), np.ones(2)) == -25.0
    assert percent_change(np.zeros(2), np.ones(2), np.ones(2)) is None  # nothing before: no percentage


def test_the_size_warning_counts_the_people_the_comparison_rests_on():
    """Issue 39, finding 3: the "fewer than 60" warning counted matched participants, and fired
    on 1 of 24 small programmes; with replacement 80 participants can rest on a handful of
    comparisons. Kish's effective size of the comparisons' total weights, hand-worked."""
    from evaluation.estimate.impact import comparison_effective_size

    # 80 participants, each matched with one of 4 comparisons: 20 each, so 4 people
    n = 80
    treat = np.r_[np.ones(n), np.zeros(n)].astype(np.int8)
    unit = np.r_[np.arange(n), 1000 + np.arange(n) % 4]
    data = MatchedData(treat=treat, weight=np.ones(2 * n), subclass=np.r_[np.arange(n), np.arange(n)], unit=unit,
                       person=unit, offences_before=np.zeros(2 * n), offences_after=np.ones(2 * n),
                       days_at_risk_after=np.ones(2 * n), first_after_day=np.full(2 * n, np.nan), after_days=365,
                       replace=True)
    assert comparison_effective_size(data) == 4.0
    from evaluation.estimate.impact import estimate_impact

    data.offences_after[:] = np.r_[np.arange(n) % 3, np.arange(n) % 4]
    warned = estimate_impact(data).warnings
    assert any(w.startswith("the comparison group counts for fewer than 60 people") for w in warned), warned
    # one comparison for 77 of them and one each for 3: (80^2) / (77^2 + 3) = 1.08
    unit[n:] = np.r_[np.full(77, 2000), 2001, 2002, 2003]
    assert abs(comparison_effective_size(data) - 6400 / (77 ** 2 + 3)) < 1e-12
    assert comparison_effective_size(pairs()) == 6.0  # pairs, each comparison once: all of them
