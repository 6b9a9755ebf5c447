"""The matched sample: fit the propensity model and match, store the matched sets, and
read the matched rows' outcomes.

Shared by the main evaluation and the checks, which re-match under other settings
without touching the stored ``matched_units``: :func:`match_and_read` is the one place a
matcher's output meets the outcome tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from evaluation.cohorts import build as cohorts
from evaluation.cohorts.covariates import usable_covariates
from evaluation.db.connection import opened
from evaluation.db.queries import run_sql
from evaluation.errors import ReoffendError, SettingsError
from evaluation.estimate.censoring import INTERVAL_DAYS, REFERRAL_DAYS, ComparisonIntervals, ReferralDecisions
from evaluation.estimate.impact import MatchedData
from evaluation.estimate.types import clean_number
from evaluation.match.balance import BalanceTable
from evaluation.match.matcher import MatchCounts, PropensityFit, PropensityMatcher, PropensityOverlap, fit_propensity
from evaluation.settings.model import StudySettings


def make_matcher(settings: StudySettings) -> PropensityMatcher:
    return PropensityMatcher(
        caliper=settings.matching.caliper,
        distance=settings.matching.distance,
        ratio=settings.matching.ratio,
        replace=settings.matching.replace,
        order=settings.matching.order,
        fill=settings.matching.fill,
        exact=settings.matching.exact,
        mahalanobis=settings.matching.mahalanobis,
        seed=settings.seed,
    )


def fit_matches(frame: pl.DataFrame, settings: StudySettings, *,
                propensity: PropensityFit | None = None) -> tuple[PropensityMatcher, list[str], list[str], pl.DataFrame]:
    """Fit the propensity model (or use ``propensity``, fitted on the same covariates) and
    match; the matched rows carry their unit_id."""
    used, dropped = usable_covariates(frame, settings.matching.covariates)
    if not used:
        raise SettingsError("none of the covariates varies in the data; nothing to match on")
    matcher = make_matcher(settings).fit(frame, treatment="treat", covariates=used, propensity=propensity)
    unit_ids = frame["unit_id"].to_numpy()
    rows = matcher.matches_.with_columns(unit_id=pl.Series(unit_ids[matcher.matches_["row"].to_numpy()]))
    return matcher, used, dropped, rows.select("unit_id", "subclass", "treat", "weight")


@dataclass(frozen=True)
class UnitRecords:
    """What the estimates need of a set of units, read once from the database: each unit's
    outcomes (sql/outcomes/unit_outcome_rows), and, for the censoring weights, each
    comparison unit's after window in intervals (sql/outcomes/comparison_intervals) and its
    referral decisions (sql/outcomes/comparison_decisions; both None when not read). Any
    matching of these units is then assembled in memory (:func:`matched_data`), so the
    checks that re-match read the database once for all their variants, not once per
    variant."""

    outcomes: pl.DataFrame
    intervals: pl.DataFrame | None
    decisions: pl.DataFrame | None
    after_days: int


def read_units(con: duckdb.DuckDBPyConnection, *, after_days: int, table: str = "matched_units",
               censoring: bool = True) -> UnitRecords:
    """The records of every unit in ``table`` (matched_units, or matcher_output: the union of
    several matchings); see :class:`UnitRecords`. ``censoring`` False skips the intervals
    and decisions: a re-match whose only estimate is the headline rate ratio (the
    structural estimate) does not need them."""
    first_start, last_start = run_sql(con, "cohorts/programme_start_range").fetchone()
    params = {"after_days": after_days, "interval_days": INTERVAL_DAYS, "first_start": first_start,
              "last_start": last_start, "referral_days": REFERRAL_DAYS}
    return UnitRecords(
        outcomes=run_sql(con, "outcomes/unit_outcome_rows", params, {"matched": table}).pl(),
        intervals=run_sql(con, "outcomes/comparison_intervals", params, {"matched": table}).pl() if censoring else None,
        decisions=run_sql(con, "outcomes/comparison_decisions", params, {"matched": table}).pl() if censoring else None,
        after_days=after_days,
    )


def matched_data(rows: pl.DataFrame, units: UnitRecords, *, replace: bool) -> tuple[MatchedData, int]:
    """One matching's rows (unit_id, subclass, treat, weight) with their units' records, in
    the order subclass, participant first, unit_id; and how many matched comparisons were
    contaminated (started the programme during their own after window)."""
    after_days = units.after_days
    rows = (rows.select("unit_id", "subclass", "treat", "weight")
            .join(units.outcomes, on="unit_id", how="inner")
            .sort("subclass", "treat", "unit_id", descending=[False, True, False]))
    if rows.height == 0:
        raise SettingsError("no participant could be matched; try a wider caliper or no caliper")
    data = MatchedData(
        treat=rows["treat"].to_numpy().astype(np.int8),
        weight=rows["weight"].to_numpy(),
        subclass=rows["subclass"].to_numpy(),
        unit=rows["unit_id"].to_numpy(),
        person=rows["person_id"].rank("dense").to_numpy(),
        offences_before=rows["offences_before"].to_numpy(),
        offences_after=rows["offences_after"].to_numpy(),
        days_at_risk_after=rows["days_at_risk_after"].to_numpy(),
        first_after_day=rows["first_after_day"].cast(pl.Float64).to_numpy(),
        after_days=after_days,
        replace=replace,
        start_day=rows["start_day"].cast(pl.Float64).to_numpy(),
        offences_after_start=np.where(rows["treat"].to_numpy() == 0, rows["offences_after_start"].to_numpy(), 0),
        **(dict(zip(("intervals", "decisions"), _comparison_records(rows, units)))
           if units.intervals is not None else {}),
    )
    contaminated = (rows.filter((pl.col("treat") == 0) & (pl.col("start_day") < after_days))
                    .select("unit_id").n_unique())
    return data, contaminated


def read_matched_outcomes(con: duckdb.DuckDBPyConnection, *, after_days: int, replace: bool,
                          table: str = "matched_units") -> tuple[MatchedData, int]:
    """The matched rows of ``table`` with their outcomes (:func:`read_units`, :func:`matched_data`)."""
    rows = run_sql(con, "outcomes/matched_rows", identifiers={"matched": table}).pl()
    return matched_data(rows, read_units(con, after_days=after_days, table=table), replace=replace)


def _comparison_records(rows: pl.DataFrame, units: UnitRecords) -> tuple[ComparisonIntervals, ReferralDecisions]:
    """The matched comparisons' intervals and referral decisions, one set per matched
    comparison row (a comparison reused in several sets has one each). Intervals after the
    decision that led to a start are dropped: the comparison is censored there."""
    comparisons = rows.filter(pl.col("treat") == 0).with_row_index("group").select("group", "unit_id", "weight")
    weights = comparisons["weight"].to_numpy()
    decided = comparisons.select("group", "unit_id").join(units.decisions, on="unit_id", how="inner").sort("group", "day")
    trigger_day = decided.filter(pl.col("trigger") == 1).select("group", trigger_day="day")
    iv = (comparisons.select("group", "unit_id").join(units.intervals, on="unit_id", how="inner")
          .join(trigger_day, on="group", how="left")
          .filter(pl.col("trigger_day").is_null() | (pl.col("t0_day") <= pl.col("trigger_day")))
          .sort("group", "interval"))

    def col(frame, name, dtype=np.float64):
        return frame[name].to_numpy().astype(dtype)

    group = col(iv, "group", np.int64)
    intervals = ComparisonIntervals(
        group=group, interval=col(iv, "interval", np.int64), t0_day=col(iv, "t0_day", np.int64),
        days_at_risk=col(iv, "days_at_risk"), offences=col(iv, "offences"), first_offence=col(iv, "first_offence"),
        starts=col(iv, "starts"), matching_weight=weights[group],
    )
    dgroup = col(decided, "group", np.int64)
    decisions = ReferralDecisions(
        group=dgroup, day=col(decided, "day", np.int64), trigger=col(decided, "trigger"),
        proven_that_day=col(decided, "proven_that_day"), proven_365=col(decided, "proven_365"),
        age=col(decided, "age"), high_risk=col(decided, "high_risk"), offences_before=col(decided, "offences_before"),
        in_start_range=col(decided, "in_start_range", bool), matching_weight=weights[dgroup],
    )
    return intervals, decisions


@contextmanager
def _matcher_output(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> Iterator[str]:
    """The matcher's rows as the view ``matcher_output`` for the queries that read them."""
    con.register("matcher_output", rows)
    try:
        yield "matcher_output"
    finally:
        con.unregister("matcher_output")


