"""The Southampton-style before/after evaluation, with honest uncertainty.

Counts what Southampton counted (offences in the year before and after joining) and
adds what it could not state: confidence intervals and significance tests from
statsmodels and scipy. A before/after comparison alone cannot separate a programme's
effect from regression to the mean; the result says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from evaluation.cohorts.build import GROUP_COLUMNS
from evaluation.estimate.resampling import bca_interval, leave_one_out_ratio
from evaluation.estimate.significance import ALPHA, CONFIDENCE
from evaluation.estimate.types import Estimate, TestResult, clean_number

MSMS_LEVEL_1_CAVEAT = (
    "A before/after comparison of participants alone is Maryland Scientific Methods Scale level 1. "
    "People are usually referred just after a conviction or a busy spell of offending, and such people "
    "offend less afterwards whatever happens (regression to the mean), so this comparison cannot separate "
    "the programme's effect from that fall. Only a comparison group can."
)


#: How the before/after rate ratio is estimated (results.json's ``method``).
METHOD = "Poisson GEE, clustered on person (robust SE)"


def paired_rate_ratio(
    before: np.ndarray,
    after: np.ndarray,
    exposure_before: np.ndarray | None = None,
    exposure_after: np.ndarray | None = None,
) -> Estimate:
    """Rate ratio after/before from a Poisson regression with standard errors clustered on
    person: the GEE with an independence working correlation, fitted as the Poisson GLM
    it equals, with the cluster-robust (sandwich) covariance and no small-sample factor
    (GEE's robust covariance).

    Each person contributes two counts; the robust (sandwich) standard error allows for
    the correlation between a person's two counts and for over-dispersion. With
    exposures (days at risk), rates per day are compared; a row with no days at risk
    carries no information and is dropped. When either window has no offences at all
    the model cannot be fitted, and with one person the sandwich is zero (a 95% interval
    of no width, p = 0): in both cases the exact conditional (binomial) test is used instead.
    The Poisson GEE with an independence working correlation is this GLM with the
    cluster-robust covariance; tests/estimate/test_before_after.py holds them equal.
    """
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    n = len(before)
    eb = np.ones(n) if exposure_before is None else np.asarray(exposure_before, dtype=float)
    ea = np.ones(n) if exposure_after is None else np.asarray(exposure_after, dtype=float)
    y = np.concatenate([before, after])
    exposure = np.concatenate([eb, ea])
    period = np.concatenate([np.zeros(n), np.ones(n)])
    groups = np.concatenate([np.arange(n), np.arange(n)])
    keep = exposure > 0
    one_person = len(np.unique(groups[keep])) < 2  # one cluster: the sandwich is 0, a certainty it does not have
    if one_person or y[keep & (period == 0)].sum() == 0 or y[keep & (period == 1)].sum() == 0:
        return conditional_rate_ratio(int(before.sum()), int(after.sum()), float(eb.sum()), float(ea.sum()))
    model = sm.GLM(y[keep], sm.add_constant(period[keep]), family=sm.families.Poisson(), offset=np.log(exposure[keep]))
    fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups[keep], "use_correction": False})
    lo, hi = np.exp(fit.conf_int(alpha=ALPHA)[1])
    return Estimate(
        float(np.exp(fit.params[1])),
        (float(lo), float(hi)),
        float(fit.pvalues[1]),
        METHOD,
    )


def conditional_rate_ratio(count_before: int, count_after: int, time_before: float, time_after: float) -> Estimate:
    """Rate ratio after/before by the exact conditional test: given the total, the after
    count is binomial with p = time_after / (time_before + time_after) under no change.
    Assumes Poisson counts (no over-dispersion); used when the GEE cannot be fitted."""
    total = count_before + count_after
    p0 = time_after / (time_before + time_after)
    if total == 0:
        return Estimate(float("nan"), (float("nan"), float("nan")), None, "no offences in either window")
    test = stats.binomtest(count_after, total, p0)
    ci = test.proportion_ci(confidence_level=CONFIDENCE, method="exact")

    def ratio(theta: float) -> float:
        return math.inf if theta >= 1 else (theta / (1 - theta)) * (time_before / time_after)

    estimate = ratio(count_after / total)
    return Estimate(estimate, (ratio(ci.low), ratio(ci.high)), float(test.pvalue), "exact conditional binomial test")


def wilcoxon_change(before: np.ndarray, after: np.ndarray) -> TestResult:
    """Wilcoxon signed-rank test on each person's change (after - before); zero changes dropped."""
    diff = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    if not np.any(diff != 0):
        return TestResult(float("nan"), 1.0, "Wilcoxon signed-rank: every change is zero")
    res = stats.wilcoxon(diff, zero_method="wilcox", alternative="two-sided")
    return TestResult(float(res.statistic), float(res.pvalue), "Wilcoxon signed-rank on per-person changes")


def mcnemar_any_offence(before: np.ndarray, after: np.ndarray) -> TestResult:
    """McNemar's test of any offence before vs any offence after (exact when discordant pairs < 25)."""
    b = np.asarray(before) > 0
    a = np.asarray(after) > 0
    table = np.array([[np.sum(b & a), np.sum(b & ~a)], [np.sum(~b & a), np.sum(~b & ~a)]])
    discordant = int(table[0, 1] + table[1, 0])
    exact = discordant < 25
    if discordant == 0:
        return TestResult(0.0, 1.0, "McNemar: no discordant pairs")
    res = mcnemar(table, exact=exact, correction=True)
    method = "McNemar exact (binomial)" if exact else "McNemar chi-square with continuity correction"
    return TestResult(float(res.statistic), float(res.pvalue), method)


def bootstrap_percent_change(
    before: np.ndarray, after: np.ndarray, *, seed: int, n_resamples: int = 2000
) -> tuple[float, float]:
    """95% bootstrap CI (BCa, resampling people) for the percent change in total offences."""
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)

    def pct(b: np.ndarray, a: np.ndarray, axis: int = -1) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):  # a resample may have no offences before
            return 100.0 * (a.sum(axis=axis) / b.sum(axis=axis) - 1.0)

    if before.sum() == 0:
        return (float("nan"), float("nan"))
    if np.all(after * before.sum() == before * after.sum()):  # every person changes by the same ratio
        value = float(pct(before, after))
        return (value, value)
    # scipy's BCa, with the jackknife of a ratio of sums in closed form (O(n), not O(n²))
    lo, hi = bca_interval((before, after), pct, 100.0 * (leave_one_out_ratio(after, before) - 1.0),
                          n_resamples=n_resamples, seed=seed, confidence_level=CONFIDENCE, paired=True)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        res = stats.bootstrap(
            (before, after), pct, paired=True, vectorized=True, n_resamples=n_resamples,
            confidence_level=CONFIDENCE, method="percentile", random_state=np.random.default_rng(seed),
        )
        lo, hi = res.confidence_interval
    return (float(lo), float(hi))


