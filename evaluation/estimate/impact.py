"""Impact estimates on a matched sample: the Justice Data Lab's measures, with inference
that accounts for the matching and for comparisons who start the programme later.

The headline estimand is the effect on participants of starting the programme versus not
starting it within the follow-up year. Some matched comparisons start during their own
after window. The rate ratio, offences per person and the difference in differences use a
structural model of the programme's effect (:mod:`evaluation.estimate.structural`): a
comparison's offences after its own start count as untreated once divided by the
estimated rate ratio. The reoffending rate (a yes/no measure the structural model cannot
undo person by person) censors those comparisons at the referral that led to the start
and reweights the rest (:mod:`evaluation.estimate.censoring`), with a sandwich variance
that accounts for estimating the weights (:mod:`evaluation.estimate.stacked`); that
method's rate ratio is kept beside the headline as a sensitivity result.
Participants weight 1; each of a participant's m comparisons weights 1/m.

The comparison without any correction, "starting now versus not yet" (comparisons who
start later keep their whole after window as if untreated), is kept as a labelled
sensitivity result: weighted regressions on the matched rows (statsmodels WLS and a
Poisson GLM) with standard errors clustered on matched set (as MatchIt's documentation
recommends) and on person, because in the risk-set pool one person can be several units.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field

import numpy as np
import statsmodels.api as sm
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.tools.sm_exceptions import SpecificationWarning

from evaluation.estimate.censoring import CensoringWeights, ComparisonIntervals, ReferralDecisions, censoring_weights
from evaluation.estimate.cox import stratified_cox
from evaluation.estimate.significance import ALPHA
from evaluation.estimate.stacked import GroupMeans, weighted_group_means
from evaluation.estimate.structural import ASSUMPTION, StructuralFit, fit_structural
from evaluation.estimate.types import Estimate, TestResult, clean_number

#: The Justice Data Lab's minimum cohort size; smaller cohorts get a warning.
MIN_PARTICIPANTS = 60
#: With this many matched participants or fewer every output labels the headline exploratory:
#: on the project's null data, two of 24 programmes of 57-92 participants gave significant
#: "harmful" rate ratios (1.74 and 1.68; issue 39, finding 3), about twice the nominal 5%;
#: the issue asks that every programme of 60-100 participants be so labelled.
EXPLORATORY_UP_TO = 100
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
    #: days from the index date to a comparison's later start (NaN: none recorded)
    start_day: np.ndarray | None = None
    #: the comparisons' after windows in intervals, for the censoring weights (None: no
    #: censoring, as for a table matched outside the pipeline)
    intervals: ComparisonIntervals | None = None
    #: the comparisons' referral decisions, for the censoring model
    decisions: ReferralDecisions | None = None
    #: offences of the after window committed on or after a comparison's own later start
    #: (0 for participants and for comparisons who did not start), for the structural estimate
    offences_after_start: np.ndarray | None = None

    @property
    def reoffended(self) -> np.ndarray:
        return (self.offences_after > 0).astype(float)

    @functools.cached_property
    def censoring(self) -> CensoringWeights | None:
        """The comparisons' censoring weights (None without intervals), fitted on first use:
        the estimate and the checks that read the same sample share one fit."""
        if self.intervals is None:
            return None
        return censoring_weights(self.intervals, self.decisions)

    @functools.cached_property
    def structural(self) -> StructuralFit | None:
        """The structural estimate (None without the comparisons' offences after their own
        start), made on first use and shared by the estimate and the checks."""
        return fit_structural(self)

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
    matched set (which handles k:1 and reused comparisons without case weights;
    :func:`evaluation.estimate.cox.stratified_cox`, equal to statsmodels' PHReg)."""
    event = ~np.isnan(data.first_after_day)
    time = np.where(event, np.nan_to_num(data.first_after_day) + 1, data.after_days).astype(float)
    if data.start_day is not None:  # a comparison who starts is censored on its start date
        starts = (data.treat == 0) & ~np.isnan(data.start_day) & (data.start_day < data.after_days)
        cut = np.maximum(np.nan_to_num(data.start_day), 0.0)
        stopped = starts & (time > cut)
        event = event & ~stopped
        time = np.where(stopped, np.maximum(cut, 0.5), time)
    reoffenders = int((event & (data.treat == 1)).sum())
    if reoffenders < MIN_REOFFENDERS_FOR_TIME:
        return SurvivalResult(reoffenders, False, f"fewer than {MIN_REOFFENDERS_FOR_TIME} participants reoffended "
                              "(Justice Data Lab practice: time to first reoffence is not shown)")
    curves = {}
    for name, group in (("treated", data.treat == 1), ("comparison", data.treat == 0)):
        sf = SurvfuncRight(time[group], event[group].astype(float), freq_weights=data.weight[group])
        lower, upper = _log_band(sf.surv_prob, sf.surv_prob_se)
        curves[name] = {
            "days": sf.surv_times.tolist(),
            "survival": sf.surv_prob.tolist(),
            "lower": lower.tolist(),
            "upper": upper.tolist(),
            "at_risk": sf.n_risk.tolist(),
        }
    stat, p = survdiff(time, event.astype(float), data.treat)
    cox = stratified_cox(time, event, data.treat, data.subclass)
    method = "Cox proportional hazards, stratified on matched set (Breslow ties)" + _censor_note(data)
    if cox.converged and np.isfinite(cox.se):
        lo, hi = np.exp(cox.conf_int(ALPHA))
        hazard_ratio = Estimate(float(np.exp(cox.log_hazard_ratio)), (float(lo), float(hi)), cox.p_value, method)
    else:
        hazard_ratio = Estimate(None, (None, None), None, method + "; not estimable (the fit did not converge)")
    return SurvivalResult(
        reoffenders, True, "",
        curves,
        TestResult(float(stat), float(p), "log-rank test on the matched sample (unweighted)" + _censor_note(data)),
        hazard_ratio,
    )


