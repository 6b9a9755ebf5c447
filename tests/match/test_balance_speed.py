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
