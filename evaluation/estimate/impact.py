"""Impact estimates on a matched sample: the Justice Data Lab's measures, with inference
that accounts for the matching.

Every comparison is treated minus matched comparison, estimated by a weighted regression
on the matched rows (participants weight 1; each of a participant's m comparisons weight
1/m) with standard errors clustered on the matched set (as MatchIt's documentation
recommends) and on the person, because in the risk-set pool one person can be
several units. statsmodels does the fitting; this module only arranges the data and reads
the results.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import statsmodels.api as sm
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.tools.sm_exceptions import SpecificationWarning

from evaluation.estimate.types import Estimate, TestResult, clean_number
from evaluation.estimate.significance import ALPHA

#: The Justice Data Lab's minimum cohort size; smaller cohorts get a warning.
MIN_PARTICIPANTS = 60
#: Time to first reoffence is shown only with at least this many reoffending participants.
MIN_REOFFENDERS_FOR_TIME = 30


@dataclass(frozen=True)
class MatchedData:
    """The matched rows' outcomes as arrays (one row per unit in each matched set)."""

    treat: np.ndarray
    weight: np.ndarray
    subclass: np.ndarray
    unit: np.ndarray
    person: np.ndarray  # integer code of the person (one person can be several units)
    offences_before: np.ndarray
    offences_after: np.ndarray
    days_at_risk_after: np.ndarray
    first_after_day: np.ndarray  # NaN when no counted offence in the after window
    after_days: int
    replace: bool

    @property
    def reoffended(self) -> np.ndarray:
        return (self.offences_after > 0).astype(float)

    def clusters(self) -> np.ndarray:
        """Two-way clusters: matched set, and person (a person can be in several sets: as a
        reused comparison, at several index dates, or as a participant and, earlier, a comparison)."""
        return np.column_stack([self.subclass, self.person])


@dataclass(frozen=True)
class GroupComparison:
    """A measure for both groups and their difference (treated minus comparison)."""

    treated: float
    comparison: float
    difference: Estimate

    def to_dict(self) -> dict:
        d = self.difference.to_dict()
        return {
            "treated": clean_number(self.treated),
            "comparison": clean_number(self.comparison),
            "difference": d["estimate"],
            "ci95": d["ci95"],
            "p_value": d["p_value"],
            "method": d["method"],
        }


def weighted_difference(y: np.ndarray, data: MatchedData, label: str = "difference in means") -> GroupComparison:
    """Treated mean, weighted comparison mean and their difference with a cluster-robust CI."""
    x = sm.add_constant(data.treat.astype(float))
    fit = sm.WLS(y, x, weights=data.weight).fit(
        cov_type="cluster", cov_kwds={"groups": data.clusters()}, use_t=True
    )
    lo, hi = fit.conf_int(alpha=ALPHA)[1]
    t, c = data.treat == 1, data.treat == 0
    return GroupComparison(
        treated=float(np.average(y[t], weights=data.weight[t])),
        comparison=float(np.average(y[c], weights=data.weight[c])),
        difference=Estimate(float(fit.params[1]), (float(lo), float(hi)), float(fit.pvalues[1]),
                            f"{label}: weighted least squares, SE clustered on matched set and person"),
    )


def matched_rate_ratio(data: MatchedData) -> Estimate:
    """Offences per day at risk in the after window, participants over comparisons
    (Poisson GLM with matching weights, log days at risk as offset, clustered SE)."""
    keep = data.days_at_risk_after > 0
    x = sm.add_constant(data.treat[keep].astype(float))
    weights = data.weight[keep]
    weighted = not np.all(weights == 1.0)  # 1:1 without replacement needs no weights
    with warnings.catch_warnings():
        # statsmodels warns that cluster SEs with var_weights are approximate: the method says so
        warnings.simplefilter("ignore", SpecificationWarning)
        fit = sm.GLM(
            data.offences_after[keep].astype(float), x, family=sm.families.Poisson(),
            offset=np.log(data.days_at_risk_after[keep].astype(float)), var_weights=weights if weighted else None,
        ).fit(cov_type="cluster", cov_kwds={"groups": data.clusters()[keep]})
    lo, hi = np.exp(fit.conf_int(alpha=ALPHA)[1])
    method = "Poisson GLM with days at risk, SE clustered on matched set and person"
    if weighted:
        method += "; matching weights as variance weights (statsmodels: cluster SE approximate with weights)"
    return Estimate(float(np.exp(fit.params[1])), (float(lo), float(hi)), float(fit.pvalues[1]), method)


