"""The fast BCa interval (issue 16: a BCa jackknife over every person is O(n²)) gives what
scipy's own BCa gives, on fixed data, for the two statistics the pipeline bootstraps: the
before/after percent change (a ratio of sums, resampling people in pairs) and the mean of
per-set offences avoided (resampling matched sets)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evaluation.checks.costs import _bootstrap_total
from evaluation.estimate.before_after import bootstrap_percent_change
from evaluation.estimate.resampling import bca_interval, leave_one_out_mean, leave_one_out_ratio


def pct(b, a, axis=-1):
    return 100.0 * (a.sum(axis=axis) / b.sum(axis=axis) - 1.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ratio_of_sums_matches_scipy_bca(seed):
    rng = np.random.default_rng(seed)
    before = rng.poisson(3.0, 400).astype(float)
    after = rng.poisson(1.0 + 0.3 * before).astype(float)
    ours = bca_interval((before, after), pct, 100.0 * (leave_one_out_ratio(after, before) - 1.0),
                        n_resamples=999, seed=seed, paired=True)
    scipy = stats.bootstrap((before, after), pct, paired=True, vectorized=True, n_resamples=999, method="BCa",
                            random_state=np.random.default_rng(seed)).confidence_interval
    assert ours == pytest.approx(tuple(scipy), abs=1e-10)
    assert bootstrap_percent_change(before, after, seed=seed, n_resamples=999) == pytest.approx(ours, abs=1e-12)


@pytest.mark.parametrize("seed", [4, 5])
def test_mean_matches_scipy_bca(seed):
    values = np.random.default_rng(seed).gamma(0.5, 2.0, 300) - 0.8  # skewed, as offences avoided are
    ours = bca_interval((values,), np.mean, leave_one_out_mean(values), n_resamples=999, seed=seed)
    scipy = stats.bootstrap((values,), np.mean, vectorized=True, n_resamples=999, method="BCa",
                            random_state=np.random.default_rng(seed)).confidence_interval
    assert ours == pytest.approx(tuple(scipy), abs=1e-10)
    lo, hi = _bootstrap_total(values, n_resamples=999, seed=seed)
    assert (lo / len(values), hi / len(values)) == pytest.approx(ours, abs=1e-10)


def test_the_jackknife_in_closed_form_is_the_jackknife():
    x = np.arange(1.0, 8.0)
    y = x ** 2
    brute = np.array([np.delete(y, i).sum() / np.delete(x, i).sum() for i in range(len(x))])
    assert leave_one_out_ratio(y, x) == pytest.approx(brute)
    assert leave_one_out_mean(x) == pytest.approx([np.delete(x, i).mean() for i in range(len(x))])
