"""The ``evaluate`` flow: one Prefect task per step of
:data:`evaluation.pipeline.steps.STEPS`, made from that declaration (:func:`task_for`).

Tasks pass the study's settings and the earlier steps' small typed results (aggregates
only), never frames of records: person-level data stay in the study's working DuckDB
file, and no task result is persisted (``persist_result=False``), so nothing about a
person reaches Prefect's result storage. Each task takes its inputs as arguments, so
Prefect's graph shows the real dependencies. The run publishes a markdown artifact
(headline and a Justice Data Lab style table) and a link artifact to the outputs.

For the operator (docs/operations.md):

- the progress lines a terminal shows go to the run's log in Prefect (:mod:`flows.run_log`);
- a problem the user can fix (a :class:`~evaluation.errors.ReoffendError`: bad data, bad
  settings, a refused folder) fails the run at once, never retried, and its one line is
  the flow run's state message; only transient I/O errors are retried;
- a served run prints a line as it starts and as it ends, with its outcome;
- a failed run sends the notification its study file names (``[study.notify]``).
"""

from __future__ import annotations

import functools
from typing import Optional

from prefect import flow, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.states import Failed

from evaluation.errors import ReoffendError
from evaluation.pipeline.runner import evaluation_session, run_steps
from evaluation.pipeline.steps import Step
from evaluation.report.wording import headline_markdown
from evaluation.settings.model import StudySettings
from flows.run_log import announce, notify_failure, progress_to_run_log, transient

_COMMON = {"persist_result": False, "cache_policy": NONE}
#: File I/O can fail transiently (a network share, a busy disk): those tasks retry, but
#: only on an error that can pass (``transient``); the tool's own errors fail at once.
_IO = {"retries": 2, "retry_delay_seconds": 2}


def _retry_when_transient(task, task_run, state) -> bool:
    """Prefect's ``retry_condition_fn``: retry an I/O step only on a transient error."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - the failed state's own exception, classified
        return transient(exc)
    return False


@functools.cache
def task_for(step: Step):
    """The Prefect task of a step (made once per step)."""
    retry = {**_IO, "retry_condition_fn": _retry_when_transient} if step.io else {}
    return task(name=step.title, **_COMMON, **retry)(step.run)


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


@flow(name="evaluate", persist_result=False, log_prints=False,
      on_failure=[notify_failure], on_crashed=[notify_failure])
def evaluate(settings: StudySettings, notify: Optional[str] = None) -> dict:
    """Evaluate one study end to end; returns the results (aggregates only).

    ``notify`` names a saved Prefect notification block (``"custom-webhook/ops"``) that
    is sent the run's one-line reason if it fails."""
    with progress_to_run_log():
        announce(f"started: study {settings.name!r}")
        try:
            with evaluation_session(settings) as context:  # output-folder policy, lock, work folder removed after
                values = run_steps(settings, call=_as_task, context=context)
        except ReoffendError as exc:
            announce(f"failed: {exc}")
            # The run's state message is the tool's own line, not Prefect's "encountered an
            # exception"; calling the flow still raises ``exc``.
            return Failed(message=str(exc), data=exc)
        _publish(values["write"].view, str(values["write"].out_dir))  # the view the write step made
        announce(f"completed: outputs in {values['write']}")
        return values["results"]
