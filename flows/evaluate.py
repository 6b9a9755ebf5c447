"""The ``evaluate`` flow: one Prefect task per step of
:data:`evaluation.pipeline.steps.STEPS`, made from that declaration (:func:`task_for`).

Tasks pass the study's settings and the earlier steps' small typed results (aggregates
only), never frames of records: person-level data stay in the study's working DuckDB
file, and no task result is persisted (``persist_result=False``), so nothing about a
person reaches Prefect's result storage. Each task takes its inputs as arguments, so
Prefect's graph shows the real dependencies. The run publishes a markdown artifact
(headline and a Justice Data Lab style table) and a link artifact to the outputs.
"""

from __future__ import annotations

import functools

from prefect import flow, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NONE

from evaluation.pipeline.runner import audience_view, evaluation_session, run_steps
from evaluation.pipeline.steps import Step
from evaluation.report.wording import headline_markdown
from evaluation.settings.model import StudySettings

_COMMON = {"persist_result": False, "cache_policy": NONE}
#: File I/O can fail transiently (a network share, a busy disk): those tasks retry.
_IO = {"retries": 2, "retry_delay_seconds": 2}

@functools.cache
def task_for(step: Step):
    """The Prefect task of a step (made once per step)."""
    return task(name=step.title, **_COMMON, **(_IO if step.io else {}))(step.run)


def _as_task(step: Step, settings: StudySettings, inputs: dict):
    return task_for(step)(settings, **inputs)


def _publish(view: dict, out_dir: str) -> None:
    """Artifacts for Prefect's UI, from the audience's view of the results (a partner run's
    artifact holds only what its partner outputs hold)."""
    create_markdown_artifact(
        key="evaluation-summary",
        markdown=headline_markdown(view),
        description="Headline and Justice Data Lab style results table (aggregates only)",
    )
    create_link_artifact(key="evaluation-outputs", link=f"file://{out_dir}", link_text="evaluation outputs")


@flow(name="evaluate", persist_result=False, log_prints=False)
def evaluate(settings: StudySettings) -> dict:
    """Evaluate one study end to end; returns the results (aggregates only)."""
    with evaluation_session(settings):  # output-folder policy, lock, work folder removed after
        values = run_steps(settings, call=_as_task)
    _publish(audience_view(settings, values["results"]), str(values["write"]))
    return values["results"]
