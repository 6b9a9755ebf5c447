"""The batch flow: one Prefect task per request, on local worker processes by default or on
a Dask cluster (prefect-dask). Tasks take a request's name and settings record and return a
small summary; person-level data never travel through Prefect or Dask (each worker copies
the national snapshot, by its path, and opens its own DuckDB files)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Optional

from prefect import flow, task
from prefect.states import Failed

from evaluation.batch.request import run_request
from evaluation.errors import ReoffendError
from flows.run_log import announce, notify_failure, progress_to_run_log


@task(name="evaluate request", persist_result=False, cache_policy=None)
def evaluate_request(name: str, record: dict, snapshot: str | None = None) -> dict:
    return run_request(name, record, snapshot)


@flow(name="batch", persist_result=False, log_prints=False)
def batch_flow(runnable: Sequence[tuple[str, dict]], snapshot: str | None = None) -> list[dict]:
    from prefect.futures import as_completed

    futures = [evaluate_request.with_options(task_run_name=f"request {name}").submit(name, record, snapshot)
               for name, record in runnable]
    progress, summaries = logging.getLogger("reoffend.progress"), {}
    for future in as_completed(futures):  # a line per request as it ends, in the order they end
        summary = future.result()
        summaries[summary["name"]] = summary
        progress.info(f"request {summary['name']}: {summary['status']} in {summary['seconds']:.0f} s "
                      f"({len(summaries)} of {len(futures)})"
                      + (f": {summary['reason']}" if summary["status"] != "done" else ""))
    return [summaries[name] for name, _ in runnable]


def task_runner(workers: int = 2, dask: str | None = None):
    """Local worker processes (``workers``), or the Dask scheduler at ``dask`` ("local" starts a
    temporary distributed.LocalCluster of ``workers`` processes)."""
    if dask is None:
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=workers)
    from prefect_dask import DaskTaskRunner

    if dask == "local":
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                             "dashboard_address": None})
    return DaskTaskRunner(address=dask)


def submit_with(workers: int = 2, dask: str | None = None):
    """A ``submit`` for evaluation.batch.run_batch that runs the requests as this flow's tasks."""
    def submit(runnable: Sequence[tuple[str, dict]], snapshot: str | None = None) -> list[dict]:
        if not runnable:
            return []
        return batch_flow.with_options(task_runner=task_runner(workers, dask))(list(runnable), snapshot)
    return submit


@flow(name="scheduled-batch", persist_result=False, log_prints=False,
      on_failure=[notify_failure], on_crashed=[notify_failure])
def scheduled_batch(batch: dict, notify: Optional[str] = None) -> dict:
    """A batch file's run (``reoffend serve``; evaluation.batch.batch_file): every request under
    its requests folder into ``out/<today>``, the evidence library updated once at the end.
    Fails, with its one-line reason (and the notification ``[batch.notify]`` names), when
    the batch cannot run or any request failed; the other requests' outputs are written."""
    from evaluation.batch.batch import run_batch
    from evaluation.batch.batch_file import BatchFile
    from evaluation.batch.library import add_batch

    spec = BatchFile.model_validate(batch)
    progress = logging.getLogger("reoffend.progress")
    with progress_to_run_log():
        announce(f"started: batch {spec.name!r}")
        try:
            result = run_batch(spec.requests, spec.data, spec.out_for(dt.datetime.now(dt.UTC).date()),
                               submit=submit_with(spec.workers, spec.dask), settings=spec.settings(),
                               progress=progress.info)
            if spec.library is not None:
                progress.info(add_batch(spec.library, result.out_dir, result.requests, data_dir=spec.data))
        except ReoffendError as exc:
            announce(f"failed: {exc}")
            return Failed(message=str(exc), data=exc)
        summary = {"out_dir": str(result.out_dir), "requests": len(result.requests), "failed": len(result.failed)}
        if result.failed:
            first = result.failed[0]
            message = (f"{len(result.failed)} of {len(result.requests)} requests failed (first: {first['name']}: "
                       f"{first['reason']}); the others' outputs are in {result.out_dir}")
            announce(f"failed: {message}")
            return Failed(message=message, data=summary)
        announce(f"completed: {len(result.requests)} requests, outputs in {result.out_dir}")
        return summary

