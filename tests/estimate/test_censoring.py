"""Censoring weights and the stacked sandwich: hand-worked cases and a known-truth check.

The known-truth check simulates what the estimator assumes and nothing more: comparisons
whose referral at each proven offence depends on their record, who are censored when
referred. The weighted comparison mean must recover the mean without censoring, which the
unweighted (censored) mean misses."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.estimate.censoring import (
    ComparisonIntervals,
    ReferralDecisions,
    _before,
    censoring_weights,
)
from evaluation.estimate.stacked import weighted_group_means


def decisions(group, day, trigger, proven_365, weight=None):
    n = len(group)
    return ReferralDecisions(
        group=np.asarray(group), day=np.asarray(day), trigger=np.asarray(trigger, dtype=float),
        proven_that_day=np.ones(n), proven_365=np.asarray(proven_365, dtype=float), age=np.full(n, 30.0),
        high_risk=np.zeros(n), offences_before=np.ones(n), in_start_range=np.ones(n, dtype=bool),
        matching_weight=np.ones(n) if weight is None else np.asarray(weight),
    )


def test_sums_over_earlier_decisions_only():
    # group 0 decides on days 10 and 20, group 1 on day 15
    values = np.array([1.0, 2.0, 5.0])
    out = _before(np.array([0, 0, 1]), np.array([10, 20, 15]), values,
                  np.array([0, 0, 0, 1, 1]), np.array([10, 11, 21, 15, 16]))
    assert out.tolist() == [0.0, 1.0, 3.0, 0.0, 5.0]


def test_no_start_means_no_weights():
    iv = ComparisonIntervals(group=np.array([0, 0]), interval=np.array([0, 1]), t0_day=np.array([0, 7]),
                             days_at_risk=np.array([7.0, 7.0]), offences=np.array([1.0, 0.0]),
                             first_offence=np.array([1.0, 0.0]), starts=np.zeros(2), matching_weight=np.ones(2))
    cw = censoring_weights(iv, decisions([0], [3], [0], [2]))
    assert cw.p == 0 and np.all(cw.weight == 1.0) and "no weights needed" in cw.note


def simulate(n: int, seed: int):
    """Comparisons with a rate; each week a proven offence may occur (more often for a high
    rate), and each is a referral decision with p = logistic(-2.5 + x), x = log(1 + the
    record); referral censors. Referral stays uncertain even for the heaviest offenders
    (positivity: with near-certain referral no comparison like them is left to weight).
    Returns the intervals, the decisions and the true mean."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 0.08, n)  # offences per week
    weeks = 52
    offences = rng.poisson(rate[:, None], (n, weeks)).astype(float)
    proven = rng.random((n, weeks)) < 1 - np.exp(-rate[:, None])
    record = np.cumsum(proven, axis=1) - proven  # proven before this week
    x = np.log1p(record + 2 * rate[:, None])  # what the referrer reads (the rate shows in it)
    p = 1 / (1 + np.exp(-(-2.5 + x)))
    referred = proven & (rng.random((n, weeks)) < p)
    first = np.where(referred.any(axis=1), referred.argmax(axis=1), weeks)
    true_mean = offences.sum(axis=1).mean()
    g_iv, k_iv = np.nonzero(np.arange(weeks)[None, :] <= first[:, None])
    keep = k_iv < weeks
    g_iv, k_iv = g_iv[keep], k_iv[keep]
    iv = ComparisonIntervals(group=g_iv, interval=k_iv, t0_day=7 * k_iv, days_at_risk=np.full(len(g_iv), 7.0),
                             offences=offences[g_iv, k_iv], first_offence=np.zeros(len(g_iv)),
                             starts=(k_iv == first[g_iv]).astype(float), matching_weight=np.ones(len(g_iv)))
    g_d, k_d = np.nonzero(proven & (np.arange(weeks)[None, :] <= first[:, None]))
    dec = ReferralDecisions(
        group=g_d, day=7 * k_d + 3, trigger=(k_d == first[g_d]).astype(float), proven_that_day=np.ones(len(g_d)),
        proven_365=np.expm1(x[g_d, k_d]), age=np.full(len(g_d), 30.0), high_risk=np.zeros(len(g_d)),
        offences_before=np.ones(len(g_d)), in_start_range=np.ones(len(g_d), dtype=bool),
        matching_weight=np.ones(len(g_d)),
    )
    return iv, dec, true_mean