def _pct(before: float, after: float) -> float | None:
    return None if before == 0 else 100.0 * (after / before - 1.0)


@dataclass
class BeforeAfterResult:
    """The before/after evaluation of one cohort. Attributes hold aggregates only."""

    participants: int
    offences_before: int
    offences_after: int
    percent_change: float | None
    percent_change_ci95: tuple[float, float]
    rate_ratio: Estimate
    wilcoxon: TestResult
    mcnemar: TestResult
    people_with_offence_before: int
    people_with_offence_after: int
    days_at_risk_before: int
    days_at_risk_after: int
    by_group: list[dict] = field(default_factory=list)
    by_category: list[dict] = field(default_factory=list)
    by_programme: list[dict] = field(default_factory=list)
    high_risk: dict = field(default_factory=dict)
    caveat: str = MSMS_LEVEL_1_CAVEAT

    @property
    def offences_per_person_before(self) -> float:
        return self.offences_before / self.participants

    @property
    def offences_per_person_after(self) -> float:
        return self.offences_after / self.participants

    def rate_per_365(self, which: str) -> float | None:
        offences, days = (
            (self.offences_before, self.days_at_risk_before) if which == "before"
            else (self.offences_after, self.days_at_risk_after)
        )
        return None if days == 0 else offences / days * 365

    def to_dict(self) -> dict:
        n = self.participants
        return {
            "participants": n,
            "offences_before": self.offences_before,
            "offences_after": self.offences_after,
            "percent_change": clean_number(self.percent_change),
            "percent_change_ci95": [clean_number(v) for v in self.percent_change_ci95],
            "offences_per_person_before": clean_number(self.offences_per_person_before),
            "offences_per_person_after": clean_number(self.offences_per_person_after),
            "share_with_offence_before": clean_number(self.people_with_offence_before / n),
            "share_with_offence_after": clean_number(self.people_with_offence_after / n),
            "people_with_offence_before": self.people_with_offence_before,
            "people_with_offence_after": self.people_with_offence_after,
            "days_at_risk_before": self.days_at_risk_before,
            "days_at_risk_after": self.days_at_risk_after,
            "rate_per_365_days_at_risk_before": clean_number(self.rate_per_365("before")),
            "rate_per_365_days_at_risk_after": clean_number(self.rate_per_365("after")),
            "rate_ratio": self.rate_ratio.to_dict(),
            "wilcoxon": self.wilcoxon.to_dict(),
            "mcnemar": self.mcnemar.to_dict(),
            "by_group": self.by_group,
            "by_category": self.by_category,
            "by_programme": self.by_programme,
            "high_risk": self.high_risk,
            "maryland_level": 1,
            "caveat": self.caveat,
        }

    def summary(self) -> str:
        pc = "n/a" if self.percent_change is None else f"{self.percent_change:+.1f}%"
        lo, hi = self.percent_change_ci95
        lines = [
            f"Before/after, {self.participants:,} participants",
            f"  offences in the year before: {self.offences_before:,} ({self.offences_per_person_before:.2f} a person)",
            f"  offences in the year after:  {self.offences_after:,} ({self.offences_per_person_after:.2f} a person)",
            f"  change: {pc} (95% bootstrap CI {lo:+.1f}% to {hi:+.1f}%)",
            "  " + self.rate_ratio.summary("rate ratio after/before"),
            "  " + self.wilcoxon.summary("Wilcoxon"),
            "  " + self.mcnemar.summary("McNemar (any offence)"),
        ]
        if self.high_risk:
            hr = self.high_risk
            lines.append(
                f"  MAPPA/PPO: {hr['people']} people, {hr['offences_before']} offences before, "
                f"{hr['offences_after']} after; {hr['not_reoffended']} with no proven offence after"
            )
        lines.append("  " + self.caveat)
        return "\n".join(lines)


