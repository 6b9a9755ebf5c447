"""Weighted group means with a sandwich variance that accounts for estimated censoring
weights (stacked estimating equations; Stefanski and Boos 2002; for IPCW, Robins and
Finkelstein 2000).

The parameters are the censoring model's coefficients and, for each measure, the
participants' mean and the comparisons' weighted mean. Their estimating equations are
stacked; the sandwich ``A^-1 B A^-T`` then carries the uncertainty of the weights into
every mean. ``B`` is clustered two ways, on matched set and on person (Cameron, Gelbach
and Miller 2011), as the project's other matched estimates are.

The comparison mean of a measure is a Horvitz-Thompson sum over its person-intervals,
``sum_i m_i (b_i + sum_k W_ik q_ik) / sum_i m_i``: ``m_i`` the matching weight, ``W_ik``
the censoring weight, ``q_ik`` the measure's amount in interval k and ``b_i`` any part
observed in full (offences before the index date).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from evaluation.estimate.censoring import CensoringWeights
from evaluation.estimate.significance import ALPHA
from evaluation.estimate.types import Estimate


@dataclass(frozen=True)
class GroupMeans:
    """Participants' and comparisons' means of each measure with their joint covariance
    (order: participants' measures, then comparisons')."""

    names: tuple[str, ...]
    treated: np.ndarray
    comparison: np.ndarray
    cov: np.ndarray

    def _index(self, name: str) -> tuple[int, int]:
        j = self.names.index(name)
        return j, len(self.names) + j

    def difference(self, plus: list[str], minus: list[str] = (), label: str = "", method: str = "") -> Estimate:
        """Participants minus comparisons of ``sum(plus) - sum(minus)`` with a normal interval."""
        m = len(self.names)
        g = np.zeros(2 * m)
        for names, sign in ((plus, 1.0), (minus, -1.0)):
            for name in names:
                t, c = self._index(name)
                g[t] += sign
                g[c] -= sign
        est = float(g[:m] @ self.treated + g[m:] @ self.comparison)
        return normal_estimate(est, float(g @ self.cov @ g), method)

    def ratio_of_rates(self, numerator: str, denominator: str, method: str = "") -> Estimate:
        """(participants' numerator / denominator) / (comparisons' ...), interval on the log scale."""
        tn, cn = self._index(numerator)
        td, cd = self._index(denominator)
        mu = np.r_[self.treated, self.comparison]
        if min(mu[tn], mu[cn], mu[td], mu[cd]) <= 0:
            return Estimate(None, (None, None), None, method + "; not estimable (no offences in a group)")
        g = np.zeros(len(mu))
        g[tn], g[td], g[cn], g[cd] = 1 / mu[tn], -1 / mu[td], -1 / mu[cn], 1 / mu[cd]
        log_rr = float(np.log(mu[tn] / mu[td]) - np.log(mu[cn] / mu[cd]))
        e = normal_estimate(log_rr, float(g @ self.cov @ g), method)
        return Estimate(float(np.exp(e.estimate)), (float(np.exp(e.ci95[0])), float(np.exp(e.ci95[1]))),
                        e.p_value, method)


def normal_estimate(est: float, var: float, method: str) -> Estimate:
    """An estimate with its normal 95% interval and two-sided p-value from its variance."""
    if not np.isfinite(var) or var <= 0:
        return Estimate(est, (None, None), None, method + "; variance not estimable")
    se = float(np.sqrt(var))
    z = stats.norm.ppf(1 - ALPHA / 2)
    return Estimate(est, (est - z * se, est + z * se), float(2 * stats.norm.sf(abs(est / se))), method)


def _group_sums(index: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """Row sums of ``values`` (n x k) by ``index`` (n codes in 0..groups-1): a bincount per
    column, which adds in the same order as ``np.add.at`` and is many times faster."""
    return np.column_stack([np.bincount(index, weights=values[:, j], minlength=groups)
                            for j in range(values.shape[1])]) if values.shape[1] else np.zeros((groups, 0))


def _cluster_codes(clusters: np.ndarray) -> tuple[int, np.ndarray]:
    """Number of distinct rows of the integer array ``clusters`` (n x 1 or n x 2) and each
    row's code: two columns are first packed into one integer key."""
    key = clusters[:, 0].astype(np.int64)
    if clusters.shape[1] == 2:
        second = clusters[:, 1].astype(np.int64)
        second = second - second.min()
        key = (key - key.min()) * (int(second.max()) + 1) + second
    codes, inverse = np.unique(key, return_inverse=True)
    return len(codes), inverse.ravel()


def _cluster_meat(psi: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """sum over clusters of (sum of psi in the cluster)(...)^T, with the G/(G-1) correction."""
    g, inverse = _cluster_codes(clusters)
    sums = _group_sums(inverse, psi, g)
    return (sums.T @ sums) * (g / (g - 1) if g > 1 else 1.0)


def weighted_group_means(
    *,
    names: tuple[str, ...],
    treated_values: np.ndarray,
    treated_clusters: np.ndarray,
    comparison_weight: np.ndarray,
    comparison_base: np.ndarray,
    comparison_clusters: np.ndarray,
    interval_group: np.ndarray,
    interval_values: np.ndarray,
    censoring: CensoringWeights | None,
) -> GroupMeans:
    """Means of each measure (columns of the value arrays) for participants (weight 1)
    and for comparisons (matching weight x censoring weight), with the stacked sandwich
    covariance. ``*_clusters`` are (matched set, person) codes per participant / matched
    comparison row; ``interval_group`` maps each person-interval to its comparison row.
    ``censoring`` None: no censoring model (every interval weighs 1; with no intervals,
    plain matching-weighted means of ``comparison_base``)."""
    m = len(names)
    p = 0 if censoring is None else censoring.p
    n_t, n_c = len(treated_values), len(comparison_weight)
    w = np.ones(len(interval_group)) if censoring is None else censoring.weight
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
        # row j: -sum over person-intervals of matching weight x value_j x dW/dcoef
        a[p + m:, :p] = -(comparison_weight[interval_group][:, None] * interval_values).T @ censoring.dweight
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