def unit_people(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> pl.DataFrame:
    """The person of each unit in a matcher's ``rows`` (unit_id, person_id), for standard
    errors clustered on person."""
    with _matcher_output(con, rows.select("unit_id")) as table:
        return run_sql(con, "outcomes/unit_people", identifiers={"matched": table}).pl()


@dataclass(frozen=True)
class Rematch:
    """One variant's matching: its matcher, and its matched rows' records (``data``), or
    ``data`` None when its matched sets are exactly the study's stored ones (``same=True``:
    its estimate is the study's, so it is not computed again)."""

    matcher: PropensityMatcher
    data: MatchedData | None
    same: bool = False


#: Propensity fits by (requested covariates, exact-matching columns).
Fits = dict[tuple[tuple[str, ...], tuple[str, ...]], PropensityFit]


def match_and_read(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, variants: Sequence[StudySettings], *,
                   fits: Fits | None = None,
                   stored: pl.DataFrame | None = None,
                   stored_replace: bool | None = None) -> list[Rematch | ReoffendError]:
    """Re-match the units of ``frame`` under each of ``variants`` and read the matched rows'
    outcomes (the stored ``matched_units`` are untouched). The propensity model is fitted
    once per covariate set and exact-matching columns (``fits`` may hold fits already made
    on ``frame``, by requested covariates and exact columns), and the union of the matched
    units is read from the database once; each variant's result is then assembled in
    memory. A variant whose matched rows equal
    ``stored`` (the study's, as sql/outcomes/matched_rows orders them, matched with or
    without replacement as ``stored_replace`` says) is marked ``same`` and not assembled. A
    variant that cannot be matched gives its error in its place. The variants' data carry
    no censoring records (their estimate is the structural headline,
    :func:`evaluation.estimate.impact.headline_rate_ratio`). The fits made here are added
    to ``fits``."""
    scores: dict[tuple[tuple[str, ...], tuple[str, ...]], PropensityFit | None] = dict(fits or {})
    fitted: list[tuple[PropensityMatcher, pl.DataFrame, bool] | ReoffendError] = []
    for variant in variants:
        try:
            key = (tuple(variant.matching.covariates), tuple(variant.matching.exact))
            if key not in scores:
                used, _ = usable_covariates(frame, variant.matching.covariates)
                scores[key] = (fit_propensity(frame, treatment="treat", covariates=used, exact=variant.matching.exact)
                               if used else None)
                if fits is not None and scores[key] is not None:
                    fits[key] = scores[key]
            matcher, _, _, rows = fit_matches(frame, variant, propensity=scores[key])
            same = (stored is not None and variant.matching.replace == stored_replace
                    and _same_rows(rows, stored))
            fitted.append((matcher, rows, same))
        except ReoffendError as exc:
            fitted.append(exc)
    matched = [f[1] for f in fitted if not isinstance(f, ReoffendError) and not f[2]]
    units = None
    if matched:
        union = pl.concat([r.select("unit_id", "treat") for r in matched]).unique()
        with _matcher_output(con, union) as table:
            # the variants' estimate is the structural headline: no censoring records needed
            units = read_units(con, after_days=variants[0].windows.after_days, table=table, censoring=False)
    out: list[Rematch | ReoffendError] = []
    for f, variant in zip(fitted, variants):
        if isinstance(f, ReoffendError):
            out.append(f)
            continue
        matcher, rows, same = f
        if same:
            out.append(Rematch(matcher, None, same=True))
            continue
        try:
            out.append(Rematch(matcher, matched_data(rows, units, replace=variant.matching.replace)[0]))
        except ReoffendError as exc:
            out.append(exc)
    return out


def _same_rows(rows: pl.DataFrame, stored: pl.DataFrame) -> bool:
    """Whether a matcher's rows are exactly the stored matched sets (same units, sets,
    roles and weights)."""
    if rows.height != stored.height:
        return False
    mine = rows.select("unit_id", "subclass", "treat", "weight").sort(
        "subclass", "treat", "unit_id", descending=[False, True, False])
    return all(np.array_equal(mine[c].to_numpy(), stored[c].to_numpy()) for c in ("unit_id", "subclass", "treat", "weight"))


def stored_rows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The study's stored matched sets (``matched_units``): unit_id, subclass, treat, weight."""
    return run_sql(con, "outcomes/matched_rows", identifiers={"matched": "matched_units"}).pl()


def matching_inputs(settings: StudySettings, con: duckdb.DuckDBPyConnection, context) -> tuple[pl.DataFrame, Fits]:
    """The units' covariates and the propensity fits already made on them: the match
    step's, kept in the run's context (so a re-match with the study's covariates uses the
    very scores the stored sets were matched on), else the covariates read from ``con``
    and no fits. The fits returned are the context's: a fit added to them
    (:func:`match_and_read` adds those it makes) is there for the next check that matches
    the same rows on the same covariates (the sensitivity table's fit without the
    prior-offence detail is the falsification test's when every unit has a control
    window). The frame's arrays are shared: do not modify them."""
    if context is not None and context.match_frame is not None:
        return context.match_frame, context.fits
    return cohorts.unit_covariates(con), {}


def load_matched(settings: StudySettings, context) -> tuple[MatchedData, int]:
    """The stored matched sets' outcomes (``matched_units``), and how many matched
    comparisons were contaminated: read once per run and kept in the run's context for
    the estimate and the checks that read the matched sample (the arrays are shared, so
    callers must not modify them)."""
    if context is not None and context.matched is not None:
        return context.matched
    with opened(settings.db_path, read_only=True) as con:
        read = read_matched_outcomes(con, after_days=settings.windows.after_days, replace=settings.matching.replace)
    if context is not None:
        context.matched = read
    return read


@dataclass(frozen=True)
class MatchResult:
    """The main match: what it matched on, with which settings, and the balance achieved."""

    covariates: tuple[str, ...]
    covariates_dropped: tuple[str, ...]
    caliper_width: float | None  # the caliper on the distance scale (the study records it in SDs)
    counts: MatchCounts
    coefficients: dict[str, float]
    converged: bool
    balance: BalanceTable
    overlap: PropensityOverlap | None = None

    @classmethod
    def from_matcher(cls, matcher: PropensityMatcher, used, dropped) -> MatchResult:
        return cls(
            covariates=tuple(used), covariates_dropped=tuple(dropped),
            caliper_width=clean_number(matcher.caliper_width_),
            counts=matcher.counts_, coefficients=dict(matcher.coef_), converged=matcher.converged_,
            balance=matcher.balance_, overlap=matcher.overlap_,
        )

    def to_dict(self) -> dict:
        return {
            "covariates": list(self.covariates),
            "covariates_dropped": list(self.covariates_dropped),
            "caliper_width": self.caliper_width,
            "counts": self.counts.to_dict(),
            "propensity_model": {
                "method": "logistic regression (statsmodels Logit)",
                "coefficients": {k: clean_number(v) for k, v in self.coefficients.items()},
                "converged": self.converged,
            },
            "balance": self.balance.to_dict(),
            **({"propensity_overlap": self.overlap.to_dict()} if self.overlap is not None else {}),
        }

    def brief(self) -> str:
        return (f"matched {self.counts.matched:,} of {self.counts.treated:,} participants; "
                f"max |SMD| after {self.balance.max_abs_smd_after:.3f}")


def run_match(settings: StudySettings, context=None) -> MatchResult:
    """Fit the propensity model, match, and store the matched sets as ``matched_units``;
    the covariates and the fit go to the run's context for the checks that re-match."""
    with opened(settings.db_path) as con:
        frame = cohorts.unit_covariates(con)
        matcher, used, dropped, rows = fit_matches(frame, settings)
        with _matcher_output(con, rows):
            run_sql(con, "outcomes/matched_units")
    if context is not None:
        context.match_frame = frame
        context.fits = {(tuple(settings.matching.covariates), tuple(settings.matching.exact)): matcher.propensity_fit_}
        context.matched = None  # the stored sample is new
    return MatchResult.from_matcher(matcher, used, dropped)
