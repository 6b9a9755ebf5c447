"""The vectorised stratified Cox fit (issue 16) against statsmodels' PHReg, which it
replaced in the evaluation: the same hazard ratio, standard error and p-value on fixed
data with tied times, censoring, 1:1 and k:1 matched sets and reused comparisons."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.duration.hazard_regression import PHReg

from evaluation.estimate.cox import stratified_cox


def _data(seed: int, sets: int, k: int):
    rng = np.random.default_rng(seed)
    strata = np.repeat(np.arange(sets), k + 1)
    treated = np.tile(np.r_[1, np.zeros(k)], sets)
    frailty = np.repeat(rng.gamma(2, 0.5, sets), k + 1)  # matched sets share a risk
    hazard = frailty * np.exp(-0.3 * treated)
    time = np.ceil(rng.exponential(200 / hazard))  # whole days: many ties
    event = time <= 365
    time = np.minimum(time, 365.0)
    censored_early = rng.random(len(time)) < 0.1  # e.g. comparisons who start the programme
    time = np.where(censored_early, np.ceil(time * rng.random(len(time))) + 0.5, time)
    event = event & ~censored_early
    return time, event.astype(float), treated, strata


@pytest.mark.parametrize("seed,sets,k", [(1, 400, 1), (2, 300, 2), (3, 150, 3), (4, 60, 1)])
def test_the_vectorised_fit_equals_phreg(seed, sets, k):
    time, event, treated, strata = _data(seed, sets, k)
    ours = stratified_cox(time, event, treated, strata)
    ref = PHReg(time, treated[:, None], status=event, strata=strata).fit()
    assert ours.converged
    assert ours.log_hazard_ratio == pytest.approx(float(ref.params[0]), abs=1e-8)
    assert ours.se == pytest.approx(float(ref.bse[0]), rel=1e-8)
    assert ours.p_value == pytest.approx(float(ref.pvalues[0]), rel=1e-6, abs=1e-300)
    np.testing.assert_allclose(ours.conf_int(0.05), ref.conf_int(alpha=0.05)[0], rtol=1e-8)


def test_strata_given_in_any_order_and_with_gaps_in_their_labels():
    time, event, treated, strata = _data(5, 200, 1)
    shuffle = np.random.default_rng(5).permutation(len(time))
    a = stratified_cox(time, event, treated, strata)
    b = stratified_cox(time[shuffle], event[shuffle], treated[shuffle], strata[shuffle] * 7 + 3)
    assert a.log_hazard_ratio == pytest.approx(b.log_hazard_ratio, abs=1e-12)
    assert a.se == pytest.approx(b.se, rel=1e-12)


def test_no_difference_in_timing_gives_a_hazard_ratio_of_one():
    """Participant and comparison reoffend on the same day in every set (a tie, Breslow)."""
    time = np.repeat(np.arange(1, 101, dtype=float), 2)
    strata = np.repeat(np.arange(100), 2)
    treated = np.tile([1.0, 0.0], 100)
    fit = stratified_cox(time, np.ones(200), treated, strata)
    assert fit.log_hazard_ratio == pytest.approx(0.0, abs=1e-12) and fit.p_value == pytest.approx(1.0)
