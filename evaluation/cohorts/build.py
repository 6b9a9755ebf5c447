"""Participant cohorts: index dates, windows, exclusions and per-person outcomes.

All the work is in ``sql/cohorts`` and ``sql/outcomes``; this module runs those queries
with bound parameters and checks that everyone submitted is analysed or excluded with a
reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from evaluation.db.queries import run_sql
from evaluation.errors import DataFileError, ReoffendError, SettingsError
from evaluation.link.flow import LinkageFlow, read_linkage
from evaluation.load.contract import OFFENCE_GROUPS
from evaluation.load.preflight import check_programmes
from evaluation.settings.model import StudySettings

#: Fewer analysed participants than this are too few to build a matched comparison group:
#: the evaluation then reports before/after only, and says why.
MIN_PARTICIPANTS_TO_MATCH = 10


@dataclass(frozen=True)
class CohortSummary:
    """Who was submitted, analysed and excluded (with reasons), and the comparison pool."""

    submitted: int
    analysed: int
    excluded: dict[str, int]
    programmes: tuple[str, ...]
    data_cutoff: dt.date
    first_index_date: dt.date | None
    last_index_date: dt.date | None
    comparison_pool: str
    candidates: int
    candidate_people: int
    candidates_excluded: dict[str, int]
    index_lag_days: int
    sample_fraction: float
    #: where participants' records are measured: "referral date" (every analysed
    #: participant has one), "start date" (none has) or "referral date where given"
    record_measured_at: str
    #: the council's list, when the participants came from reoffend link
    linkage: LinkageFlow | None = None

    def to_dict(self) -> dict:
        return {
            "linkage": None if self.linkage is None else self.linkage.to_dict(),
            "submitted": self.submitted,
            "participants": self.analysed,
            "excluded": dict(sorted(self.excluded.items())),
            "programmes": list(self.programmes),
            "data_cutoff": self.data_cutoff.isoformat(),
            "index_dates": [
                self.first_index_date.isoformat() if self.first_index_date else None,
                self.last_index_date.isoformat() if self.last_index_date else None,
            ],
            "comparison_pool": {
                "kind": self.comparison_pool,
                "candidate_units": self.candidates,
                "candidate_people": self.candidate_people,
                "excluded_units": dict(sorted(self.candidates_excluded.items())),
                "index_lag_days": self.index_lag_days,
                "sample_fraction": round(self.sample_fraction, 8),
            },
            "record_measured_at": self.record_measured_at,
        }

    @property
    def can_match(self) -> bool:
        """Whether enough participants were analysed to build a matched comparison group."""
        return self.analysed >= MIN_PARTICIPANTS_TO_MATCH

    def brief(self) -> str:
        return (f"{self.analysed:,} analysed of {self.submitted:,} submitted; "
                f"{self.candidates:,} comparison candidates")

    def summary(self) -> str:
        lines = []
        if self.linkage is not None:
            lines.append(f"listed {self.linkage.listed:,}; identified {self.linkage.identified:,} "
                         f"({self.linkage.identified_people:,} people)")
            lines += [f"  not identified ({reason}): {n:,}" for reason, n in sorted(self.linkage.not_identified.items())]
        lines.append(f"submitted {self.submitted:,}; analysed {self.analysed:,}")
        lines += [f"  excluded ({reason}): {n:,}" for reason, n in sorted(self.excluded.items())]
        lines.append(f"comparison candidates ({self.comparison_pool}): {self.candidates:,} person-events "
                     f"of {self.candidate_people:,} people")
        return "\n".join(lines)


def programme_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in run_sql(con, "cohorts/programme_names").fetchall()]


def window_params(settings: StudySettings) -> dict:
    return {
        "before_days": settings.windows.before_days,
        "after_days": settings.windows.after_days,
        "waiting_days": settings.windows.waiting_days,
    }


#: Query parameter names for the offence groups' category lists.
GROUP_PARAMS = {
    "person_group": "against_the_person",
    "property_group": "property",
    "drugs_group": "drugs",
    "other_group": "other",
}

#: days_since_last_offence for someone with no earlier proven offence (and its cap).
NO_OFFENCE_DAYS = 3650

#: The falsification test's control window (evaluation/checks/falsification.py): two years
#: (for power), ending where the selection year begins. Its offences are counted with the
#: covariates (unit_covariates.control_offences), in the same pass over the records.
CONTROL_DAYS = 730

#: Column prefixes in participant_outcomes for each offence group.
GROUP_COLUMNS = {"against_the_person": "person", "property": "property", "drugs": "drugs", "other": "other"}


def group_params() -> dict[str, list[str]]:
    return {param: list(OFFENCE_GROUPS[group]) for param, group in GROUP_PARAMS.items()}


#: The comparison pool holds at least this many eligible candidates per analysed
#: participant, or every candidate when there are fewer.
CANDIDATES_PER_PARTICIPANT = 50
#: The sample is drawn this much larger than its target, so that the random sample's size
#: (binomial: a spread of about the square root of the target) stays above it.
POOL_MARGIN = 1.02


def pool_size(participants: int, max_comparison_units: int) -> int:
    """The comparison pool's target size: ``max_comparison_units`` or
    :data:`CANDIDATES_PER_PARTICIPANT` per analysed participant, whichever is larger."""
    return max(max_comparison_units, CANDIDATES_PER_PARTICIPANT * participants)


def pool_fraction(eligible_events: int, participants: int, max_comparison_units: int) -> float:
    """The share of the eligible candidate events to sample: 1 (all of them) unless there
    are more than :data:`POOL_MARGIN` times :func:`pool_size`."""
    if eligible_events == 0:
        return 1.0
    return min(1.0, POOL_MARGIN * pool_size(participants, max_comparison_units) / eligible_events)


def build_cohorts(con: duckdb.DuckDBPyConnection, settings: StudySettings) -> CohortSummary:
    """Create the participant cohort, the comparison candidates, the study population and
    its outcomes and covariates in the database."""
    known = programme_names(con)
    # after the preflight's check of the file: every row naming a programme may have been rejected
    check_programmes(settings.data.programmes, known, where="the loaded data (see rejects.csv)")
    programmes = tuple(settings.data.programmes) or tuple(known)
    cutoff = run_sql(con, "cohorts/data_cutoff").fetchone()[0]
    data_start = run_sql(con, "cohorts/data_start").fetchone()[0]
    windows = {**window_params(settings), "cutoff": cutoff, "data_start": data_start}
    run_sql(con, "cohorts/participant_starts", {"programmes": list(settings.data.programmes) or None})
    run_sql(con, "cohorts/participant_cohort", {**windows, "index_shift_days": settings.windows.index_shift_days,
                                                "referral_window_days": settings.windows.referral_window_days})
    statuses = dict(run_sql(con, "cohorts/cohort_exclusions").fetchall())
    analysed = statuses.pop("analysed", 0)
    submitted = run_sql(con, "common/table_row_count", identifiers={"table": "participant_cohort"}).fetchone()[0]
    if submitted != analysed + sum(statuses.values()):
        raise ReoffendError(f"internal error: {submitted} submitted but {analysed} analysed + {statuses} excluded")
    if analysed == 0:
        reasons = "; ".join(f"{r}: {n}" for r, n in statuses.items()) or "nobody started the programme(s)"
        raise SettingsError(f"no participants can be analysed ({reasons})")
    first, last = run_sql(con, "cohorts/index_date_range").fetchone()
    lag = run_sql(con, "cohorts/index_lag").fetchone()[0]
    with_date, without_date = run_sql(con, "cohorts/referral_date_use").fetchone()
    measured_at = ("referral date" if not without_date else "start date" if not with_date
                   else "referral date where given")
    pool_params = {**windows, "index_lag_days": lag, "first_index": first, "last_index": last,
                   "pool": settings.matching.comparison_pool, "seed": settings.seed,
                   "index_shift_days": settings.windows.index_shift_days}
    run_sql(con, "cohorts/candidate_event_rows")
    run_sql(con, "cohorts/candidate_events")
    target = pool_size(analysed, settings.matching.max_comparison_units)
    # Sized first by an estimate of the units made in one pass (no merging of every
    # person's events of one day), and again by the exact count in the rare case that
    # leaves the sample short of its target.
    each_event, subset_events, subset_units = run_sql(
        con, "cohorts/candidate_event_rows_count", pool_params).fetchone()
    events = round(each_event * subset_units / subset_events) if subset_events else each_event
    for exact in (False, True):
        if exact:
            events = run_sql(con, "cohorts/candidate_event_count", pool_params).fetchone()[0]
        fraction = pool_fraction(events, analysed, settings.matching.max_comparison_units)
        run_sql(con, "cohorts/comparison_candidates", {**pool_params, "sample_fraction": fraction})
        rows = run_sql(con, "cohorts/comparison_exclusions").fetchall()
        pool = {status: units for status, units, _ in rows}
        candidates = pool.pop("eligible", 0)
        if fraction >= 1.0 or candidates >= target:
            break
    candidate_people = next((people for status, _, people in rows if status == "eligible"), 0)
    run_sql(con, "cohorts/study_population")
    run_sql(con, "outcomes/custody_periods", {"cutoff": cutoff})
    run_sql(con, "outcomes/window_offences", {"waiting_days": settings.windows.waiting_days})
    run_sql(
        con,
        "outcomes/unit_outcomes",
        {"before_days": settings.windows.before_days, "after_days": settings.windows.after_days, **group_params()},
    )
    run_sql(con, "outcomes/participant_outcomes")
    run_sql(con, "outcomes/unit_covariates", {
        "no_offence_days": NO_OFFENCE_DAYS, **group_params(), "before_days": settings.windows.before_days,
        "waiting_days": settings.windows.waiting_days, "control_days": CONTROL_DAYS, "data_start": data_start})
    return CohortSummary(
        submitted, analysed, statuses, programmes, cutoff, first, last,
        settings.matching.comparison_pool, candidates, candidate_people, pool, lag, fraction, measured_at,
        _linkage(settings, programmes, submitted),
    )


def _linkage(settings: StudySettings, programmes: tuple[str, ...], submitted: int) -> LinkageFlow | None:
    """The list the participants were linked from, if they were (linkage.json beside them)."""
    from evaluation.load.loader import find_table_files

    participants = find_table_files(Path(settings.data_dir), settings.data.participants)["participants"]
    flow = read_linkage(participants, programmes)
    if flow is not None and flow.identified_people < submitted:
        raise DataFileError(f"the participants file holds {flow.identified_people:,} people on the evaluated programmes "
                            f"but {submitted:,} were loaded", file=str(participants))
    return flow


def participant_outcomes(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The per-person outcome table as a polars frame (person-level: keep it in the work folder)."""
    return run_sql(con, "common/table_rows", identifiers={"table": "participant_outcomes"}).pl()


def category_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return run_sql(con, "outcomes/category_counts").pl()


def unit_covariates(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Covariates of every unit in the study population (person-level: work folder only)."""
    return run_sql(con, "common/table_rows", identifiers={"table": "unit_covariates"}).pl()


def unit_outcomes(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return run_sql(con, "common/table_rows", identifiers={"table": "unit_outcomes"}).pl()
