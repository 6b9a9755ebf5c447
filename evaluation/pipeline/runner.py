"""Running the declared steps (``evaluation.pipeline.steps.STEPS``) in order.

:func:`run_steps` is the one loop over the steps: the plain runner calls each step
directly, the Prefect flow passes a ``call`` that runs it as a task, and the benchmark
times each. Progress goes to the ``reoffend.progress`` logger: a line as each step starts
and one with its time as it ends (the command line shows them on stderr).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evaluation.files.output_folder import check_output_folder
from evaluation.files.workspace import KEPT, make_work, remove_abandoned_work, remove_work, run_lock, state_dir
from evaluation.pipeline import steps as declared
from evaluation.pipeline.context import RunContext
from evaluation.pipeline.steps import Step
from evaluation.settings.model import StudySettings

progress = logging.getLogger("reoffend.progress")

#: ``call(step, settings, inputs)`` runs one step and returns its result.
Call = Callable[[Step, StudySettings, dict[str, Any]], Any]


def direct(step: Step, settings: StudySettings, inputs: dict[str, Any]) -> Any:
    return step.run(settings, **inputs)


def _brief(result: Any) -> str:
    brief = getattr(result, "brief", None)
    return f": {brief()}" if callable(brief) else ""


def run_steps(settings: StudySettings, *, call: Call = direct, steps: Sequence[Step] | None = None,
              on_done: Callable[[Step, float], None] | None = None, context: RunContext | None = None) -> dict[str, Any]:
    """Run every step that applies to the study, in order (default: ``STEPS``); return
    each step's result by key (plus ``started``, the run's start time in UTC, and
    ``context``, what the steps shared in memory: the session's, or a new one)."""
    steps = declared.STEPS if steps is None else steps
    values: dict[str, Any] = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                              "context": RunContext() if context is None else context}
    for step in steps:
        if not step.when(settings, values):
            continue
        progress.info(f"{step.title} ...")
        start = time.perf_counter()
        values[step.key] = call(step, settings, {need: values.get(need) for need in step.needs})
        seconds = time.perf_counter() - start
        progress.info(f"{step.title}: done in {seconds:.1f} s{_brief(values[step.key])}")
        if on_done:
            on_done(step, seconds)
    return values


@contextmanager
def evaluation_session(settings: StudySettings, *, snapshot: Path | None = None) -> Iterator[RunContext]:
    """Around one evaluation: the output-folder policy, the output folder's lock, the run's
    context (yielded: what its steps share in memory, emptied at the end; ``snapshot``: a
    batch's national snapshot for the load to copy), and the person-level work folder
    removed afterwards (unless ``keep_work``)."""
    check_output_folder(settings.out_dir, data_dir=settings.data_dir)
    with run_lock(settings.out_dir):
        # a killed run of any study left person-level files: they go now
        remove_abandoned_work(state_dir() / "work", settings.work_dir)
        work = make_work(settings.work_path)
        context = RunContext(snapshot=snapshot)
        try:
            yield context
        finally:
            context.clear()  # no person-level data kept in memory past the run
            if settings.keep_work:
                (work / KEPT).touch(mode=0o600)
            else:
                remove_work(work)


def run_evaluation(settings: StudySettings, *, snapshot: Path | None = None) -> dict:
    """Run every step in order without Prefect and write the outputs; return the results.
    ``snapshot``: the national snapshot a batch made (the load copies it; the results are
    those of a load of every file)."""
    with evaluation_session(settings, snapshot=snapshot) as context:
        values = run_steps(settings, context=context)
    progress.info(f"results written to {Path(settings.out_dir) / 'results.json'}")
    return values["results"]


def run_results(settings: StudySettings) -> dict:
    """The results of every step up to their assembly, writing no output files (what
    :func:`run_evaluation` returns, without the write and library steps)."""
    last = next(i for i, step in enumerate(declared.STEPS) if step.key == "results")
    with evaluation_session(settings) as context:
        return run_steps(settings, steps=declared.STEPS[: last + 1], context=context)["results"]


def audience_view(settings: StudySettings, results: dict) -> dict:
    """What the study's audience may see of the results (the partner view is disclosure-controlled)."""
    from evaluation.report.build import audience_view as view

    return view(results, settings.audience.kind, settings.audience.suppression_threshold)
