"""The hazard ratio of time to first reoffence: a Cox model stratified on matched set,
with one binary covariate (participant or comparison) and Breslow's handling of ties.

statsmodels' ``PHReg`` fits this model, but it loops over the strata in Python, slowly
with thousands of matched sets (docs/methodology.md, "Speed"). With a single binary
covariate the stratified partial likelihood needs, for each matched set and each event
time in it, only how many participants and comparisons are still at risk (``n1``,
``n0``), how many reoffend then (``d``) and how many of those are participants (``d1``):

    log L(b) = sum over (set, time) of  d1 * b - d * log(n0 + n1 * exp(b))

which is computed for every set at once from sorted arrays, and maximised by Newton's
method. The estimate, its model-based standard error (the inverse of the observed
information) and the Wald test are PHReg's; ``tests/estimate/test_cox.py`` checks that the
two agree to 1e-8 on fixed data with ties, k:1 sets and censoring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class CoxFit:
    """The log hazard ratio, its standard error, and whether Newton's method converged."""

    log_hazard_ratio: float
    se: float
    converged: bool

    def conf_int(self, alpha: float = 0.05) -> tuple[float, float]:
        z = stats.norm.ppf(1 - alpha / 2)
        return self.log_hazard_ratio - z * self.se, self.log_hazard_ratio + z * self.se

    @property
    def p_value(self) -> float:
        return float(2 * stats.norm.sf(abs(self.log_hazard_ratio / self.se)))


def _risk_set_counts(time: np.ndarray, event: np.ndarray, treated: np.ndarray,
                     strata: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each distinct (stratum, event time): comparisons and participants at risk (time
    at or after it), events, and participants' events."""
    _, stratum = np.unique(strata, return_inverse=True)
    _, time_rank = np.unique(time, return_inverse=True)
    key = stratum.astype(np.int64) * (int(time_rank.max()) + 1) + time_rank
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    t_sorted = treated[order].astype(np.int64)
    cum_t = np.concatenate([[0], np.cumsum(t_sorted)])
    cum_all = np.arange(len(key) + 1)
    stratum_sorted = stratum[order]
    # each stratum's last position + 1 in the sorted order
    stratum_end = np.searchsorted(stratum_sorted, np.arange(stratum.max() + 1), side="right")
    ev = event.astype(bool)
    times = np.unique(key[ev])
    start = np.searchsorted(key_sorted, times, side="left")  # first unit at risk at that time
    end = stratum_end[times // (int(time_rank.max()) + 1)]
    n1 = cum_t[end] - cum_t[start]
    n0 = (cum_all[end] - cum_all[start]) - n1
    group = np.searchsorted(times, key[ev])
    d = np.bincount(group, minlength=len(times)).astype(float)
    d1 = np.bincount(group, weights=treated[ev].astype(float), minlength=len(times))
    return n0.astype(float), n1.astype(float), d, d1


def stratified_cox(time: np.ndarray, event: np.ndarray, treated: np.ndarray, strata: np.ndarray,
                   *, max_iter: int = 50, tol: float = 1e-10) -> CoxFit:
    """Fit the stratified Cox model of ``time`` (with ``event`` 1, else censored) on the
    binary ``treated``, by Newton's method from 0."""
    n0, n1, d, d1 = _risk_set_counts(np.asarray(time, float), np.asarray(event), np.asarray(treated),
                                     np.asarray(strata))
    informative = (n0 > 0) & (n1 > 0)  # a time where only one group is at risk adds nothing
    n0, n1, d, d1 = n0[informative], n1[informative], d[informative], d1[informative]
    b, converged = 0.0, False
    information = 0.0
    for _ in range(max_iter):
        share = n1 * np.exp(b) / (n0 + n1 * np.exp(b))  # the participants' share of the risk
        score = float((d1 - d * share).sum())
        information = float((d * share * (1 - share)).sum())
        if information <= 0:
            break
        step = score / information
        b += step
        if abs(step) < tol:
            converged = True
            share = n1 * np.exp(b) / (n0 + n1 * np.exp(b))
            information = float((d * share * (1 - share)).sum())
            break
    se = float(np.sqrt(1 / information)) if information > 0 else float("nan")
    return CoxFit(float(b), se, converged)