def comparison_mean(iv, dec, n):
    cw = censoring_weights(iv, dec)
    means = weighted_group_means(
        names=("offences",), treated_values=np.zeros((2, 1)), treated_clusters=np.array([[n, n], [n + 1, n + 1]]),
        comparison_weight=np.ones(n), comparison_base=np.zeros((n, 1)),
        comparison_clusters=np.column_stack([np.arange(n), np.arange(n)]),
        interval_group=iv.group, interval_values=iv.offences[:, None], censoring=cw)
    return float(means.comparison[0]), float(np.sqrt(means.cov[1, 1])), cw


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_weights_recover_the_mean_without_censoring(seed):
    n = 4000
    iv, dec, truth = simulate(n, seed)
    estimate, se, cw = comparison_mean(iv, dec, n)
    naive = float(np.bincount(iv.group, weights=iv.offences, minlength=n).mean())
    assert cw.starts > 500  # the heaviest offenders are censored most
    assert naive < truth - 3 * se  # censoring alone biases the mean down, beyond its noise
    assert abs(estimate - truth) < 3 * se  # the weighted mean recovers it


def test_the_sandwich_without_censoring_is_the_difference_in_means_variance():
    rng = np.random.default_rng(4)
    t, c = rng.poisson(1.0, 300).astype(float), rng.poisson(1.4, 500).astype(float)
    iv = ComparisonIntervals(group=np.arange(500), interval=np.zeros(500, dtype=int), t0_day=np.zeros(500),
                             days_at_risk=np.full(500, 365.0), offences=c, first_offence=(c > 0).astype(float),
                             starts=np.zeros(500), matching_weight=np.ones(500))
    cw = censoring_weights(iv, decisions([0], [1], [0], [0]))
    ids_t, ids_c = np.arange(300), 300 + np.arange(500)
    means = weighted_group_means(
        names=("offences",), treated_values=t[:, None], treated_clusters=np.column_stack([ids_t, ids_t]),
        comparison_weight=np.ones(500), comparison_base=np.zeros((500, 1)),
        comparison_clusters=np.column_stack([ids_c, ids_c]), interval_group=iv.group,
        interval_values=c[:, None], censoring=cw)
    diff = means.difference(["offences"])
    assert diff.estimate == pytest.approx(t.mean() - c.mean())
    # each atom its own cluster: the variance of a difference in means (with n/(n-1) over all 800)
    expected = (((t - t.mean()) ** 2).sum() / 300**2 + ((c - c.mean()) ** 2).sum() / 500**2) * 800 / 799
    se = (diff.ci95[1] - diff.ci95[0]) / (2 * 1.959963984540054)
    assert se**2 == pytest.approx(expected, rel=1e-9)


def _previous_cluster_meat(psi, clusters):
    """The sandwich's meat as it was computed before issue 16 (np.unique over rows, np.add.at)."""
    codes, inverse = np.unique(clusters, axis=0, return_inverse=True)
    sums = np.zeros((len(codes), psi.shape[1]))
    np.add.at(sums, inverse.ravel(), psi)
    g = len(codes)
    return (sums.T @ sums) * (g / (g - 1) if g > 1 else 1.0)


def _previous_group_sums(index, values, groups):
    out = np.zeros((groups, values.shape[1]))
    np.add.at(out, index, values)
    return out


