"""The ``evaluate`` flow: load -> validate -> build cohorts -> before/after -> match ->
estimate -> value for money, hidden bias, sensitivity, placebo, subgroups -> write
outputs, each a named Prefect task over one library function.

Tasks pass the study's settings and small aggregate dictionaries, never frames of
records: person-level data stay in the study's working DuckDB file, and no task result is
persisted (``persist_result=False``), so nothing about a person reaches Prefect's result
storage. The run publishes a markdown artifact (headline and a Justice Data Lab style
table) and a link artifact to the outputs.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NONE

from evaluation.pipeline import runner as pipeline

from evaluation.checks import steps as robustness_steps
from evaluation.files.output_folder import check_output_folder
from evaluation.files.workspace import remove_work, run_lock
from evaluation.settings.model import StudySettings

# File I/O can fail transiently (a network share, a busy disk): those tasks retry.
_IO = {"retries": 2, "retry_delay_seconds": 2}
_COMMON = {"persist_result": False, "cache_policy": NONE}


@task(name="load", **_IO, **_COMMON)
def load(settings: StudySettings) -> dict:
    report = pipeline.load_step(settings, progress=get_run_logger().info)
    return report.to_dict()


@task(name="validate", **_COMMON)
def validate(settings: StudySettings, load_report: dict) -> dict:
    return pipeline.validate_step(settings, load_report)


@task(name="build cohorts", **_COMMON)
def build_cohorts(settings: StudySettings) -> dict:
    summary = pipeline.cohort_step(settings)
    get_run_logger().info(summary.summary())
    return summary.to_dict()


@task(name="before/after", **_COMMON)
def before_after(settings: StudySettings) -> dict:
    return pipeline.before_after_step(settings)


@task(name="match", **_COMMON)
def match(settings: StudySettings) -> dict:
    result = pipeline.match_step(settings)
    c = result["counts"]
    get_run_logger().info(f"matched {c['matched']:,} of {c['treated']:,} participants; "
                          f"max |SMD| after {result['balance']['max_abs_smd_after']:.3f}")
    return result


@task(name="estimate", **_COMMON)
def estimate(settings: StudySettings) -> dict:
    return pipeline.estimate_step(settings)


@task(name="value for money", **_COMMON)
def value_for_money(settings: StudySettings, submitted: int) -> dict:
    return robustness_steps.costs_step(settings, submitted)


@task(name="hidden bias", **_COMMON)
def hidden_bias(settings: StudySettings, impact: dict) -> dict:
    return robustness_steps.hidden_bias_step(settings, impact)


@task(name="sensitivity", **_COMMON)
def sensitivity(settings: StudySettings, impact: dict) -> list[dict]:
    return robustness_steps.sensitivity_step(settings, impact)


@task(name="placebo", **_COMMON)
def placebo(settings: StudySettings) -> dict:
    return robustness_steps.placebo_step(settings)


@task(name="subgroups", **_COMMON)
def subgroups(settings: StudySettings) -> list[dict]:
    return robustness_steps.subgroup_step(settings)


@task(name="write outputs", **_IO, **_COMMON)
def write_outputs(settings: StudySettings, results: dict, started: str) -> str:
    return str(pipeline.write_step(settings, results, started=started))


def _publish(view: dict, out_dir: str) -> None:
    """Artifacts for Prefect's UI, from the audience's view of the results (a partner run's
    artifact holds only what its partner outputs hold)."""
    create_markdown_artifact(
        key="evaluation-summary",
        markdown=pipeline.headline_markdown(view),
        description="Headline and Justice Data Lab style results table (aggregates only)",
    )
    create_link_artifact(key="evaluation-outputs", link=f"file://{out_dir}", link_text="evaluation outputs")


@flow(name="evaluate", persist_result=False, log_prints=False)
def evaluate(settings: StudySettings) -> dict:
    """Evaluate one study end to end; returns the results (aggregates only)."""
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    check_output_folder(settings.out_dir, data_dir=settings.data_dir)
    with run_lock(settings.out_dir):  # one evaluation of an output folder at a time
        try:
            results, out_dir = _steps(settings, started)
        finally:
            if not settings.keep_work:
                remove_work(settings.work_path)
    _publish(pipeline.audience_view(settings, results), out_dir)
    return results


def _steps(settings: StudySettings, started: str) -> tuple[dict, str]:
    load_report = load(settings)
    validate(settings, load_report)
    cohort = build_cohorts(settings)
    ba = before_after(settings)
    if not pipeline.can_match(cohort):
        get_run_logger().warning(pipeline.not_matched_reason(cohort))
        results = pipeline.assemble_results(settings, load_report, cohort, ba, None, None)
        return results, write_outputs(settings, results, started)
    matched = match(settings)
    impact = estimate(settings)
    checks = {"costs": value_for_money(settings, cohort["submitted"]),
              "rosenbaum_gamma": hidden_bias(settings, impact)}
    if settings.robustness:
        checks["sensitivity"] = sensitivity(settings, impact)
        checks["placebo"] = placebo(settings)
        checks["subgroups"] = subgroups(settings)
    results = pipeline.assemble_results(settings, load_report, cohort, ba, matched, impact, checks)
    return results, write_outputs(settings, results, started)
