"""Censoring comparisons when they start the programme, and weighting for it.

The headline contrast is *starting the programme versus not starting it within the
follow-up year* (a per-protocol contrast of an emulated target trial: Hernán and Robins
2016; sequential trials, one per eligible date, Danaei et al. 2013). A matched comparison
is eligible at its index date because it has not started yet; one who starts during its
own after window stops being a comparison (it is *censored*), because its offending from
then on is a participant's.

Who starts is not random: people are referred after a conviction, more readily after a
busy year, so the comparisons left uncensored are not like the ones who left.
Inverse-probability-of-censoring weights (IPCW) correct for that. The censoring is placed
where the choice is made: at the *referral decision*, the proven offence (conviction or
caution) that a start followed within :data:`REFERRAL_DAYS`. Every proven offence of a
comparison in its follow-up (and the :data:`REFERRAL_DAYS` before its index date) is a
decision, referred or not; a logistic model (statsmodels GLM) of "this decision led to a
start" on the record the referrer read then (offences proven in the past year, offences
proven that day, age, MAPPA/PPO, offences in the before window, calendar time) gives each
decision's probability p, and an uncensored comparison's person-time after decisions
d1..dk is weighted by prod 1 / (1 - p_j). Censoring at the start date instead, with a
hazard per week, leaves a latent "referred, not yet started" state the records cannot
show: on the project's known-truth data that version corrected only part of the bias,
and less the commoner referral was.

Weights are not stabilised: the headline compares the comparisons' weighted person-time
with the participants' unweighted person-time. They are not truncated either
(:data:`TRUNCATION_QUANTILE` is 1): truncating at the 99th or 99.9th percentile (Cole and
Hernán 2008) measurably undid the correction on the project's known-truth data, because
the heaviest offenders are the likeliest to be referred and need the largest weights.
Their mean and maximum are reported.

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

#: Length of the intervals the follow-up is cut into.
INTERVAL_DAYS = 7
#: A start follows the referral decision (a proven offence) within this many days.
REFERRAL_DAYS = 28
#: Person-interval weights above this quantile are truncated to it (1: none are).
TRUNCATION_QUANTILE = 1.0
#: Fewer censoring events per model term than this and a smaller model is used.
EVENTS_PER_TERM = 10


@dataclass(frozen=True)
class ComparisonIntervals:
    """Matched comparisons' after windows cut into intervals: one row per matched
    comparison row (``group``, an index into the matched rows) and interval, in order of
    group then interval. Rows stop at the referral decision that led to a start."""

    group: np.ndarray
    interval: np.ndarray
    t0_day: np.ndarray
    days_at_risk: np.ndarray
    offences: np.ndarray
    first_offence: np.ndarray
    starts: np.ndarray
    matching_weight: np.ndarray  # the matched row's weight, repeated over its intervals

    @property
    def n(self) -> int:
        return len(self.group)


@dataclass(frozen=True)
class ReferralDecisions:
    """Matched comparisons' referral decisions (proven offences), one row per matched
    comparison row (``group``) and day, in order; ``trigger`` marks the one a start followed."""

    group: np.ndarray
    day: np.ndarray
    trigger: np.ndarray
    proven_that_day: np.ndarray
    proven_365: np.ndarray
    age: np.ndarray
    high_risk: np.ndarray
    offences_before: np.ndarray
    in_start_range: np.ndarray
    matching_weight: np.ndarray

    @property
    def n(self) -> int:
        return len(self.group)


def _design(d: ReferralDecisions, terms: tuple[str, ...]) -> np.ndarray:
    """The decision model's columns (each non-constant one standardised)."""
    calendar = d.day.astype(float)
    available = {
        "log(1 + offences proven in past 365 days)": np.log1p(d.proven_365.astype(float)),
        "log(offences proven that day)": np.log(np.maximum(d.proven_that_day, 1).astype(float)),
        "under 25": (d.age < 25).astype(float),
        "MAPPA or PPO": d.high_risk.astype(float),
        "log(1 + offences in the before window)": np.log1p(d.offences_before.astype(float)),
        "calendar time": calendar,
        "calendar time squared": (calendar - calendar.mean()) ** 2,
    }
    cols = [np.ones(d.n)]
    for term in terms[1:]:
        x = available[term]
        sd = x.std()
        cols.append((x - x.mean()) / sd if sd > 0 else x * 0.0)
    return np.column_stack(cols)