def test_the_faster_sandwich_equals_the_previous_computation(monkeypatch):
    """Issue 16 replaced np.add.at by bincounts and the two-column np.unique by a packed key;
    the means and their covariance are unchanged on fixed data (two-way clusters with
    persons shared across sets, censoring weights estimated)."""
    from evaluation.estimate import stacked

    n = 3000
    iv, dec, _ = simulate(n, 7)
    cw = censoring_weights(iv, dec)
    rng = np.random.default_rng(7)
    t = rng.poisson(1.0, (800, 2)).astype(float)
    sets_t, sets_c = np.arange(800), rng.integers(0, 800, n)
    person_t, person_c = rng.integers(0, 2500, 800), rng.integers(0, 2500, n)  # people recur across sets
    kwargs = dict(names=("offences", "days"), treated_values=t, treated_clusters=np.column_stack([sets_t, person_t]),
                  comparison_weight=rng.uniform(0.3, 1.0, n), comparison_base=np.zeros((n, 2)),
                  comparison_clusters=np.column_stack([sets_c, person_c]), interval_group=iv.group,
                  interval_values=np.column_stack([iv.offences, iv.days_at_risk]), censoring=cw)
    fast = weighted_group_means(**kwargs)
    monkeypatch.setattr(stacked, "_cluster_meat", _previous_cluster_meat)
    monkeypatch.setattr(stacked, "_group_sums", _previous_group_sums)
    before = weighted_group_means(**kwargs)
    np.testing.assert_allclose(fast.treated, before.treated, rtol=1e-13)
    np.testing.assert_allclose(fast.comparison, before.comparison, rtol=1e-13)
    np.testing.assert_allclose(fast.cov, before.cov, rtol=1e-9, atol=1e-15)


# --- issue 16, second pass: the code as it was, kept as the reference -------------------

from evaluation.estimate.censoring import (  # noqa: E402
    EVENTS_PER_TERM,
    MODELS,
    TRUNCATION_QUANTILE,
    CensoringWeights,
    PerfectSeparationError,
    PerfectSeparationWarning,
    _fit,
)
from evaluation.estimate.stacked import GroupMeans, _cluster_meat, _group_sums  # noqa: E402


def _previous_censoring_weights(iv: ComparisonIntervals, decisions: ReferralDecisions) -> CensoringWeights:
    """As before issue 16's second pass: the weights and their derivative summed in two passes."""
    d = decisions
    starts = int(d.trigger.sum())
    at_risk = d.in_start_range.astype(bool)
    empty = np.zeros((0, 0))
    if starts == 0 or not at_risk.any():
        return CensoringWeights(0, (), np.zeros(0), True, np.ones(iv.n), np.zeros((iv.n, 0)), np.zeros((d.n, 0)),
                                d.group, empty, None, 0, "no comparison started during follow-up: no weights needed")
    fitted = None
    for terms in MODELS:
        if starts < EVENTS_PER_TERM * len(terms) and terms != ("const",):
            continue
        try:
            fitted = (terms, *_fit(d, terms))
            break
        except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError, ValueError):
            continue
    if fitted is None:
        return CensoringWeights(starts, (), np.zeros(0), False, np.ones(iv.n), np.zeros((iv.n, 0)),
                                np.zeros((d.n, 0)), d.group, empty, None, 0,
                                "the censoring model could not be fitted: comparisons are not reweighted")
    terms, x, coef, converged = fitted
    note = "" if terms == MODELS[0] else (
        f"only {starts} comparisons started during follow-up, too few for the full censoring model: a smaller one "
        f"({', '.join(terms)}) was used")
    prob = np.where(at_risk, 1.0 / (1.0 + np.exp(-(x @ coef))), 0.0)
    # W = prod over earlier decisions of 1 / (1 - p); dW/dcoef = W * sum p x (logistic)
    raw = np.exp(_before(d.group, d.day, -np.log1p(-prob), iv.group, iv.t0_day))
    dlog = _before(d.group, d.day, prob[:, None] * x, iv.group, iv.t0_day)
    cap = float(np.quantile(raw, TRUNCATION_QUANTILE)) if TRUNCATION_QUANTILE < 1 else None
    truncated = raw > cap if cap is not None else np.zeros(len(raw), dtype=bool)
    weight = np.where(truncated, cap if cap is not None else 0.0, raw)
    dweight = np.where(truncated[:, None], 0.0, raw[:, None] * dlog)
    f = d.matching_weight
    score = np.where(at_risk[:, None], (f * (d.trigger - prob))[:, None] * x, 0.0)
    information = (x * (f * prob * (1 - prob) * at_risk)[:, None]).T @ x
    return CensoringWeights(starts, terms, coef, converged, weight, dweight, score, d.group, information,
                            cap, int(truncated.sum()), note)


