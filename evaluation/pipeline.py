"""The evaluation's steps as plain functions over a study's settings.

Each step reads and writes named tables in the study's working database (person-level
data stay in the work folder) and returns small aggregate results. The Prefect flow in
``flows/`` calls these one task per step; :func:`run_evaluation` calls them in order
without Prefect.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from evaluation.database import connect

from evaluation import cohorts
from evaluation.before_after import evaluate_before_after
from evaluation.loading import LoadReport, load_data
from evaluation.outputs import write_outputs
from evaluation.settings import StudySettings

Progress = Callable[[str], None]

SCHEMA_VERSION = 1


@contextmanager
def _connect(settings: StudySettings, read_only: bool = False):
    con = connect(settings.db_path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def load_step(settings: StudySettings, progress: Progress | None = None) -> LoadReport:
    """Load and validate the study's data folder into its working database."""
    return load_data(settings.data_dir, settings.db_path, cutoff=settings.cutoff, progress=progress)


def cohort_step(settings: StudySettings) -> cohorts.CohortSummary:
    """Build the participant cohort and per-person outcomes in the working database."""
    with _connect(settings) as con:
        return cohorts.build_participant_cohort(con, settings)


def before_after_step(settings: StudySettings) -> dict:
    """The before/after evaluation of the analysed participants (aggregates only)."""
    with _connect(settings, read_only=True) as con:
        outcomes = cohorts.participant_outcomes(con)
        categories = cohorts.category_counts(con)
    result = evaluate_before_after(
        outcomes, categories, seed=settings.seed, n_resamples=settings.bootstrap_resamples
    )
    return result.to_dict()


def assemble_results(settings: StudySettings, load: LoadReport, cohort: cohorts.CohortSummary, before_after: dict) -> dict:
    """results.json's content: deterministic for the same inputs, settings and seed."""
    return {
        "schema_version": SCHEMA_VERSION,
        "study": settings.to_dict(),
        "load": load.to_dict(),
        "cohort": cohort.to_dict(),
        "before_after": before_after,
    }


def run_evaluation(settings: StudySettings, progress: Progress | None = None) -> dict:
    """Run every step in order and write the outputs; return the results."""
    say = progress or (lambda _m: None)
    load = load_step(settings, progress)
    say("building the participant cohort")
    cohort = cohort_step(settings)
    say(f"cohort: {cohort.analysed:,} analysed of {cohort.submitted:,} submitted")
    say("before/after statistics")
    before_after = before_after_step(settings)
    results = assemble_results(settings, load, cohort, before_after)
    write_outputs(settings.out_dir, {"results.json": json.dumps(results, indent=2, sort_keys=False) + "\n"})
    say(f"results written to {Path(settings.out_dir) / 'results.json'}")
    return results
