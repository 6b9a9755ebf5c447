"""The structural estimate (comparisons who start later counted through the rate ratio):
hand-worked cases, the delta-method variance against a direct computation, and a
known-truth simulation of what the model assumes, where censoring weights are not needed
and the uncorrected comparison is biased."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.estimate.impact import MatchedData, headline_rate_ratio, matched_rate_ratio
from evaluation.estimate.structural import fit_structural


def sample(*, treat, after, on, days, before=None, start_day=None, subclass=None, weight=None):
    n = len(treat)
    return MatchedData(
        treat=np.asarray(treat, dtype=np.int8),
        weight=np.ones(n) if weight is None else np.asarray(weight, dtype=float),
        subclass=np.arange(n) // 2 if subclass is None else np.asarray(subclass),
        unit=np.arange(n), person=np.arange(n),
        offences_before=np.zeros(n) if before is None else np.asarray(before, dtype=float),
        offences_after=np.asarray(after, dtype=float),
        days_at_risk_after=np.asarray(days, dtype=float),
        first_after_day=np.full(n, np.nan), after_days=365, replace=False,
        start_day=np.full(n, np.nan) if start_day is None else np.asarray(start_day, dtype=float),
        offences_after_start=np.asarray(on, dtype=float),
    )


def test_hand_worked_rate_ratio_and_untreated_offences():
    # participants: 3 + 1 offences over 365 + 365 days: rate 4/730.
    # comparisons: 4 offences before their start (2 + 2) and 2 after (one comparison started), 730 days.
    # psi solves 4/730 = psi * (4 + 2/psi)/730, so psi = (4 - 2)/4 = 0.5, and the comparisons'
    # untreated offences are (2 + 2 + 2/0.5)/2 = 4 each
    data = sample(treat=[1, 0, 1, 0], after=[3, 2, 1, 4], on=[0, 0, 0, 2], days=[365] * 4,
                  start_day=[np.nan, np.nan, np.nan, 100])
    fit = fit_structural(data)
    assert fit.psi == pytest.approx(0.5)
    assert fit.untreated_offences() == pytest.approx((2 + 2 + 2 / 0.5) / 2)  # 4 per comparison
    assert fit.rate_ratio().estimate == pytest.approx(0.5)
    assert fit.frequency_difference().estimate == pytest.approx(2.0 - 4.0)
    # the uncorrected ratio counts the later starter's treated offences as untreated: 4/6
    assert matched_rate_ratio(data).estimate == pytest.approx(4 / 6)


def test_no_later_starts_gives_the_plain_ratio_of_rates():
    rng = np.random.default_rng(3)
    n = 400
    treat = np.tile([1, 0], n // 2)
    after = rng.poisson(np.where(treat == 1, 1.0, 1.5))
    days = rng.integers(300, 366, n).astype(float)
    data = sample(treat=treat, after=after, on=np.zeros(n), days=days)
    fit = fit_structural(data)
    t = treat == 1
    plain = (after[t].sum() / days[t].sum()) / (after[~t].sum() / days[~t].sum())
    assert fit.psi == pytest.approx(plain)


def test_the_delta_method_variance_equals_the_closed_form_gradient():
    rng = np.random.default_rng(5)
    n = 600
    treat = np.tile([1, 0], n // 2)
    after = rng.poisson(2.0, n).astype(float)
    on = np.where((treat == 0) & (rng.random(n) < 0.3), np.minimum(after, rng.poisson(0.5, n)), 0.0)
    days = np.full(n, 365.0)
    fit = fit_structural(sample(treat=treat, after=after, on=on, days=days))
    mt, mc = fit.means.treated, fit.means.comparison
    rt = mt[0] / mt[2]
    num = rt * mc[2] - mc[1]
    g = np.zeros(8)  # d log psi / d [t_off, t_on, t_days, t_before, c_pre, c_on, c_days, c_before]
    g[0], g[2] = (mc[2] / mt[2]) / num, (-mt[0] * mc[2] / mt[2] ** 2) / num
    g[4], g[5], g[6] = -1 / mc[0], -1 / num, rt / num
    se = np.sqrt(g @ fit.means.cov @ g)
    lo, hi = fit.rate_ratio().ci95
    assert np.log(hi / lo) / (2 * 1.959963984540054) == pytest.approx(se, rel=1e-5)


def test_not_estimable_without_offences_and_offences_then_count_as_observed():
    # participants without offences (a valid cohort): psi is 0, not estimable; offences per
    # person still compare, the later starter's one offence counted as observed
    data = sample(treat=[1, 0, 1, 0], after=[0, 2, 0, 1], on=[0, 0, 0, 1], days=[365] * 4,
                  start_day=[np.nan, np.nan, np.nan, 200])
    fit = fit_structural(data)
    assert fit.psi is None
    assert fit.rate_ratio().estimate is None
    assert fit.untreated_offences() == pytest.approx(1.5)
    difference = fit.frequency_difference(label="difference in means")
    assert difference.estimate == pytest.approx(-1.5)
    assert "count as observed" in difference.method


def test_recovers_the_effect_when_comparisons_start_because_they_offend():
    """Known truth: both groups alike at the index date; a comparison is far likelier to
    start after a busy month (selection on its own outcome), and the programme halves the
    rate from the start. The uncorrected comparison is biased towards 1; the structural
    estimate recovers 0.5 within its interval."""
    rng = np.random.default_rng(11)
    pairs = 4000
    n = 2 * pairs
    treat = np.tile([1, 0], pairs)
    rate = rng.gamma(1.0, 2.0, n) / 12  # per month
    psi = 0.5
    after = np.zeros(n)
    on = np.zeros(n)
    start = np.full(n, np.nan)
    for month in range(12):
        started = ~np.isnan(start) | (treat == 1)
        count = rng.poisson(rate * np.where(started, psi, 1.0))
        after += count
        on += np.where(started & (treat == 0), count, 0)
        begin = (treat == 0) & np.isnan(start) & (rng.random(n) < np.where(count > 0, 0.25, 0.01))
        start[begin] = (month + 1) * 30
    data = sample(treat=treat, after=after, on=on, days=np.full(n, 365.0), start_day=start)
    est = headline_rate_ratio(data)
    assert est.ci95[0] <= psi <= est.ci95[1], est
    assert abs(est.estimate - psi) < 0.03
    uncorrected = matched_rate_ratio(data)
    assert uncorrected.estimate - psi > 0.05  # the later starters' treated months pull it towards 1


def test_the_estimate_reads_its_means_by_name_not_by_position(monkeypatch):
    """Found (issue 36, 3): the structural estimate read its group means by position
    (mu[m + 2]) in a tuple whose order another module's tuple did not share. With the names
    in another order the estimate is the same."""
    from dataclasses import replace

    import numpy as np

    from evaluation.estimate import structural
    from tests.estimate.test_impact import pairs

    base = pairs(np.array([3, 1, 2, 2, 5, 1, 0, 1, 4, 2, 2, 0], float))
    data = replace(base, offences_after_start=np.where(base.treat == 0, np.array([0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]), 0),
                   days_at_risk_after=np.array([365, 300, 365, 365, 200, 365, 365, 365, 365, 280, 365, 365], float))
    first = structural.fit_structural(data)
    first_difference = first.frequency_difference(True).estimate
    names = tuple(reversed(structural.NAMES))
    monkeypatch.setattr(structural, "NAMES", names)
    monkeypatch.setattr(structural, "T", {n: i for i, n in enumerate(names)})
    monkeypatch.setattr(structural, "C", {n: len(names) + i for i, n in enumerate(names)})
    again = structural.fit_structural(data)
    assert first.psi is not None and abs(first.psi - again.psi) < 1e-12
    assert abs(first_difference - again.frequency_difference(True).estimate) < 1e-9
    # each mean sits under its own name (a lookup by name gets the right column)
    t = data.treat == 1
    for means in (first.means, again.means):
        assert means.treated[means.names.index("days_at_risk")] == data.days_at_risk_after[t].mean()
        assert means.treated[means.names.index("offences_before")] == data.offences_before[t].mean()
