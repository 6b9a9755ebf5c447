"""The falsification test: a negative-control outcome from before selection.

Participants and comparisons are matched again, leaving out every covariate that counts
offences before the selection year, and their offending in the *control window* (the two
years that end where the selection year begins: a year before each unit's triggering
event, whose record referral read; counted with the covariates,
sql/outcomes/unit_covariates.sql) is compared. The
programme cannot have affected it, and referral, made on the recent record, did not look
at it directly, so when selection is on the recorded history the matched groups offend
alike there (the test is quiet). When something no record shows (motivation, say) both
raises the chance of referral and lowers offending in every year, participants offend
less than their matched comparisons in the control window too (the test fires), and the
headline, which shares that bias, flatters the programme. This is a negative-control
outcome in the sense of Lipsitch, Tchetgen Tchetgen and Cohen (2010): it shares the
suspected bias but not the effect.

It replaces a placebo that moved every index date back by the after window. Its "after"
window was, by construction, the year participants were selected on, so it fired on
every run whatever the real bias (3 of 3 null runs, p < 1e-7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from evaluation.checks.subgroups import NOT_ESTIMATED
from evaluation.cohorts.build import CONTROL_DAYS
from evaluation.cohorts.covariates import PRIOR_OFFENCE_DETAIL
from evaluation.db.connection import opened
from evaluation.errors import ReoffendError
from evaluation.estimate.impact import MatchedData, matched_rate_ratio
from evaluation.estimate.significance import significant
from evaluation.estimate.types import Estimate, clean_number
from evaluation.match.sample import fit_matches, matching_inputs, unit_people
from evaluation.settings.model import StudySettings

#: Comparisons per participant in the test's match, with replacement whatever the study's
#: matching: each participant's 5 nearest within the caliper. A check needs power, and
#: more comparisons per participant cut the variance of the comparison side (the runs that
#: chose 5 are in docs/methodology.md, "Robustness").
CONTROL_RATIO = 5
#: Covariates that count offences in the control window, left out of the test's match
#: (the offences before the selection year, and the all-history counts by offence group).
CONTROL_WINDOW_COVARIATES = PRIOR_OFFENCE_DETAIL
METHOD = ("negative-control outcome: rate ratio of offences in the two years before the selection year, "
          f"participants over their {CONTROL_RATIO} nearest comparisons (with replacement) matched without any "
          "count of those years (Poisson GLM, SE clustered on matched set and person)")


@dataclass(frozen=True)
class FalsificationResult:
    control_days: int
    covariates: tuple[str, ...] = ()
    estimate: Estimate | None = None
    reading: str | None = None
    matched: int | None = None
    without_control_window: int = 0
    max_abs_smd_after: float | None = None
    note: str | None = None

    @property
    def fired(self) -> bool:
        return self.estimate is not None and significant(self.estimate.p_value)

    def to_dict(self) -> dict:
        if self.estimate is None:
            return {**NOT_ESTIMATED, "note": self.note, "control_days": self.control_days}
        return {
            **self.estimate.to_dict(with_method=False),
            "fired": self.fired,
            "reading": self.reading,
            "control_days": self.control_days,
            "matched_on": list(self.covariates),
            "matched": self.matched,
            "units_without_control_window": self.without_control_window,
            "max_abs_smd_after": clean_number(self.max_abs_smd_after),
            "method": METHOD,
        }

    def brief(self) -> str:
        if self.estimate is None:
            return f"not run ({self.note})"
        return ("fired: " if self.fired else "quiet: ") + self.estimate.summary("rate ratio", "{:.2f}")


def run_falsification(settings: StudySettings, estimate=None, context=None) -> FalsificationResult:
    """Match again without the control window's counts (each participant with their
    ``CONTROL_RATIO`` nearest comparisons, with replacement) and compare offending in it."""
    covariates = tuple(c for c in settings.matching.covariates if c not in CONTROL_WINDOW_COVARIATES)
    if not covariates:
        return FalsificationResult(CONTROL_DAYS, note="every covariate counts offences in the control window")
    test = settings.updated(covariates=covariates, ratio=CONTROL_RATIO, replace=True)
    with opened(settings.db_path, read_only=True) as con:
        # The match step's units, and the fits made on them: with every unit's control
        # window in the data, the sensitivity table's fit without the prior-offence detail
        # is this test's (the same rows and covariates), so it is not made twice.
        frame, fits = matching_inputs(settings, con, context)
        incomplete = int((~frame["control_complete"]).sum())
        if incomplete:
            frame, fits = frame.filter(pl.col("control_complete")), {}  # other rows: fits on every unit do not apply
        if frame.filter(pl.col("treat") == 1).height < 10 or frame.filter(pl.col("treat") == 0).height < 10:
            return FalsificationResult(CONTROL_DAYS, covariates, note="too few participants have a year of records "
                                       "before their before window", without_control_window=incomplete)
        try:
            matcher, _, _, rows = fit_matches(
                frame, test, propensity=fits.get((tuple(test.matching.covariates), tuple(test.matching.exact))))
        except ReoffendError as exc:
            return FalsificationResult(CONTROL_DAYS, covariates, note=f"not run ({exc})", without_control_window=incomplete)
        people = unit_people(con, rows)
    rows = (rows.join(frame.select("unit_id", "control_offences"), on="unit_id", how="left")
            .join(people, on="unit_id", how="left"))
    n = rows.height
    person = rows["person_id"].rank("dense").to_numpy()
    data = MatchedData(
        treat=rows["treat"].to_numpy().astype(np.int8), weight=rows["weight"].to_numpy(),
        subclass=rows["subclass"].to_numpy(), unit=rows["unit_id"].to_numpy(), person=person,
        offences_before=np.zeros(n), offences_after=rows["control_offences"].to_numpy().astype(float),
        days_at_risk_after=np.full(n, float(CONTROL_DAYS)), first_after_day=np.full(n, np.nan),
        after_days=CONTROL_DAYS, replace=test.matching.replace,
    )
    result = matched_rate_ratio(data)
    return FalsificationResult(CONTROL_DAYS, covariates, result, falsification_reading(result),
                               matcher.counts_.matched, incomplete, matcher.balance_.max_abs_smd_after)


def falsification_reading(estimate: Estimate) -> str:
    """One plain-English paragraph on the falsification test, true whichever way it falls."""
    if estimate.estimate is None:
        return "The falsification test could not be estimated: nobody offended in the control window."
    lo, hi = estimate.ci95
    span = f"rate ratio {estimate.estimate:.2f}, 95% interval {lo:.2f} to {hi:.2f}"
    where = ("In the two years before the year they were selected on, which the programme cannot have affected and "
             "which were left out of this check's matching, ")
    if not significant(estimate.p_value):
        return (where + f"participants offended at a rate similar to their matched comparisons ({span}). This is what "
                "selection on the recorded history predicts; it does not rule out an unrecorded difference too "
                "small for this test to see.")
    if estimate.estimate < 1:
        return (where + f"participants offended less than their matched comparisons ({span}). Something the records "
                "do not show, which made referral likelier and offending rarer, may also lower participants' "
                "offending after they start: the headline may overstate the programme's effect.")
    return (where + f"participants offended more than their matched comparisons ({span}). Something the records do "
            "not show, which made referral likelier and offending more frequent, may also raise participants' "
            "offending after they start: the headline may understate the programme's effect.")
