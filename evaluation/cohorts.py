"""Participant cohorts: index dates, windows, exclusions and per-person outcomes.

All the work is in ``sql/cohorts`` and ``sql/outcomes``; this module runs those queries
with bound parameters and checks that everyone submitted is analysed or excluded with a
reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from evaluation.contract import OFFENCE_GROUPS
from evaluation.errors import ReoffendError, SettingsError
from evaluation.settings import StudySettings
from evaluation.sql_files import read_sql, render_sql


@dataclass(frozen=True)
class CohortSummary:
    """Who was submitted, analysed and excluded (with reasons)."""

    submitted: int
    analysed: int
    excluded: dict[str, int]
    programmes: tuple[str, ...]
    data_cutoff: dt.date
    first_index_date: dt.date | None
    last_index_date: dt.date | None

    def to_dict(self) -> dict:
        return {
            "submitted": self.submitted,
            "participants": self.analysed,
            "excluded": dict(sorted(self.excluded.items())),
            "programmes": list(self.programmes),
            "data_cutoff": self.data_cutoff.isoformat(),
            "index_dates": [
                self.first_index_date.isoformat() if self.first_index_date else None,
                self.last_index_date.isoformat() if self.last_index_date else None,
            ],
        }

    def summary(self) -> str:
        lines = [f"submitted {self.submitted:,}; analysed {self.analysed:,}"]
        lines += [f"  excluded ({reason}): {n:,}" for reason, n in sorted(self.excluded.items())]
        return "\n".join(lines)


def programme_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute(read_sql("cohorts/programme_names")).fetchall()]


def window_params(settings: StudySettings) -> dict:
    return {
        "before_days": settings.before_days,
        "after_days": settings.after_days,
        "waiting_days": settings.waiting_days,
    }


#: Query parameter names for the offence groups' category lists.
GROUP_PARAMS = {
    "person_group": "against_the_person",
    "property_group": "property",
    "drugs_group": "drugs",
    "other_group": "other",
}

#: Column prefixes in participant_outcomes for each offence group.
GROUP_COLUMNS = {"against_the_person": "person", "property": "property", "drugs": "drugs", "other": "other"}


def group_params() -> dict[str, list[str]]:
    return {param: list(OFFENCE_GROUPS[group]) for param, group in GROUP_PARAMS.items()}


def build_participant_cohort(con: duckdb.DuckDBPyConnection, settings: StudySettings) -> CohortSummary:
    """Create ``participant_cohort`` and ``participant_outcomes`` in the database."""
    known = programme_names(con)
    unknown = [p for p in settings.programmes if p not in known]
    if unknown:
        raise SettingsError(
            f"programme(s) not in the data: {', '.join(map(repr, unknown))}; the data has: {', '.join(map(repr, known))}"
        )
    programmes = tuple(settings.programmes) or tuple(known)
    cutoff = con.execute(read_sql("cohorts/data_cutoff")).fetchone()[0]
    data_start = con.execute(read_sql("cohorts/data_start")).fetchone()[0]
    con.execute(read_sql("cohorts/participant_starts"), {"programmes": list(settings.programmes) or None})
    con.execute(
        read_sql("cohorts/participant_cohort"),
        {**window_params(settings), "cutoff": cutoff, "data_start": data_start},
    )
    statuses = dict(con.execute(read_sql("cohorts/cohort_exclusions")).fetchall())
    analysed = statuses.pop("analysed", 0)
    submitted = con.execute(render_sql("staging/table_row_count", {"table": "participant_cohort"})).fetchone()[0]
    if submitted != analysed + sum(statuses.values()):
        raise ReoffendError(f"internal error: {submitted} submitted but {analysed} analysed + {statuses} excluded")
    if analysed == 0:
        reasons = "; ".join(f"{r}: {n}" for r, n in statuses.items()) or "nobody started the programme(s)"
        raise SettingsError(f"no participants can be analysed ({reasons})")
    con.execute(read_sql("outcomes/custody_periods"), {"cutoff": cutoff})
    con.execute(read_sql("outcomes/window_offences"), {"waiting_days": settings.waiting_days})
    con.execute(
        read_sql("outcomes/participant_outcomes"),
        {"before_days": settings.before_days, "after_days": settings.after_days, **group_params()},
    )
    first, last = con.execute(read_sql("cohorts/index_date_range")).fetchone()
    return CohortSummary(submitted, analysed, statuses, programmes, cutoff, first, last)


def participant_outcomes(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The per-person outcome table as a polars frame (person-level: keep it in the work folder)."""
    return con.execute(render_sql("staging/table_rows", {"table": "participant_outcomes"})).pl()


def category_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.execute(read_sql("outcomes/category_counts")).pl()
