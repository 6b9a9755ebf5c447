"""The eCDF gaps after the one-sort rewrite (issue 16) agree with the method they replaced
(two sorts and two searches over the union of the values), kept here as the reference.
MatchIt's own eCDF figures on lalonde are checked in test_matchit_reference.py."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.match.balance import _ecdf_gaps


def _previous_ecdf_gaps(xt, wt, xc, wc):
    values = np.union1d(xt, xc)
    ot, oc = np.argsort(xt, kind="stable"), np.argsort(xc, kind="stable")
    cum_t = np.concatenate([[0.0], np.cumsum(wt[ot])]) / wt.sum()
    cum_c = np.concatenate([[0.0], np.cumsum(wc[oc])]) / wc.sum()
    ft = cum_t[np.searchsorted(xt[ot], values, side="right")]
    fc = cum_c[np.searchsorted(xc[oc], values, side="right")]
    gaps = np.abs(ft - fc)
    return float(gaps.mean()), float(gaps.max())


@pytest.mark.parametrize("seed", range(6))
def test_the_one_sort_ecdf_gaps_equal_the_previous_method(seed):
    rng = np.random.default_rng(seed)
    n_t, n_c = rng.integers(1, 400), rng.integers(1, 4000)
    if seed % 2:  # counts with many ties, matching weights 1/k
        xt, xc = rng.poisson(3, n_t).astype(float), rng.poisson(2, n_c).astype(float)
        wt, wc = np.ones(n_t), 1.0 / rng.integers(1, 4, n_c)
    else:  # continuous values, uneven weights
        xt, xc = rng.normal(0.3, 1, n_t), rng.normal(0, 1.2, n_c)
        wt, wc = rng.uniform(0.1, 2, n_t), rng.uniform(0.1, 2, n_c)
    assert _ecdf_gaps(xt, wt, xc, wc) == pytest.approx(_previous_ecdf_gaps(xt, wt, xc, wc), abs=1e-12)


def test_identical_groups_have_no_gap_and_disjoint_groups_a_full_one():
    x = np.array([1.0, 2.0, 2.0, 5.0])
    assert _ecdf_gaps(x, np.ones(4), x.copy(), np.ones(4)) == pytest.approx((0.0, 0.0), abs=1e-15)
    assert _ecdf_gaps(np.array([0.0, 1.0]), np.ones(2), np.array([2.0, 3.0]), np.ones(2))[1] == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ["flags", "negative days", "wide span", "half steps"])
def test_the_counting_path_and_the_sort_path_agree_with_the_previous_method(kind):
    """Whole numbers of a modest span are tallied with a bincount; a wide span or
    fractions take the sort. Each agrees with the reference on its own kind of values."""
    rng = np.random.default_rng(7)
    n_t, n_c = 300, 5000
    draw = {
        "flags": lambda n: rng.integers(0, 2, n).astype(float),
        "negative days": lambda n: rng.integers(-3650, 40, n).astype(float),
        "wide span": lambda n: rng.integers(0, 10**9, n).astype(float),
        "half steps": lambda n: rng.integers(0, 20, n) / 2.0,
    }[kind]
    xt, xc = draw(n_t), draw(n_c)
    wt, wc = np.ones(n_t), 1.0 / rng.integers(1, 4, n_c)
    assert _ecdf_gaps(xt, wt, xc, wc) == pytest.approx(_previous_ecdf_gaps(xt, wt, xc, wc), abs=1e-12)


def test_the_overlap_histogram_by_arithmetic_equals_the_sorted_binning():
    """np.histogram with equal bins given by count and range (no sort) puts every value,
    edge values included, in the same bin as binning against the edge array did (the
    weighted bars agree to rounding: the weights are added in another order)."""
    from evaluation.match.matcher import OVERLAP_BINS, PropensityOverlap

    rng = np.random.default_rng(3)
    distance = np.r_[rng.normal(-2, 1, 20_000), np.linspace(-5, 1, 31)]  # the edges themselves too
    distance[:50] = distance.min()  # ties at the ends
    treat = rng.random(len(distance)) < 0.1
    weights = rng.uniform(0, 2, len(distance))
    overlap = PropensityOverlap.of(distance, treat, weights, scale="logit")
    edges = np.histogram_bin_edges(distance, bins=OVERLAP_BINS, range=(distance.min(), distance.max()))
    assert np.array_equal(np.array(overlap.edges), edges)
    for got, mask, w in ((overlap.treated_before, treat, None), (overlap.comparison_before, ~treat, None),
                         (overlap.treated_after, treat, weights), (overlap.comparison_after, ~treat, weights)):
        expected = np.histogram(distance[mask], bins=edges, weights=None if w is None else w[mask])[0]
        if w is None:  # counts: the same bins exactly
            assert np.array_equal(np.array(got), expected)
        else:  # weight sums: the same bins, added in another order
            assert np.array(got) == pytest.approx(expected, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("settings", [dict(caliper=0.2), dict(caliper=None, ratio=3), dict(caliper=0.1, replace=True),
                                      dict(caliper=0.5, order="ascending", ratio=2)])
def test_matchings_sharing_one_fit_equal_matchings_fitted_afresh(settings):
    """The comparisons' order by distance is kept with the propensity fit and reused by
    the next matching on it; each matching equals one made with its own fit."""
    from evaluation.match.matcher import PropensityMatcher, fit_propensity
    from tests.match.test_matcher import frame_with_confounding

    frame = frame_with_confounding(seed=4)
    shared = fit_propensity(frame, treatment="treat", covariates=["x1", "x2"])
    PropensityMatcher(caliper=0.3).fit(frame, treatment="treat", covariates=["x1", "x2"], propensity=shared)
    assert shared.cache.comparison_order  # filled by the first matching
    again = PropensityMatcher(**settings).fit(frame, treatment="treat", covariates=["x1", "x2"], propensity=shared)
    fresh = PropensityMatcher(**settings).fit(frame, treatment="treat", covariates=["x1", "x2"])
    assert again.matches_.equals(fresh.matches_)


def test_the_matched_side_over_matched_units_only_equals_it_over_every_unit():
    """The balance table's matched side is computed over the units with a matching weight
    (issue 16: the masks and moments over half a million units, most weighing 0, were
    most of each re-match's balance time). The weighted means over every unit, zero
    weights included, are the same, and so are the eCDF gaps of the previous method, which
    masked the units without weight out of every column instead."""
    from evaluation.match.balance import _weighted_mean_var, balance_table

    rng = np.random.default_rng(11)
    n = 6_000
    treat = rng.random(n) < 0.1
    x = np.column_stack([rng.poisson(2, n).astype(float), rng.normal(size=n), (rng.random(n) < 0.3).astype(float)])
    x[rng.random(n) < 0.02, 1] = np.nan  # a missing value or two, left out as before
    weights = np.where(treat, 1.0, 0.0)
    used = ~treat & (rng.random(n) < 0.15)  # the comparisons matched, each weighing 1/m
    weights[used] = 1.0 / rng.integers(1, 4, used.sum())
    weights[treat & (rng.random(n) < 0.1)] = 0.0  # some participants unmatched
    table = balance_table(x, ["count", "score", "flag"], treat, weights)
    for j, row in enumerate(table.rows):
        col, ok = x[:, j], ~np.isnan(x[:, j])
        t_all, c_all = treat & ok, ~treat & ok  # every unit, zero weights and all
        mean_t, var_t = _weighted_mean_var(col[t_all & (weights > 0)], weights[t_all & (weights > 0)])
        assert row.mean_treated_after == pytest.approx(np.average(col[t_all], weights=weights[t_all]), rel=1e-12)
        assert row.mean_comparison_after == pytest.approx(np.average(col[c_all], weights=weights[c_all]), rel=1e-12)
        assert row.mean_treated_after == pytest.approx(mean_t, rel=1e-12)
        gaps = _previous_ecdf_gaps(col[t_all & (weights > 0)], weights[t_all & (weights > 0)],
                                   col[c_all & (weights > 0)], weights[c_all & (weights > 0)])
        assert (row.ecdf_mean_after, row.ecdf_max_after) == pytest.approx(gaps, abs=1e-12)
