"""The evaluation's steps, declared once.

:data:`STEPS` is the pipeline: each :class:`Step` names the function that runs it, the
earlier steps' results it takes (``needs``) and when it applies. The plain runner
(:mod:`evaluation.pipeline.runner`), the Prefect flow (``flows/evaluate.py``, one task per
step) and the benchmark (``benchmarks/bench.py``, one timing per step) all iterate this
list, so a step added here appears in all three with no other edit.

Every step takes the study's settings and small typed results of earlier steps, and
returns a small typed result (aggregates only, each with ``to_dict``). Person-level data
stay in the study's working DuckDB file; only table names and summaries pass between steps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.checks.costs import run_costs
from evaluation.checks.e_value_power import run_e_value_and_power
from evaluation.checks.falsification import run_falsification
from evaluation.checks.hidden_bias import run_hidden_bias
from evaluation.checks.sensitivity import run_sensitivity
from evaluation.checks.subgroups import run_subgroups
from evaluation.cohorts import build as cohorts
from evaluation.cohorts.build import CohortSummary
from evaluation.db.connection import opened
from evaluation.estimate.before_after import BeforeAfterResult, evaluate_before_after
from evaluation.estimate.impact import ImpactResult, estimate_impact
from evaluation.files.output_folder import write_outputs
from evaluation.library.update import update_library
from evaluation.load.loader import LoadReport, LoadValidation, load_data
from evaluation.match.sample import MatchResult, load_matched, run_match
from evaluation.pipeline.assemble import assemble_results
from evaluation.provenance.manifest import build_manifest
from evaluation.report.build import audience_view, build_outputs
from evaluation.settings.model import StudySettings

Values = Mapping[str, Any]

def can_match(settings: StudySettings, values: Values) -> bool:
    """Whether the cohort is big enough for the matched comparison (MIN_PARTICIPANTS_TO_MATCH)."""
    return values["cohorts"].can_match


def run_checks(settings: StudySettings, values: Values) -> bool:
    """The re-matching checks run when the study asks for them and there is a match."""
    return settings.checks.robustness and can_match(settings, values)


def always(settings: StudySettings, values: Values) -> bool:
    return True


def has_library(settings: StudySettings, values: Values) -> bool:
    """The study names an evidence library to add its partner results to."""
    return settings.library.path is not None


@dataclass(frozen=True)
class Step:
    """One step of the evaluation.

    Parameters
    ----------
    key : the name its result is known by; later steps list it in ``needs``.
    title : what it does, for progress lines and Prefect's task names.
    run : ``run(settings, **{need: result})`` returns the step's result.
    needs : earlier steps' keys passed to ``run`` by name (a need whose step did not apply
        is passed as None), or ``started`` (the run's start time) or ``context`` (the run's
        :class:`~evaluation.pipeline.context.RunContext`: what steps share in memory, so
        every sharing of data between steps is declared here).
    stage : the stage it belongs to (load, cohorts, estimate, match, checks, report), for
        the benchmark's totals.
    when : ``when(settings, results_so_far)``: whether the step applies to this study.
    io : reads or writes files, so the flow retries it on a transient error.
    reads, writes : the tables of the working database it reads and creates (a test checks
        that every table read was written by an earlier step, and that a run creates exactly
        the tables declared; docs/architecture.md's table is checked against them).
    """

    key: str
    title: str
    run: Callable[..., Any]
    needs: tuple[str, ...] = ()
    stage: str = "estimate"
    when: Callable[[StudySettings, Values], bool] = always
    io: bool = False
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()


def load(settings: StudySettings, context=None) -> LoadReport:
    """Load and validate the study's data folder into its working database (in a batch, a
    copy of the national snapshot with the request's participants read into it)."""
    return load_data(settings.data_dir, settings.db_path, cutoff=settings.data.cutoff,
                     date_format=settings.data.date_format, columns=settings.data.columns,
                     participants=settings.data.participants, snapshot=None if context is None else context.snapshot,
                     progress=logging.getLogger("reoffend.progress").info)


def validate(settings: StudySettings, load: LoadReport) -> LoadValidation:
    """Check that every line read was loaded or rejected, and warn on many rejects."""
    return load.validation()


def build_cohorts(settings: StudySettings) -> CohortSummary:
    """The participant cohort, comparison pool and per-person outcomes, in the database."""
    with opened(settings.db_path) as con:
        return cohorts.build_cohorts(con, settings)


def before_after(settings: StudySettings) -> BeforeAfterResult:
    """The before/after evaluation of the analysed participants (aggregates only)."""
    with opened(settings.db_path, read_only=True) as con:
        outcomes = cohorts.participant_outcomes(con)
        categories = cohorts.category_counts(con)
    return evaluate_before_after(outcomes, categories, seed=settings.seed, n_resamples=settings.checks.bootstrap_resamples)


def match(settings: StudySettings, cohorts: CohortSummary, context) -> MatchResult:
    return run_match(settings, context)


def estimate(settings: StudySettings, match: MatchResult, context) -> ImpactResult:
    """The Justice Data Lab's measures on the stored matched sample."""
    data, contaminated = load_matched(settings, context)
    return estimate_impact(data, contaminated_comparisons=contaminated)


@dataclass(frozen=True)
class Written:
    """What the write step made, for the steps and callers after it (aggregates only):
    the output folder, the run's manifest and the audience's view of the results, each
    made once."""

    out_dir: Path
    manifest: dict
    view: dict

    def __str__(self) -> str:
        return str(self.out_dir)


def write(settings: StudySettings, results: dict, started: str) -> Written:
    """Every output for the study's audience, as the whole output folder, atomically."""
    manifest = build_manifest(settings, results, started=started)
    view = audience_view(results, settings.audience.kind, settings.audience.suppression_threshold)
    files = build_outputs(results, manifest, audience=settings.audience.kind,
                          threshold=settings.audience.suppression_threshold, view=view)
    return Written(write_outputs(settings.out_dir, files, data_dir=settings.data_dir), manifest, view)


#: The staged input tables the load writes.
STAGED = ("people", "offences", "participants", "custody", "load_metadata", "rejects")
#: What the cohorts step builds.
COHORTS = ("participant_starts", "participant_cohort", "comparison_candidates", "study_population", "custody_periods",
           "window_offences", "unit_outcomes", "unit_covariates", "participant_outcomes")
#: What reading the matched sample (match/sample.py, the estimate and the checks that re-match) reads.
MATCHED_SAMPLE = ("matched_units", "unit_outcomes", "window_offences", "custody_periods", "custody", "offences",
                  "study_population")

#: The evaluation, in order. ``results`` assembles results.json from every result before it.
STEPS: tuple[Step, ...] = (
    Step("load", "load and validate the data", load, ("context",), stage="load", io=True, writes=STAGED),
    Step("validate", "reconcile the load", validate, ("load",), stage="load"),
    Step("cohorts", "build cohorts", build_cohorts, stage="cohorts",
         reads=("people", "offences", "participants", "custody", "load_metadata"), writes=COHORTS),
    Step("before_after", "before/after", before_after, stage="estimate",
         reads=("participant_outcomes", "window_offences")),
    Step("match", "match", match, ("cohorts", "context"), stage="match", when=can_match,
         reads=("unit_covariates",), writes=("matched_units",)),
    Step("estimate", "estimate", estimate, ("match", "context"), stage="estimate", when=can_match,
         reads=MATCHED_SAMPLE),
    Step("costs", "value for money", run_costs, ("cohorts", "estimate", "context"), stage="checks", when=can_match,
         reads=MATCHED_SAMPLE),
    Step("hidden_bias", "hidden bias", run_hidden_bias, ("estimate", "context"), stage="checks", when=can_match,
         reads=MATCHED_SAMPLE),
    Step("e_value_power", "E-value and power", run_e_value_and_power, ("estimate",), stage="checks", when=can_match),
    Step("sensitivity", "sensitivity", run_sensitivity, ("estimate", "context"), stage="checks", when=run_checks,
         reads=("unit_covariates", *MATCHED_SAMPLE)),
    Step("falsification", "falsification test", run_falsification, ("estimate", "context"), stage="checks",
         when=run_checks, reads=("unit_covariates", *MATCHED_SAMPLE)),
    Step("subgroups", "subgroups", run_subgroups, ("estimate", "context"), stage="checks", when=run_checks,
         reads=("people", *MATCHED_SAMPLE)),
    Step("results", "assemble results", assemble_results,
         ("load", "validate", "cohorts", "before_after", "match", "estimate", "costs", "hidden_bias",
          "e_value_power", "sensitivity", "falsification", "subgroups"), stage="report"),
    Step("write", "write outputs", write, ("results", "started"), stage="report", io=True),
    Step("library", "update the evidence library", update_library, ("results", "write"), stage="report", io=True,
         when=has_library),
)
