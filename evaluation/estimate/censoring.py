"""Censoring comparisons when they start the programme, and weighting for it.

The headline contrast is *starting the programme versus not starting it within the
follow-up year* (a per-protocol contrast of an emulated target trial: Hernán and Robins
2016; sequential trials, one per eligible date, Danaei et al. 2013). A matched comparison
is eligible at its index date because it has not started yet; one who starts during its
own after window stops being a comparison on that day (it is *censored*), because its
offending from then on is a participant's.

Who starts is not random: in the data as in practice, people are referred after a
conviction and a busy year, so the comparisons left uncensored are not like the ones who
left. Inverse-probability-of-censoring weights (IPCW) correct for that. The follow-up is
cut into intervals of :data:`INTERVAL_DAYS`; a pooled logistic model (statsmodels GLM)
gives each comparison's probability of starting in each interval from the history
recorded by then (offences proven in the past year and the past 28 days, age, MAPPA/PPO,
follow-up time and calendar time); an uncensored comparison's person-time in interval k
is weighted by 1 / P(not started before k | history). Weights are not stabilised: the
headline compares the comparisons' weighted person-time with the participants'
unweighted person-time, so a time-only numerator would re-weight follow-up weeks in one
arm only. Weights above the 99.9th percentile of the comparison person-intervals are
truncated to it (Cole and Hernán 2008), and the mean, maximum and truncation are
reported. (Truncating at the 99th percentile, the textbook example, measurably undid the
correction on the project's known-truth data: the heaviest offenders are the likeliest
to start, so they need the largest weights.)

This module builds the model and the weights with their derivatives with respect to the
model's coefficients; :mod:`evaluation.estimate.stacked` uses those to give standard
errors that account for estimating the weights.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError, PerfectSeparationWarning

from evaluation.estimate.types import clean_number

#: Length of the intervals the follow-up is cut into for the censoring model.
INTERVAL_DAYS = 7
#: Person-interval weights above this quantile are truncated to it.
TRUNCATION_QUANTILE = 0.999
#: Fewer censoring events per model term than this and a smaller model is used.
EVENTS_PER_TERM = 10


@dataclass(frozen=True)
class ComparisonIntervals:
    """Matched comparisons' after windows cut into intervals: one row per matched
    comparison row (``group``, an index into the matched rows) and interval, in order of
    group then interval. Rows stop at the interval a comparison starts the programme in."""

    group: np.ndarray
    interval: np.ndarray
    t0_day: np.ndarray
    days_at_risk: np.ndarray
    offences: np.ndarray
    first_offence: np.ndarray
    starts: np.ndarray
    in_start_range: np.ndarray
    proven_365: np.ndarray
    proven_28: np.ndarray
    age: np.ndarray
    high_risk: np.ndarray
    offences_before: np.ndarray
    matching_weight: np.ndarray  # the matched row's weight, repeated over its intervals

    @property
    def n(self) -> int:
        return len(self.group)


def _design(iv: ComparisonIntervals, terms: tuple[str, ...]) -> np.ndarray:
    """The censoring model's columns (each non-constant one standardised)."""
    log365 = np.log1p(iv.proven_365.astype(float))
    recent = (iv.proven_28 > 0).astype(float)
    calendar = iv.t0_day.astype(float)
    week = (iv.interval * INTERVAL_DAYS) // 7
    available = {
        "follow-up week 0": (week == 0).astype(float),
        "follow-up weeks 1-3": ((week >= 1) & (week <= 3)).astype(float),
        "follow-up weeks 4-12": ((week >= 4) & (week <= 12)).astype(float),
        "follow-up weeks 13-25": ((week >= 13) & (week <= 25)).astype(float),
        "calendar time": calendar,
        "calendar time squared": (calendar - calendar.mean()) ** 2,
        "log(1 + offences proven in past 365 days)": log365,
        "offence proven in past 28 days": recent,
        "recent x log(1 + proven in past 365 days)": recent * log365,
        "log(1 + offences proven in past 28 days)": np.log1p(iv.proven_28.astype(float)),
        "under 25": (iv.age < 25).astype(float),
        "MAPPA or PPO": iv.high_risk.astype(float),
        "log(1 + offences in the before window)": np.log1p(iv.offences_before.astype(float)),
    }
    cols = [np.ones(iv.n)]
    for term in terms[1:]:
        x = available[term]
        sd = x.std()
        cols.append((x - x.mean()) / sd if sd > 0 else x * 0.0)
    return np.column_stack(cols)


#: The censoring model's terms, largest first; a smaller one is used when there are fewer
#: than EVENTS_PER_TERM starts per term (follow-up weeks 26+ are the reference).
MODELS: tuple[tuple[str, ...], ...] = (
    ("const", "follow-up week 0", "follow-up weeks 1-3", "follow-up weeks 4-12", "follow-up weeks 13-25",
     "calendar time", "calendar time squared", "log(1 + offences proven in past 365 days)",
     "offence proven in past 28 days", "recent x log(1 + proven in past 365 days)",
     "log(1 + offences proven in past 28 days)", "under 25", "MAPPA or PPO",
     "log(1 + offences in the before window)"),
    ("const", "follow-up week 0", "follow-up weeks 1-3", "log(1 + offences proven in past 365 days)",
     "offence proven in past 28 days", "under 25", "MAPPA or PPO"),
    ("const", "follow-up week 0", "offence proven in past 28 days", "log(1 + offences proven in past 365 days)"),
    ("const",),
)


