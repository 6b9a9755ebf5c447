"""Serving scheduled evaluations: one Prefect deployment per study file.

``reoffend serve STUDIES_DIR`` reads every ``*.toml`` study in the folder and serves one
deployment of the ``evaluate`` flow for each (and of the ``scheduled-batch`` flow for each
batch file, a ``[batch]`` table: evaluation.batch.batch_file), on its ``[study.schedule]`` cron schedule,
against a running Prefect server (``prefect server start``; schedules never fire on
Prefect's temporary server). Schedules are not paused when the serving process stops
(``pause_on_shutdown=False``), so they stay active across restarts of the server or of
``reoffend serve``; runs are picked up again when it is serving. Each run prints a line on
this terminal as it starts and as it ends (``flows.run_log.announce``); Ctrl-C stops
serving at once, without a traceback.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from evaluation.errors import SettingsError
from evaluation.settings.model import study_with_operations


def _deployments(studies_dir: Path, make_study, make_batch) -> list:
    """``make_study(name=..., parameters=..., schedules=..., description=..., tags=...)`` for
    each study file in the folder, and ``make_batch(...)`` for each batch file (a ``[batch]``
    table: evaluation.batch.batch_file), in name order; names must differ."""
    from prefect.schedules import Cron

    from evaluation.batch.batch_file import batch_with_operations
    from evaluation.settings.model import read_toml

    paths = sorted(Path(studies_dir).glob("*.toml"))
    if not paths:
        raise SettingsError(f"{studies_dir}: no study files (*.toml)")
    made, names = [], set()
    for path in paths:
        raw = read_toml(path)  # the file parsed once
        if "batch" in raw:
            if "study" in raw:
                raise SettingsError(f"{path}: has both [study] and [batch]; a file is a study or a batch")
            batch, schedule, notify = batch_with_operations(path, raw["batch"])
            name, make, what = batch.name, make_batch, f"Batch of the requests in {batch.requests} ({path.name})"
            parameters = {"batch": batch.record(), "notify": notify}
        else:
            settings, schedule, notify = study_with_operations(path, raw)
            name, make, what = settings.name, make_study, f"Evaluation of the study in {path.name}"
            parameters = {"settings": settings.record(), "notify": notify}
        if name in names:
            raise SettingsError(f"{path}: another study or batch is also named '{name}'; names must differ")
        names.add(name)
        made.append(make(
            name=name,
            parameters=parameters,
            schedules=[Cron(schedule["cron"], timezone=schedule["timezone"])] if schedule else None,
            description=what,
            tags=["reoffend"],
        ))
    return made


def study_deployments(studies_dir: Path) -> list:
    from flows.batch import scheduled_batch
    from flows.evaluate import evaluate

    return _deployments(studies_dir, evaluate.to_deployment, scheduled_batch.to_deployment)


def require_server() -> None:
    """A running Prefect server at PREFECT_API_URL, or one line that says how to start one."""
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        raise SettingsError(
            "reoffend serve needs a running Prefect server: start one with `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (schedules never fire on a temporary server)"
        )
    import httpx

    try:
        healthy = httpx.get(f"{url.rstrip('/')}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        healthy = False
    if not healthy:
        raise SettingsError(f"no Prefect server answers at PREFECT_API_URL={url}; start one with "
                            "`prefect server start` (or correct PREFECT_API_URL)")


def serve_studies(studies_dir: Path, *, limit: int | None = None) -> None:
    """Serve every study until Ctrl-C or SIGTERM; then return (runs under way are ended by
    Prefect's runner, and their flow runs marked as such)."""
    require_server()
    deployments = study_deployments(studies_dir)
    from prefect import serve

    # SIGTERM (a service manager's stop) ends serving like Ctrl-C does.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        serve(*deployments, pause_on_shutdown=False, limit=limit)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def deploy_to_pool(studies_dir: Path, pool: str) -> list[str]:
    """Deploy one deployment per study to a Prefect work pool (create it with
    ``prefect work-pool create NAME --type process``); workers started with
    ``prefect worker start --pool NAME`` on this or other machines run the evaluations."""
    require_server()
    from flows.batch import scheduled_batch
    from flows.evaluate import evaluate

    project = Path(__file__).resolve().parents[1]

    def maker(flow, entrypoint):
        source = flow.from_source(source=str(project), entrypoint=entrypoint)

        def make(**options):
            # to_deployment + apply registers the deployment without Flow.deploy()'s image build step.
            source.to_deployment(work_pool_name=pool, **options).apply()
            return f"{flow.name}/{options['name']}"
        return make

    return _deployments(studies_dir, maker(evaluate, "flows/evaluate.py:evaluate"),
                        maker(scheduled_batch, "flows/batch.py:scheduled_batch"))
