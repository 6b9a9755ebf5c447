"""Subgroups (checks/subgroups.py): each group is its participants' whole matched sets, too
small a group is not estimated, and the p-values are Holm's across every group tested."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from evaluation.checks.subgroups import MIN_SUBGROUP, subgroup_estimates, subset
from evaluation.estimate.impact import MatchedData, matched_rate_ratio


def sample(sets: int, rng: np.random.Generator, fall: float) -> MatchedData:
    """``sets`` matched pairs; the participant's offences are the comparison's times (1 - fall) on average."""
    n = 2 * sets
    comparison = rng.poisson(2.0, sets)
    participant = rng.poisson(2.0 * (1 - fall), sets)
    y = np.column_stack([participant, comparison]).ravel().astype(float)
    person = np.arange(n)
    return MatchedData(treat=np.tile([1, 0], sets).astype(np.int8), weight=np.ones(n),
                       subclass=np.repeat(np.arange(sets), 2), unit=person, person=person,
                       offences_before=np.zeros(n), offences_after=y, days_at_risk_after=np.full(n, 365.0),
                       first_after_day=np.full(n, np.nan), after_days=365, replace=False)


def test_a_subset_keeps_whole_matched_sets():
    data = sample(10, np.random.default_rng(1), 0.0)
    part = subset(data, np.array([2, 5]))
    assert part.subclass.tolist() == [2, 2, 5, 5] and part.treat.tolist() == [1, 0, 1, 0]
    assert part.offences_after.tolist() == data.offences_after[[4, 5, 10, 11]].tolist()


def test_groups_are_estimated_on_their_own_sets_small_ones_are_not_and_p_values_are_holms():
    data = sample(200, np.random.default_rng(7), 0.4)
    sets = np.arange(200)
    labels = np.where(sets < 100, "a", np.where(sets < 100 + MIN_SUBGROUP - 1, "tiny", "b"))
    [a, b, tiny] = subgroup_estimates(data, {"programme": (sets, labels)})
    assert (a.group, b.group, tiny.group) == ("a", "b", "tiny")
    assert tiny.participants == MIN_SUBGROUP - 1 and tiny.estimate is None and "not estimated" in tiny.note
    assert a.participants == 100 and b.participants == 200 - 100 - (MIN_SUBGROUP - 1)
    # each group's estimate is the matched rate ratio of its own sets (no structural data here)
    own = matched_rate_ratio(subset(data, sets[labels == "a"]))
    assert a.estimate.estimate == pytest.approx(own.estimate)
    assert a.estimate.estimate < 0.85  # the 40% fall the sample was drawn with, seen in the group
    _, holm, _, _ = multipletests([a.estimate.p_value, b.estimate.p_value], method="holm")
    assert [a.p_value_holm, b.p_value_holm] == pytest.approx(list(holm))
    assert a.p_value_holm >= a.estimate.p_value  # a correction never lowers a p-value


def test_a_group_with_no_reoffending_on_one_side_has_no_rate_ratio():
    data = sample(30, np.random.default_rng(3), 0.0)
    data.offences_after[data.treat == 1] = 0.0
    [only] = subgroup_estimates(data, {"sex": (np.arange(30), np.array(["F"] * 30))})
    assert only.estimate is None and "no reoffending in one group" in only.note