@dataclass(frozen=True)
class SurvivalResult:
    """Time to first proven reoffence within the after window."""

    reoffenders_treated: int
    shown: bool
    reason: str
    curves: dict = field(default_factory=dict)  # group -> {"days": [...], "survival": [...], "at_risk": [...]}
    logrank: TestResult | None = None
    hazard_ratio: Estimate | None = None

    def to_dict(self) -> dict:
        return {
            "reoffenders_treated": self.reoffenders_treated,
            "shown": self.shown,
            "reason": self.reason,
            "logrank": None if self.logrank is None else self.logrank.to_dict(),
            "hazard_ratio": None if self.hazard_ratio is None else self.hazard_ratio.to_dict(),
            "curves": {
                group: {k: [clean_number(v) for v in values] for k, values in curve.items()}
                for group, curve in self.curves.items()
            },
        }


def time_to_first_reoffence(data: MatchedData) -> SurvivalResult:
    """Kaplan-Meier curves (weighted), a log-rank test and a Cox hazard ratio stratified on
    matched set (which handles k:1 and reused comparisons without case weights, which
    statsmodels' PHReg does not take)."""
    event = ~np.isnan(data.first_after_day)
    time = np.where(event, np.nan_to_num(data.first_after_day) + 1, data.after_days)
    reoffenders = int((event & (data.treat == 1)).sum())
    if reoffenders < MIN_REOFFENDERS_FOR_TIME:
        return SurvivalResult(reoffenders, False, f"fewer than {MIN_REOFFENDERS_FOR_TIME} participants reoffended "
                              "(Justice Data Lab practice: time to first reoffence is not shown)")
    curves = {}
    for name, group in (("treated", data.treat == 1), ("comparison", data.treat == 0)):
        sf = SurvfuncRight(time[group], event[group].astype(float), freq_weights=data.weight[group])
        curves[name] = {
            "days": sf.surv_times.tolist(),
            "survival": sf.surv_prob.tolist(),
            "at_risk": sf.n_risk.tolist(),
        }
    stat, p = survdiff(time, event.astype(float), data.treat)
    cox = PHReg(time, data.treat.astype(float)[:, None], status=event.astype(float), strata=data.subclass).fit()
    lo, hi = np.exp(cox.conf_int(alpha=ALPHA)[0])
    return SurvivalResult(
        reoffenders, True, "",
        curves,
        TestResult(float(stat), float(p), "log-rank test on the matched sample (unweighted)"),
        Estimate(float(np.exp(cox.params[0])), (float(lo), float(hi)), float(cox.pvalues[0]),
                 "Cox proportional hazards, stratified on matched set"),
    )


def percent_change(before: np.ndarray, after: np.ndarray, weight: np.ndarray) -> float | None:
    b = float((before * weight).sum())
    return None if b == 0 else 100.0 * (float((after * weight).sum()) / b - 1.0)


