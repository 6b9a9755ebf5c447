"""The placebo test: the evaluation re-run with every index date (participants' and
comparison candidates') moved back by the after window, in schema ``placebo`` so the real
run's tables are untouched: a period the programme cannot have affected."""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.checks.subgroups import NOT_ESTIMATED
from evaluation.cohorts import build
from evaluation.cohorts.build import CohortSummary
from evaluation.db.connection import opened, placebo_schema
from evaluation.errors import ReoffendError
from evaluation.estimate.impact import matched_rate_ratio
from evaluation.estimate.types import Estimate, clean_number
from evaluation.match.sample import match_and_read
from evaluation.settings.model import StudySettings

METHOD = ("rate ratio in the after window of index dates moved back by the after window, "
          "matched on what was known before the moved dates")


@dataclass(frozen=True)
class PlaceboResult:
    index_shift_days: int
    estimate: Estimate | None = None
    reading: str | None = None
    participants: int | None = None
    matched: int | None = None
    max_abs_smd_after: float | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        if self.estimate is None:
            return {**NOT_ESTIMATED, "note": self.note, "index_shift_days": self.index_shift_days}
        return {
            **self.estimate.to_dict(with_method=False),
            "reading": self.reading,
            "index_shift_days": self.index_shift_days,
            "participants": self.participants,
            "matched": self.matched,
            "max_abs_smd_after": clean_number(self.max_abs_smd_after),
            "method": METHOD,
        }


def run_placebo(settings: StudySettings, cohorts: CohortSummary) -> PlaceboResult:
    """Re-run the cohort and match steps with the index dates moved back by the after window
    (it reads the staged tables the real ``cohorts`` step built from)."""
    shifted = settings.updated(index_shift_days=settings.windows.index_shift_days - settings.windows.after_days)
    with opened(settings.db_path) as con, placebo_schema(con):
        try:
            summary = build.build_cohorts(con, shifted)
            matcher, data = match_and_read(con, build.unit_covariates(con), shifted)
        except ReoffendError as exc:
            return PlaceboResult(shifted.windows.index_shift_days, note=f"not run ({exc})")
    estimate = matched_rate_ratio(data)
    return PlaceboResult(
        shifted.windows.index_shift_days, estimate, placebo_reading(estimate.estimate, estimate.ci95, settings.windows.after_days),
        summary.analysed, matcher.counts_.matched, matcher.balance_.max_abs_smd_after,
    )


def placebo_reading(estimate: float, ci95: tuple[float, float], after_days: int) -> str:
    """One plain-English paragraph on the placebo test."""
    lo, hi = ci95
    span = f"rate ratio {estimate:.2f}, 95% interval {lo:.2f} to {hi:.2f}"
    period = "year" if after_days == 365 else f"{after_days} days"
    if lo <= 1.0 <= hi:
        return (f"In the {period} before they started, which the programme cannot have affected, "
                f"participants offended at a rate similar to comparisons matched on their earlier history ({span}). "
                "This supports the comparison group.")
    more = "more" if estimate > 1 else "less"
    return (f"In the {period} before they started, which the programme cannot have affected, "
            f"participants offended {more} than comparisons matched on their earlier history ({span}). So "
            f"participants were selected on something their earlier history does not show: typically the busy "
            f"spell of offending that led to their referral. The main estimate matches on offending in that "
            f"{period}, which accounts for selection on it; selection on anything else that also affects later "
            f"offending would bias the main estimate too.")