@dataclass(frozen=True)
class CensoringWeights:
    """The censoring model and each comparison person-interval's weight.

    Attributes
    ----------
    starts : comparisons (matched rows) censored because they started during follow-up.
    terms, coef : the pooled model's terms and coefficients (per SD of each term).
    weight : each person-interval's weight 1 / P(not started before the interval | history),
        truncated at ``truncated_at``.
    dweight : d weight / d coef (rows x terms); 0 where truncated.
    score : each person-interval's contribution to the model's score equations.
    information : the model's (weighted) Fisher information.
    """

    starts: int
    terms: tuple[str, ...]
    coef: np.ndarray
    converged: bool
    weight: np.ndarray
    dweight: np.ndarray
    score: np.ndarray
    information: np.ndarray
    truncated_at: float | None
    truncated_rows: int
    note: str

    @property
    def p(self) -> int:
        return len(self.coef)

    def to_dict(self) -> dict:
        w = self.weight
        return {
            "method": "inverse probability of censoring weights from a pooled complementary log-log model "
                      f"(statsmodels GLM) on {INTERVAL_DAYS}-day intervals, from the history recorded before each; "
                      f"not stabilised; truncated at the {TRUNCATION_QUANTILE:.1%} quantile",
            "comparisons_censored": self.starts,
            "terms": list(self.terms),
            "coefficients": {t: clean_number(float(c)) for t, c in zip(self.terms, self.coef)},
            "converged": self.converged,
            "weight_mean": clean_number(float(w.mean())) if len(w) else None,
            "weight_max": clean_number(float(w.max())) if len(w) else None,
            "truncated_at": clean_number(self.truncated_at),
            "truncated_person_intervals": self.truncated_rows,
            "note": self.note,
        }


def _grouped_exclusive_cumsum(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """For rows sorted by group: the sum of ``values`` over the group's earlier rows."""
    total = np.cumsum(values, axis=0)
    exclusive = total - values
    first = np.r_[True, group[1:] != group[:-1]]
    start_of_row = np.maximum.accumulate(np.where(first, np.arange(len(group)), 0))
    return exclusive - exclusive[start_of_row]


def _fit(iv: ComparisonIntervals, terms: tuple[str, ...]):
    x = _design(iv, terms)
    at_risk = iv.in_start_range.astype(bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", PerfectSeparationWarning)
        fit = sm.GLM(iv.starts[at_risk].astype(float), x[at_risk],
                     family=sm.families.Binomial(link=sm.families.links.CLogLog()),
                     freq_weights=iv.matching_weight[at_risk]).fit()
    coef = np.asarray(fit.params, dtype=float)
    if not np.all(np.isfinite(coef)) or np.abs(coef).max() > 30:
        raise PerfectSeparationError("coefficients diverge")
    return x, coef, bool(fit.converged)


def censoring_weights(iv: ComparisonIntervals) -> CensoringWeights:
    """Fit the censoring model and weight every comparison person-interval."""
    starts = int(iv.starts.sum())
    at_risk = iv.in_start_range.astype(bool)
    none = CensoringWeights(0, (), np.zeros(0), True, np.ones(iv.n), np.zeros((iv.n, 0)), np.zeros((iv.n, 0)),
                            np.zeros((0, 0)), None, 0, "no comparison started during follow-up: no weights needed")
    if starts == 0 or not at_risk.any():
        return none
    note = ""
    fitted = None
    for terms in MODELS:
        if starts < EVENTS_PER_TERM * len(terms) and terms != ("const",):
            continue
        try:
            fitted = (terms, *_fit(iv, terms))
            break
        except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError, ValueError):
            continue
    if fitted is None:  # even the intercept alone separates (every at-risk interval starts)
        return CensoringWeights(starts, (), np.zeros(0), False, np.ones(iv.n), np.zeros((iv.n, 0)),
                                np.zeros((iv.n, 0)), np.zeros((0, 0)), None, 0,
                                "the censoring model could not be fitted: comparisons are not reweighted")
    terms, x, coef, converged = fitted
    if terms != MODELS[0]:
        note = (f"only {starts} comparisons started during follow-up, too few for the full censoring model: "
                f"a smaller one ({', '.join(terms)}) was used")
    # complementary log-log link (a grouped-time proportional hazards model): the
    # interval's cumulative hazard is exp(eta), h = 1 - exp(-exp(eta)), so
    # W_k = prod_{l<k} 1 / (1 - h_l) = exp(sum_{l<k} exp(eta_l)), dW_k/dcoef = W_k sum_{l<k} exp(eta_l) x_l
    eta = np.clip(x @ coef, -50, 5)
    rate = np.where(at_risk, np.exp(eta), 0.0)
    h = -np.expm1(-rate)
    raw = np.exp(_grouped_exclusive_cumsum(rate, iv.group))
    dlog = _grouped_exclusive_cumsum(rate[:, None] * x, iv.group)
    cap = float(np.quantile(raw, TRUNCATION_QUANTILE))
    truncated = raw > cap
    weight = np.where(truncated, cap, raw)
    dweight = np.where(truncated[:, None], 0.0, raw[:, None] * dlog)
    f = iv.matching_weight
    # binomial score and information under the cloglog link, dh/deta = rate (1 - h):
    # score = x (c - h) rate / h, information = x x' rate^2 (1 - h) / h
    safe_h = np.where(h > 0, h, 1.0)
    g = np.where(at_risk, rate / safe_h, 0.0)
    score = (f * g * (iv.starts - h))[:, None] * x
    information = (x * (f * g * rate * (1 - h))[:, None]).T @ x
    return CensoringWeights(starts, terms, coef, converged, weight, dweight, score, information,
                            cap, int(truncated.sum()), note)