def _log_band(surv: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise 95% band for a Kaplan-Meier curve from statsmodels' Greenwood standard
    errors, on the log scale (R survival's default, conf.type = "log"), capped at 1."""
    z = stats.norm.ppf(1 - ALPHA / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(surv > 0, z * se / surv, np.nan)
    return np.clip(surv * np.exp(-half), 0, 1), np.clip(surv * np.exp(half), 0, 1)


def _censor_note(data: MatchedData) -> str:
    return "" if data.start_day is None else "; comparisons censored when they start (not reweighted)"


def percent_change(before: np.ndarray, after: np.ndarray, weight: np.ndarray) -> float | None:
    b = float((before * weight).sum())
    return None if b == 0 else 100.0 * (float((after * weight).sum()) / b - 1.0)


#: What the headline estimates, in words (the report and results.json say it).
ESTIMAND = ("the effect on participants of starting the programme versus not starting it within the follow-up "
            "year: matched comparisons who start during their own follow-up count their offences after the start "
            "divided by the estimated rate ratio (a structural model of the programme's effect; it assumes "
            + ASSUMPTION + ")")
#: The censoring-weights alternative, a sensitivity result.
IPCW = ("starting versus not starting, with comparisons who start censored at the referral that led to the start "
        "and the rest reweighted for it (inverse probability of censoring weights)")
UNCORRECTED = ("starting now versus not yet: comparisons who start the programme later keep their whole "
               "follow-up, so some of their offending is a participant's (biased towards no effect)")


@dataclass(frozen=True)
class UncorrectedResult:
    """The comparison without censoring ("starting now versus not yet"), a sensitivity result."""

    reoffending_rate: GroupComparison
    frequency: GroupComparison
    rate_ratio: Estimate

    def to_dict(self) -> dict:
        return {"estimand": UNCORRECTED, "reoffending_rate": self.reoffending_rate.to_dict(),
                "frequency": self.frequency.to_dict(), "rate_ratio": self.rate_ratio.to_dict()}


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
    censoring: CensoringWeights | None = None
    uncorrected: UncorrectedResult | None = None
    structural: StructuralFit | None = None
    #: the rate ratio with censoring weights instead of the structural model (sensitivity)
    ipcw_rate_ratio: Estimate | None = None

    @property
    def estimand(self) -> str:
        return ESTIMAND if self.structural is not None else UNCORRECTED

    @property
    def exploratory(self) -> bool:
        """Too few matched participants for the headline to be more than exploratory."""
        return self.treated <= EXPLORATORY_UP_TO

    def to_dict(self) -> dict:
        return {
            "estimand": self.estimand,
            "treated": self.treated,
            "comparison": self.comparison,
            "exploratory": self.exploratory,
            "reoffending_rate": self.reoffending_rate.to_dict(),
            "frequency": self.frequency.to_dict(),
            "rate_ratio": self.rate_ratio.to_dict(),
            "difference_in_differences": self.difference_in_differences.to_dict(),
            "treated_percent_change": clean_number(self.treated_percent_change),
            "comparison_percent_change": clean_number(self.comparison_percent_change),
            "time_to_first_reoffence": self.survival.to_dict(),
            "warnings": list(self.warnings),
            **({} if self.contaminated_comparisons is None else {"contaminated_comparisons": self.contaminated_comparisons}),
            **({} if self.structural is None else {"structural": self.structural.to_dict()}),
            **({} if self.censoring is None else {"censoring": self.censoring.to_dict()}),
            **({} if self.ipcw_rate_ratio is None else
               {"ipcw": {"estimand": IPCW, "rate_ratio": self.ipcw_rate_ratio.to_dict()}}),
            **({} if self.uncorrected is None else {"uncorrected": self.uncorrected.to_dict()}),
        }

    def brief(self) -> str:
        return self.rate_ratio.summary("rate ratio", "{:.2f}")

    def summary(self) -> str:
        r, f = self.reoffending_rate, self.frequency
        lines = [
            f"Matched comparison: {self.treated:,} participants, {self.comparison:,} comparisons",
            f"  estimand: {self.estimand}",
            f"  reoffending rate: {r.treated:.1%} vs {r.comparison:.1%}; "
            + r.difference.summary("difference", "{:+.3f}"),
            f"  offences per person: {f.treated:.2f} vs {f.comparison:.2f}; "
            + f.difference.summary("difference", "{:+.2f}"),
            "  " + self.rate_ratio.summary("rate ratio", "{:.2f}"),
        ]
        if self.treated_percent_change is not None and self.comparison_percent_change is not None:
            lines.append(f"  before/after change: participants {self.treated_percent_change:+.1f}%, "
                         f"comparisons {self.comparison_percent_change:+.1f}%")
        if self.contaminated_comparisons is not None:
            lines.append(f"  comparisons who started during follow-up: {self.contaminated_comparisons:,} "
                         "(their offences after the start divided by the rate ratio)")
        if self.ipcw_rate_ratio is not None:
            lines.append("  censoring weights instead " + self.ipcw_rate_ratio.summary("rate ratio", "{:.2f}"))
        if self.uncorrected is not None:
            lines.append("  uncorrected (starting now vs not yet) " + self.uncorrected.rate_ratio.summary("rate ratio", "{:.2f}"))
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


MEASURES = ("reoffended", "offences", "offences_before", "days_at_risk")


def corrected_means(data: MatchedData, censoring: CensoringWeights) -> GroupMeans:
    """Participants' means and the censored, weighted comparisons' means of each measure."""
    iv = data.intervals
    t, c = data.treat == 1, data.treat == 0
    clusters = data.clusters()
    n_c = int(c.sum())
    base = np.zeros((n_c, len(MEASURES)))
    base[:, 2] = data.offences_before[c]
    values = np.column_stack([iv.first_offence, iv.offences, np.zeros(iv.n), iv.days_at_risk]).astype(float)
    treated = np.column_stack([data.reoffended[t], data.offences_after[t], data.offences_before[t],
                               data.days_at_risk_after[t]]).astype(float)
    return weighted_group_means(
        names=MEASURES, treated_values=treated, treated_clusters=clusters[t],
        comparison_weight=data.weight[c], comparison_base=base, comparison_clusters=clusters[c],
        interval_group=iv.group, interval_values=values, censoring=censoring,
    )


SANDWICH = "sandwich SE clustered on matched set and person, accounting for the estimated censoring weights"


def _comparison(means: GroupMeans, name: str, minus: str | None = None, label: str = "") -> GroupComparison:
    j = MEASURES.index(name)
    t, c = float(means.treated[j]), float(means.comparison[j])
    if minus is not None:
        k = MEASURES.index(minus)
        t, c = t - float(means.treated[k]), c - float(means.comparison[k])
    return GroupComparison(t, c, means.difference([name], [] if minus is None else [minus],
                                                  method=f"{label}: censored, weighted comparisons; {SANDWICH}"))


#: The method of the censoring-weights rate ratio (``ImpactResult.ipcw_rate_ratio``).
RATE_RATIO_METHOD = (f"ratio of offences per day at risk (the Poisson rate ratio): censored, weighted comparisons; "
                     f"{SANDWICH}")


def headline_rate_ratio(data: MatchedData) -> Estimate:
    """The headline's rate ratio on a matched sample: the structural estimate when the
    comparisons' offences after their own start are known (the pipeline's matched samples,
    and a re-match for a check), else the uncorrected ratio."""
    if data.structural is None:
        return matched_rate_ratio(data)
    return data.structural.rate_ratio()


def comparison_effective_size(data: MatchedData) -> float:
    """How many people the comparison group counts for: Kish's effective sample size,
    (sum w)^2 / sum w^2, of each comparison unit's total matching weight. With replacement
    a comparison matched to several participants counts for less than that many: 60
    participants matched to the same 3 comparisons rest on 3 people."""
    c = data.treat == 0
    _, codes = np.unique(data.unit[c], return_inverse=True)
    totals = np.bincount(codes, weights=data.weight[c])
    return float(totals.sum() ** 2 / (totals ** 2).sum()) if totals.size else 0.0


def estimate_impact(data: MatchedData, *, contaminated_comparisons: int | None = None) -> ImpactResult:
    """The Justice Data Lab's measures on the matched sample: participants against the
    comparisons' untreated offending (the structural model; the reoffending rate by
    censoring weights) when the comparisons' later starts are known, with the censoring
    weights' rate ratio and the uncorrected comparison beside them."""
    t = data.treat == 1
    cautions = []
    n_treated = int(t.sum())
    if n_treated < MIN_PARTICIPANTS:
        cautions.append(f"fewer than {MIN_PARTICIPANTS} matched participants (the Justice Data Lab's minimum): "
                        "estimates this small are very uncertain")
    elif comparison_effective_size(data) < MIN_PARTICIPANTS:  # what the estimate rests on (issue 39, finding 3)
        cautions.append(f"the comparison group counts for fewer than {MIN_PARTICIPANTS} people (a few comparisons "
                        "matched to many participants, with replacement): estimates resting on so few are very "
                        "uncertain")
    uncorrected = UncorrectedResult(
        reoffending_rate=weighted_difference(data.reoffended, data, "difference in proportions"),
        frequency=weighted_difference(data.offences_after.astype(float), data, "difference in means"),
        rate_ratio=matched_rate_ratio(data),
    )
    common = dict(
        treated=n_treated,
        comparison=int(np.unique(data.unit[~t]).size),
        treated_percent_change=percent_change(data.offences_before[t], data.offences_after[t], data.weight[t]),
        survival=time_to_first_reoffence(data),
        contaminated_comparisons=contaminated_comparisons,
    )
    if data.intervals is None:
        return ImpactResult(
            reoffending_rate=uncorrected.reoffending_rate, frequency=uncorrected.frequency,
            rate_ratio=uncorrected.rate_ratio,
            difference_in_differences=weighted_difference(
                (data.offences_after - data.offences_before).astype(float), data, "difference in per-person change"),
            comparison_percent_change=percent_change(data.offences_before[~t], data.offences_after[~t], data.weight[~t]),
            warnings=tuple(cautions), **common,
        )
    structural = data.structural
    if structural is None:  # intervals without the structural record: censoring weights alone
        raise ValueError("a matched sample with comparison intervals needs offences_after_start")
    censoring = data.censoring  # its note (a smaller model) is in its record
    means = corrected_means(data, censoring)
    s_means = structural.means
    t_off = float(s_means.treated[0])
    t_before, c_before = float(s_means.treated[3]), float(s_means.comparison[3])
    untreated = structural.untreated_offences()
    return ImpactResult(
        reoffending_rate=_comparison(means, "reoffended", label="difference in proportions"),
        frequency=GroupComparison(t_off, untreated, structural.frequency_difference(label="difference in means")),
        rate_ratio=structural.rate_ratio(),
        difference_in_differences=GroupComparison(
            t_off - t_before, untreated - c_before,
            structural.frequency_difference(minus_before=True, label="difference in per-person change")),
        comparison_percent_change=None if c_before == 0 else 100.0 * (untreated / c_before - 1.0),
        warnings=tuple(cautions), censoring=censoring, uncorrected=uncorrected, structural=structural,
        ipcw_rate_ratio=means.ratio_of_rates("offences", "days_at_risk", RATE_RATIO_METHOD), **common,
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
