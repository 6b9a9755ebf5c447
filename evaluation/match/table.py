"""Propensity score matching on any person-level table (``reoffend match``): read the
table, check its columns, match, and report balance and the matched difference."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from evaluation.errors import SettingsError
from evaluation.estimate.impact import GroupComparison, matched_difference
from evaluation.estimate.types import finite
from evaluation.match.matcher import PropensityMatcher

#: Text read as a missing value in a CSV (R writes NA).
NULL_VALUES = ["", "NA", "N/A", "NaN", "null", "NULL"]


def read_table(path: Path) -> pl.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise SettingsError(f"{path}: file not found")
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema_length=10000, null_values=NULL_VALUES)
    except (pl.exceptions.PolarsError, OSError) as exc:
        kind = "Parquet" if path.suffix == ".parquet" else "CSV"
        raise SettingsError(f"{path}: cannot be read as {kind} ({str(exc).splitlines()[0]})") from None


def _numeric(frame: pl.DataFrame, column: str, role: str, hint: str) -> None:
    dtype = frame.schema[column]
    if not (dtype.is_numeric() or dtype == pl.Boolean):
        raise SettingsError(f"{role} column '{column}' holds {dtype} values, not numbers{hint}")


@dataclass(frozen=True)
class TableMatchResult:
    """A matched comparison on a user's table: the fitted matcher, the matched difference in
    the outcome, the naive difference and how many rows had a missing value."""

    matcher: PropensityMatcher
    outcome: str
    effect: GroupComparison
    naive_difference: float
    rows_dropped: int

    def to_dict(self) -> dict:
        m, d = self.matcher, self.effect.difference
        return finite({
            "treated": m.counts_.matched,
            "comparison": m.counts_.comparison_units,
            "counts": m.counts_.to_dict(),
            "rows_dropped_for_missing_values": self.rows_dropped,
            "effect": d.to_dict(),
            "naive_difference": self.naive_difference,
            "treated_mean": self.effect.treated,
            "comparison_mean": self.effect.comparison,
            "balance": [{"covariate": r.covariate, "smd_before": r.smd_before, "smd_after": r.smd_after,
                         "variance_ratio_after": r.variance_ratio_after, "ecdf_mean_after": r.ecdf_mean_after,
                         "ecdf_max_after": r.ecdf_max_after, "flags": r.flags}
                        for r in m.balance_.rows],
            "max_abs_smd_after": m.balance_.max_abs_smd_after,
            "imbalanced_after": m.balance_.imbalanced,
            "smd_convention": m.balance_.convention,
        })

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def summary(self) -> str:
        m, d, c = self.matcher, self.effect.difference, self.matcher.counts_
        lines = [m.balance_.summary(), f"\nSMD: {m.balance_.convention}",
                 f"\nmatched {c.matched:,} of {c.treated:,} treated to {c.comparison_units:,} comparisons "
                 f"({c.no_match_within_caliper:,} no match within the caliper, {c.outside_common_support:,} outside "
                 "common support)"]
        if self.rows_dropped:
            lines.append(f"{self.rows_dropped:,} rows with a missing value were left out")
        lines += [f"naive difference (treated - all untreated): {self.naive_difference:,.2f}",
                  f"matched difference in {self.outcome} (treated - comparison): {d.estimate:,.2f} "
                  f"(95% CI {d.ci95[0]:,.2f} to {d.ci95[1]:,.2f}; p = {d.p_value:.4g})"]
        if m.balance_.imbalanced:
            lines.append("WARNING: poor balance after matching: " + m.balance_.imbalance_text())
        return "\n".join(lines)


def match_table(path: str | Path, *, treatment: str, covariates: list[str], outcome: str, caliper: float | None = 0.2,
                distance: str = "logit", ratio: int = 1, replace: bool = False, order: str = "descending",
                fill: str = "rounds", exact: list[str] = (), seed: int = 0) -> TableMatchResult:
    """Match the treated rows of a CSV or Parquet table to similar untreated rows."""
    frame = read_table(Path(path))
    for col in [treatment, outcome, *covariates, *exact]:
        if col not in frame.columns:
            raise SettingsError(f"{path}: no column '{col}' (columns: {', '.join(frame.columns)})")
    if not covariates:
        raise SettingsError("give at least one covariate (--covariates A,B,C)")
    values = set(frame[treatment].drop_nulls().unique().to_list())
    if not values <= {0, 1}:
        raise SettingsError(f"treatment column '{treatment}' must hold 0/1 (or true/false)")
    for col in covariates:
        _numeric(frame, col, "covariate", f"; to match exactly on it use --exact {col} and leave it out of --covariates")
    _numeric(frame, outcome, "outcome", "; give a numeric outcome, such as a count or a 0/1 flag")
    before = frame.height
    frame = frame.drop_nulls([treatment, outcome, *covariates, *exact]).with_columns(pl.col(treatment).cast(pl.Int8))
    if frame.height == 0:
        raise SettingsError(f"{path}: every row has a missing value in the columns named")
    matcher = PropensityMatcher(caliper=caliper, distance=distance, ratio=ratio, replace=replace, order=order,
                                fill=fill, exact=list(exact), seed=seed).fit(frame, treatment=treatment, covariates=covariates)
    y = frame[outcome].cast(pl.Float64).to_numpy()
    treat = frame[treatment].to_numpy() == 1
    return TableMatchResult(matcher, outcome, matched_difference(y, matcher.matches_),
                            float(y[treat].mean() - y[~treat].mean()), before - frame.height)
