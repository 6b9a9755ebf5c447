"""Matched sets: fit the propensity model and match, and read matched rows' outcomes.

Shared by the main evaluation (``pipeline``) and the robustness checks, which re-match
under other settings without touching the stored ``matched_units``.
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from evaluation.cohorts.covariates import usable_covariates
from evaluation.db.connection import opened
from evaluation.errors import SettingsError
from evaluation.estimate.impact import MatchedData
from evaluation.match.matcher import PropensityMatcher
from evaluation.settings.model import StudySettings
from evaluation.db.queries import run_sql


def make_matcher(settings: StudySettings) -> PropensityMatcher:
    return PropensityMatcher(
        caliper=settings.caliper,
        distance=settings.distance,
        ratio=settings.ratio,
        replace=settings.replace,
        order=settings.order,
        exact=settings.exact,
        mahalanobis=settings.mahalanobis,
        seed=settings.seed,
    )


def fit_matches(frame: pl.DataFrame, settings: StudySettings) -> tuple[PropensityMatcher, list[str], list[str], pl.DataFrame]:
    """Fit the propensity model and match; the matched rows carry their unit_id."""
    used, dropped = usable_covariates(frame, settings.covariates)
    if not used:
        raise SettingsError("none of the covariates varies in the data; nothing to match on")
    matcher = make_matcher(settings).fit(frame, treatment="treat", covariates=used)
    unit_ids = frame["unit_id"].to_numpy()
    rows = matcher.matches_.with_columns(unit_id=pl.Series(unit_ids[matcher.matches_["row"].to_numpy()]))
    return matcher, used, dropped, rows.select("unit_id", "subclass", "treat", "weight")


def read_matched(con: duckdb.DuckDBPyConnection, settings: StudySettings, table: str = "matched_units") -> tuple[MatchedData, int]:
    """The matched rows of ``table`` with their outcomes, and how many matched comparisons
    were contaminated (started the programme during their own after window)."""
    rows = run_sql(con, "outcomes/matched_outcomes", {"after_days": settings.after_days}, {"matched": table}).pl()
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
        after_days=settings.after_days,
        replace=settings.replace,
    )
    contaminated = rows.filter(pl.col("contaminated")).select("unit_id").n_unique()
    return data, contaminated


def load_matched(settings: StudySettings) -> tuple[MatchedData, int]:
    """The stored matched sets' outcomes (``matched_units``), and how many matched
    comparisons were contaminated."""
    with opened(settings.db_path, read_only=True) as con:
        return read_matched(con, settings)