def _window_summary(frame: pl.DataFrame, before: str, after: str) -> dict:
    b, a = int(frame[before].sum()), int(frame[after].sum())
    return {
        "people": frame.height,
        "offences_before": b,
        "offences_after": a,
        "percent_change": clean_number(_pct(b, a)),
        "people_with_offence_before": int((frame[before] > 0).sum()),
        "people_with_offence_after": int((frame[after] > 0).sum()),
    }


def evaluate_before_after(
    outcomes: pl.DataFrame,
    categories: pl.DataFrame,
    *,
    seed: int,
    n_resamples: int = 2000,
) -> BeforeAfterResult:
    """The before/after evaluation from ``participant_outcomes`` and ``category_counts``."""
    before = outcomes["offences_before"].to_numpy()
    after = outcomes["offences_after"].to_numpy()
    risk_b = outcomes["days_at_risk_before"].to_numpy()
    risk_a = outcomes["days_at_risk_after"].to_numpy()
    rate_ratio = paired_rate_ratio(before, after, risk_b, risk_a)

    by_group = []
    for group, prefix in GROUP_COLUMNS.items():
        row = _window_summary(outcomes, f"{prefix}_before", f"{prefix}_after")
        del row["people"]
        by_group.append({"group": group, **row})
    by_category = [
        {
            "category": r["category"],
            "offences_before": int(r["offences_before"]),
            "offences_after": int(r["offences_after"]),
            "percent_change": clean_number(_pct(r["offences_before"], r["offences_after"])),
            "people_with_offence_before": int(r["people_before"]),
            "people_with_offence_after": int(r["people_after"]),
        }
        for r in categories.iter_rows(named=True)
    ]
    by_programme = [
        {"programme": name, **_window_summary(part, "offences_before", "offences_after")}
        for (name,), part in sorted(outcomes.group_by("programme"), key=lambda kv: kv[0][0])
    ]
    hr = outcomes.filter(pl.col("mappa") | pl.col("ppo"))
    high_risk = {
        "people": hr.height,
        "offences_before": int(hr["offences_before"].sum()),
        "offences_after": int(hr["offences_after"].sum()),
        "not_reoffended": int((hr["offences_after"] == 0).sum()),
    }
    return BeforeAfterResult(
        participants=outcomes.height,
        offences_before=int(before.sum()),
        offences_after=int(after.sum()),
        percent_change=_pct(before.sum(), after.sum()),
        percent_change_ci95=bootstrap_percent_change(before, after, seed=seed, n_resamples=n_resamples),
        rate_ratio=rate_ratio,
        wilcoxon=wilcoxon_change(before, after),
        mcnemar=mcnemar_any_offence(before, after),
        people_with_offence_before=int((before > 0).sum()),
        people_with_offence_after=int((after > 0).sum()),
        days_at_risk_before=int(risk_b.sum()),
        days_at_risk_after=int(risk_a.sum()),
        by_group=by_group,
        by_category=by_category,
        by_programme=by_programme,
        high_risk=high_risk,
    )