@dataclass(frozen=True)
class ImpactResult:
    """What the programme changed, estimated on the matched sample."""

    treated: int
    comparison: int
    reoffending_rate: GroupComparison
    frequency: GroupComparison
    rate_ratio: Estimate
    difference_in_differences: GroupComparison
    treated_percent_change: float | None
    comparison_percent_change: float | None
    survival: SurvivalResult
    warnings: tuple[str, ...]
    #: matched comparisons who started the programme during their own after window
    contaminated_comparisons: int | None = None

    def to_dict(self) -> dict:
        return {
            "treated": self.treated,
            "comparison": self.comparison,
            "reoffending_rate": self.reoffending_rate.to_dict(),
            "frequency": self.frequency.to_dict(),
            "rate_ratio": self.rate_ratio.to_dict(),
            "difference_in_differences": self.difference_in_differences.to_dict(),
            "treated_percent_change": clean_number(self.treated_percent_change),
            "comparison_percent_change": clean_number(self.comparison_percent_change),
            "time_to_first_reoffence": self.survival.to_dict(),
            "warnings": list(self.warnings),
            **({} if self.contaminated_comparisons is None else {"contaminated_comparisons": self.contaminated_comparisons}),
        }

    def brief(self) -> str:
        return self.rate_ratio.summary("rate ratio", "{:.2f}")

    def summary(self) -> str:
        r, f = self.reoffending_rate, self.frequency
        lines = [
            f"Matched comparison: {self.treated:,} participants, {self.comparison:,} comparisons",
            f"  reoffending rate: {r.treated:.1%} vs {r.comparison:.1%}; "
            + r.difference.summary("difference", "{:+.3f}"),
            f"  offences per person: {f.treated:.2f} vs {f.comparison:.2f}; "
            + f.difference.summary("difference", "{:+.2f}"),
            "  " + self.rate_ratio.summary("rate ratio", "{:.2f}"),
            f"  before/after change: participants {self.treated_percent_change:+.1f}%, "
            f"comparisons {self.comparison_percent_change:+.1f}%",
        ]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def estimate_impact(data: MatchedData, *, contaminated_comparisons: int | None = None) -> ImpactResult:
    """The Justice Data Lab's measures on the matched sample."""
    t = data.treat == 1
    warnings = []
    n_treated = int(t.sum())
    if n_treated < MIN_PARTICIPANTS:
        warnings.append(f"fewer than {MIN_PARTICIPANTS} matched participants (the Justice Data Lab's minimum): "
                        "estimates this small are very uncertain")
    return ImpactResult(
        treated=n_treated,
        comparison=int(np.unique(data.unit[~t]).size),
        reoffending_rate=weighted_difference(data.reoffended, data, "difference in proportions"),
        frequency=weighted_difference(data.offences_after.astype(float), data, "difference in means"),
        rate_ratio=matched_rate_ratio(data),
        difference_in_differences=weighted_difference(
            (data.offences_after - data.offences_before).astype(float), data, "difference in per-person change"
        ),
        treated_percent_change=percent_change(data.offences_before[t], data.offences_after[t], data.weight[t]),
        comparison_percent_change=percent_change(data.offences_before[~t], data.offences_after[~t], data.weight[~t]),
        survival=time_to_first_reoffence(data),
        warnings=tuple(warnings),
        contaminated_comparisons=contaminated_comparisons,
    )


def matched_difference(y: np.ndarray, matches, label: str = "difference in means") -> GroupComparison:
    """Treated minus matched-comparison mean of ``y`` (one value per input row) for a
    matcher's ``matches_`` table, with SE clustered on matched set and on row (a row
    reused with replacement is one cluster)."""
    rows = matches["row"].to_numpy()
    data = MatchedData(
        treat=matches["treat"].to_numpy().astype(np.int8),
        weight=matches["weight"].to_numpy(),
        subclass=matches["subclass"].to_numpy(),
        unit=rows,
        person=rows,
        offences_before=np.zeros(len(rows)),
        offences_after=np.zeros(len(rows)),
        days_at_risk_after=np.ones(len(rows)),
        first_after_day=np.full(len(rows), np.nan),
        after_days=1,
        replace=True,
    )
    return weighted_difference(np.asarray(y, dtype=float)[rows], data, label)
