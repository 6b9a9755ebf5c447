"""The before/after statistics against hand-worked cases."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from evaluation.estimate.before_after import (
    bootstrap_percent_change,
    conditional_rate_ratio,
    evaluate_before_after,
    mcnemar_any_offence,
    paired_rate_ratio,
    wilcoxon_change,
)


def test_gee_rate_ratio_equals_ratio_of_totals_with_equal_exposure():
    before = np.array([2, 4, 0, 6, 3])
    after = np.array([1, 1, 1, 1, 0])
    est = paired_rate_ratio(before, after)
    assert est.estimate == pytest.approx(4 / 15)
    assert est.ci95[0] < est.estimate < est.ci95[1]


def test_gee_rate_ratio_uses_days_at_risk():
    # equal counts, but half the time at risk after: the rate doubled
    before, after = np.array([4, 6, 2]), np.array([5, 6, 1])
    est = paired_rate_ratio(before, after, np.full(3, 365.0), np.full(3, 182.5))
    assert est.estimate == pytest.approx(2.0)


def test_gee_robust_se_matches_hand_computed_sandwich():
    """For a two-period Poisson GEE with independence, the robust variance of the log
    rate ratio is sum_i (a_i - r*b_i... ) -- checked here against the delta method on totals."""
    rng = np.random.default_rng(1)
    before = rng.poisson(3, 400)
    after = rng.poisson(1.5, 400)
    est = paired_rate_ratio(before, after)
    B, A = before.sum(), after.sum()
    # sandwich for log(A/B) with person clusters: var = sum((a_i/A - b_i/B)^2)
    var = np.sum((after / A - before / B) ** 2)
    se = np.sqrt(var)
    lo, hi = np.exp(np.log(A / B) + np.array([-1, 1]) * stats.norm.ppf(0.975) * se)
    assert est.estimate == pytest.approx(A / B)
    assert est.ci95[0] == pytest.approx(lo, rel=2e-3) and est.ci95[1] == pytest.approx(hi, rel=2e-3)


def test_conditional_rate_ratio_when_nobody_offends_after():
    est = paired_rate_ratio(np.array([3, 4, 3]), np.array([0, 0, 0]))
    assert est.method == "exact conditional binomial test"
    assert est.estimate == 0.0
    assert est.p_value == pytest.approx(2 * 0.5**10)  # 10 offences, none after


def test_conditional_rate_ratio_hand_case():
    est = conditional_rate_ratio(12, 4, 365.0, 365.0)
    assert est.estimate == pytest.approx(4 / 12)
    assert est.p_value == pytest.approx(stats.binomtest(4, 16, 0.5).pvalue)


def test_wilcoxon_hand_case():
    before = np.zeros(6)
    after = np.array([1, 2, 3, 4, 5, -6])
    res = wilcoxon_change(before, after)
    # ranks 1..6; W- = 6; P(T <= 6) = 14/64 subsets, two-sided 28/64
    assert res.statistic == 6
    assert res.p_value == pytest.approx(28 / 64)


def test_wilcoxon_all_zero_changes():
    res = wilcoxon_change(np.array([1, 2]), np.array([1, 2]))
    assert res.p_value == 1.0


def test_mcnemar_exact_hand_case():
    # 10 people offended before only, 2 after only, 5 both, 3 neither
    before = np.array([1] * 10 + [0] * 2 + [1] * 5 + [0] * 3)
    after = np.array([0] * 10 + [1] * 2 + [1] * 5 + [0] * 3)
    res = mcnemar_any_offence(before, after)
    assert res.p_value == pytest.approx(2 * (1 + 12 + 66) / 4096)


def test_mcnemar_chi_square_hand_case():
    before = np.array([1] * 30 + [0] * 10 + [1] * 7)
    after = np.array([0] * 30 + [1] * 10 + [1] * 7)
    res = mcnemar_any_offence(before, after)
    assert res.statistic == pytest.approx((abs(30 - 10) - 1) ** 2 / 40)
    assert res.p_value == pytest.approx(stats.chi2.sf(9.025, 1))


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(3)
    before = rng.poisson(3, 300)
    after = rng.poisson(1.2, 300)
    pct = 100 * (after.sum() / before.sum() - 1)
    ci = bootstrap_percent_change(before, after, seed=5)
    assert ci == bootstrap_percent_change(before, after, seed=5)
    assert ci[0] < pct < ci[1]
    assert ci[1] - ci[0] < 25


def test_bootstrap_degenerate_case_collapses():
    assert bootstrap_percent_change(np.array([2, 4]), np.array([1, 2]), seed=1) == (-50.0, -50.0)


def _outcomes(before, after, mappa=None, programme=None):
    n = len(before)
    zeros = [0] * n
    return pl.DataFrame({
        "person_id": [f"P{i}" for i in range(n)],
        "programme": programme or ["A"] * n,
        "mappa": mappa or [False] * n,
        "ppo": [False] * n,
        "offences_before": before,
        "offences_after": after,
        "person_before": before, "person_after": after,
        "property_before": zeros, "property_after": zeros,
        "drugs_before": zeros, "drugs_after": zeros,
        "other_before": zeros, "other_after": zeros,
        "days_at_risk_before": [365] * n,
        "days_at_risk_after": [365] * n,
    })


def test_evaluate_before_after_counts_and_subgroups():
    outcomes = _outcomes([3, 2, 0, 5], [0, 1, 0, 2], mappa=[True, True, False, False], programme=["A", "B", "A", "B"])
    categories = pl.DataFrame({"category": ["theft"], "offences_before": [10], "offences_after": [3],
                               "people_before": [3], "people_after": [2]})
    res = evaluate_before_after(outcomes, categories, seed=1, n_resamples=200)
    d = res.to_dict()
    assert (d["offences_before"], d["offences_after"]) == (10, 3)
    assert d["percent_change"] == pytest.approx(-70.0)
    assert d["share_with_offence_before"] == 0.75 and d["share_with_offence_after"] == 0.5
    assert d["high_risk"] == {"people": 2, "offences_before": 5, "offences_after": 1, "not_reoffended": 1}
    assert [p["programme"] for p in d["by_programme"]] == ["A", "B"]
    assert d["by_programme"][1]["offences_before"] == 7
    assert d["maryland_level"] == 1 and "regression to the mean" in d["caveat"]
    assert "Maryland" in res.summary()


@pytest.mark.parametrize("n", [40, 3000])
def test_the_rate_ratio_equals_statsmodels_gee_with_independence(n):
    """Issue 16: the before/after rate ratio was statsmodels' GEE (Poisson, independence,
    robust covariance); 0.7 s of the national run, most of it pandas grouping 10,000
    clusters. It is now the Poisson GLM with the cluster-robust covariance without a
    small-sample factor, which that GEE equals: the same estimate, interval and p-value, on
    over-dispersed counts with unequal days at risk (some none)."""
    import statsmodels.api as sm
    from statsmodels.genmod.cov_struct import Independence

    rng = np.random.default_rng(n)
    rate = rng.gamma(1.0, 2.0, n)
    before, after = rng.poisson(rate * 1.2), rng.poisson(rate * 0.6)
    eb, ea = rng.integers(200, 366, n).astype(float), rng.integers(0, 366, n).astype(float)
    ea[:3] = 0  # in custody the whole after window: no days at risk
    est = paired_rate_ratio(before, after, eb, ea)
    y, exposure = np.r_[before, after].astype(float), np.r_[eb, ea]
    period, groups = np.r_[np.zeros(n), np.ones(n)], np.r_[np.arange(n), np.arange(n)]
    keep = exposure > 0
    gee = sm.GEE(y[keep], sm.add_constant(period[keep]), groups=groups[keep], family=sm.families.Poisson(),
                 offset=np.log(exposure[keep]), cov_struct=Independence()).fit()
    assert (~keep).any()
    assert est.estimate == pytest.approx(np.exp(gee.params[1]), rel=1e-9)
    assert est.ci95 == pytest.approx(tuple(np.exp(gee.conf_int(alpha=0.05)[1])), rel=1e-9)
    assert est.p_value == pytest.approx(gee.pvalues[1], rel=1e-7)
    assert est.method == "Poisson GEE, clustered on person (robust SE)"


def test_one_person_gets_the_exact_test_not_a_zero_width_interval():
    """With one person the cluster-robust variance is zero: the GEE (and the GLM that
    replaced it) gave a 95% interval of no width and p = 0 for a cohort of 1. The exact
    conditional test is used instead."""
    est = paired_rate_ratio(np.array([3]), np.array([1]), np.array([365.0]), np.array([200.0]))
    assert est.method == "exact conditional binomial test"
    assert est.ci95[0] < est.estimate < est.ci95[1] and est.p_value > 0.05
    assert est.estimate == pytest.approx((1 / 200) / (3 / 365))