def _previous_weighted_group_means(
    *,
    names: tuple[str, ...],
    treated_values: np.ndarray,
    treated_clusters: np.ndarray,
    comparison_weight: np.ndarray,
    comparison_base: np.ndarray,
    comparison_clusters: np.ndarray,
    interval_group: np.ndarray,
    interval_values: np.ndarray,
    censoring: CensoringWeights,
) -> GroupMeans:
    """(As before issue 16's second pass: the weight-derivative block row by row.)
    Means of each measure (columns of the value arrays) for participants (weight 1)
    and for comparisons (matching weight x censoring weight), with the stacked sandwich
    covariance. ``*_clusters`` are (matched set, person) codes per participant / matched
    comparison row; ``interval_group`` maps each person-interval to its comparison row."""
    m = len(names)
    p = censoring.p
    n_t, n_c = len(treated_values), len(comparison_weight)
    w = censoring.weight
    # each comparison row's Q = base + sum_k W_k q_k, and dQ/dcoef
    q_sum = _group_sums(interval_group, w[:, None] * interval_values, n_c)
    q = comparison_base + q_sum
    total_c = float(comparison_weight.sum())
    mu_t = treated_values.mean(axis=0)
    mu_c = (comparison_weight[:, None] * q).sum(axis=0) / total_c

    # psi per atom (participant or comparison row): [censoring score | treated | comparison]
    psi = np.zeros((n_t + n_c, p + 2 * m))
    psi[:n_t, p:p + m] = treated_values - mu_t
    psi[n_t:, p + m:] = comparison_weight[:, None] * (q - mu_c)
    if p:
        psi[n_t:, :p] = _group_sums(censoring.score_group, censoring.score, n_c)
    # A = -d(sum psi)/d(theta)
    a = np.zeros((p + 2 * m, p + 2 * m))
    if p:
        a[:p, :p] = censoring.information
        for j in range(m):
            dq = censoring.dweight * interval_values[:, j:j + 1]  # rows x p
            a[p + m + j, :p] = -(comparison_weight[interval_group][:, None] * dq).sum(axis=0)
    a[p:p + m, p:p + m] = np.eye(m) * n_t
    a[p + m:, p + m:] = np.eye(m) * total_c
    clusters = np.vstack([treated_clusters, comparison_clusters])
    meat = (_cluster_meat(psi, clusters[:, :1]) + _cluster_meat(psi, clusters[:, 1:2])
            - _cluster_meat(psi, clusters))
    a_inv = np.linalg.pinv(a)
    cov = a_inv @ meat @ a_inv.T
    if np.any(np.diag(cov) < 0):  # two-way combination not positive: the larger one-way
        one = [a_inv @ _cluster_meat(psi, clusters[:, i:i + 1]) @ a_inv.T for i in (0, 1)]
        cov = one[int(np.trace(one[1]) > np.trace(one[0]))]
    return GroupMeans(names, mu_t, mu_c, cov[p:, p:])



def test_the_one_pass_weights_and_the_product_block_equal_the_previous_computation():
    """The censoring weights and their derivative summed over earlier decisions in one
    pass, and the sandwich's weight-derivative block as one matrix product, equal the
    previous two passes and row-by-row sums on fixed data."""
    n = 3000
    iv, dec, _ = simulate(n, 11)
    fast, before = censoring_weights(iv, dec), _previous_censoring_weights(iv, dec)
    assert fast.p > 1 and fast.starts > 0
    np.testing.assert_array_equal(fast.weight, before.weight)
    np.testing.assert_allclose(fast.dweight, before.dweight, rtol=1e-13, atol=1e-15)
    rng = np.random.default_rng(11)
    t = rng.poisson(1.0, (800, 2)).astype(float)
    kwargs = dict(names=("offences", "days"), treated_values=t,
                  treated_clusters=np.column_stack([np.arange(800), rng.integers(0, 2500, 800)]),
                  comparison_weight=rng.uniform(0.3, 1.0, n), comparison_base=np.zeros((n, 2)),
                  comparison_clusters=np.column_stack([rng.integers(0, 800, n), rng.integers(0, 2500, n)]),
                  interval_group=iv.group, interval_values=np.column_stack([iv.offences, iv.days_at_risk]),
                  censoring=fast)
    now, then = weighted_group_means(**kwargs), _previous_weighted_group_means(**kwargs)
    np.testing.assert_allclose(now.comparison, then.comparison, rtol=1e-13)
    np.testing.assert_allclose(now.cov, then.cov, rtol=1e-9, atol=1e-15)