#: The decision model's terms, largest first; a smaller one is used when there are fewer
#: than EVENTS_PER_TERM starts per term.
MODELS: tuple[tuple[str, ...], ...] = (
    ("const", "log(1 + offences proven in past 365 days)", "log(offences proven that day)", "under 25",
     "MAPPA or PPO", "log(1 + offences in the before window)", "calendar time", "calendar time squared"),
    ("const", "log(1 + offences proven in past 365 days)", "under 25", "MAPPA or PPO"),
    ("const", "log(1 + offences proven in past 365 days)"),
    ("const",),
)


@dataclass(frozen=True)
class CensoringWeights:
    """The decision model and each comparison person-interval's weight.

    Attributes
    ----------
    starts : comparisons (matched rows) censored at a referral decision that led to a start.
    terms, coef : the model's terms and coefficients (per SD of each term).
    weight : each person-interval's weight prod 1 / (1 - p) over the decisions before it,
        truncated at ``truncated_at``.
    dweight : d weight / d coef (rows x terms); 0 where truncated.
    score, score_group : each decision's contribution to the model's score equations, and
        the comparison row it belongs to.
    information : the model's (weighted) Fisher information.
    """

    starts: int
    terms: tuple[str, ...]
    coef: np.ndarray
    converged: bool
    weight: np.ndarray
    dweight: np.ndarray
    score: np.ndarray
    score_group: np.ndarray
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
            "method": "inverse probability of censoring weights: comparisons censored at the referral decision "
                      f"(a proven offence) that a start followed within {REFERRAL_DAYS} days; a logistic model "
                      "(statsmodels GLM) of each decision on the record read then; not stabilised; "
                      + ("not truncated" if TRUNCATION_QUANTILE >= 1 else
                         f"truncated at the {TRUNCATION_QUANTILE:.1%} quantile of the person-intervals"),
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


def _fit(d: ReferralDecisions, terms: tuple[str, ...]):
    x = _design(d, terms)
    at_risk = d.in_start_range.astype(bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", PerfectSeparationWarning)
        fit = sm.GLM(d.trigger[at_risk].astype(float), x[at_risk], family=sm.families.Binomial(),
                     freq_weights=d.matching_weight[at_risk]).fit()
    coef = np.asarray(fit.params, dtype=float)
    if not np.all(np.isfinite(coef)) or np.abs(coef).max() > 30:
        raise PerfectSeparationError("coefficients diverge")
    return x, coef, bool(fit.converged)


def _before(d_group: np.ndarray, d_day: np.ndarray, values: np.ndarray, group: np.ndarray,
            day: np.ndarray) -> np.ndarray:
    """For each (group, day): the sum of ``values`` over that group's decisions before ``day``
    (decisions sorted by group then day)."""
    big = np.int64(1) << 32
    keys = d_group.astype(np.int64) * big + d_day.astype(np.int64)
    total = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])
    upto = np.searchsorted(keys, group.astype(np.int64) * big + day.astype(np.int64), side="left")
    # each group's first decision, searched once per run of equal groups, not once per row
    # (the rows come sorted by group, so a run is a group)
    change = np.r_[True, group[1:] != group[:-1]] if len(group) else np.zeros(0, dtype=bool)
    first = np.searchsorted(keys, group[change].astype(np.int64) * big, side="left")[np.cumsum(change) - 1]
    return total[upto] - total[first]


def censoring_weights(iv: ComparisonIntervals, decisions: ReferralDecisions) -> CensoringWeights:
    """Fit the decision model and weight every comparison person-interval."""
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
    # W = prod over earlier decisions of 1 / (1 - p); dW/dcoef = W * sum p x (logistic);
    # both sums in one pass over the decisions
    sums = _before(d.group, d.day, np.column_stack([-np.log1p(-prob), prob[:, None] * x]), iv.group, iv.t0_day)
    raw, dlog = np.exp(sums[:, 0]), sums[:, 1:]
    cap = float(np.quantile(raw, TRUNCATION_QUANTILE)) if TRUNCATION_QUANTILE < 1 else None
    truncated = raw > cap if cap is not None else np.zeros(len(raw), dtype=bool)
    weight = np.where(truncated, cap if cap is not None else 0.0, raw)
    dweight = np.where(truncated[:, None], 0.0, raw[:, None] * dlog)
    f = d.matching_weight
    score = np.where(at_risk[:, None], (f * (d.trigger - prob))[:, None] * x, 0.0)
    information = (x * (f * prob * (1 - prob) * at_risk)[:, None]).T @ x
    return CensoringWeights(starts, terms, coef, converged, weight, dweight, score, d.group, information,
                            cap, int(truncated.sum()), note)
