"""Serving scheduled evaluations: one Prefect deployment per study file.

``reoffend serve STUDIES_DIR`` reads every ``*.toml`` study in the folder and serves one
deployment of the ``evaluate`` flow for each, on its ``[study.schedule]`` cron schedule,
against a running Prefect server (``prefect server start``; schedules never fire on
Prefect's temporary server). Schedules are not paused when the serving process stops
(``pause_on_shutdown=False``), so they stay active across restarts of the server or of
``reoffend serve``; runs are picked up again when it is serving.
"""

from __future__ import annotations

import os
from pathlib import Path

from evaluation.errors import SettingsError
from evaluation.settings.model import load_study, study_schedule


def study_deployments(studies_dir: Path) -> list:
    from prefect.schedules import Cron

    from flows.evaluate import evaluate

    paths = sorted(Path(studies_dir).glob("*.toml"))
    if not paths:
        raise SettingsError(f"{studies_dir}: no study files (*.toml)")
    deployments, names = [], set()
    for path in paths:
        settings = load_study(path)
        if settings.name in names:
            raise SettingsError(f"{path}: another study is also named '{settings.name}'; names must differ")
        names.add(settings.name)
        schedule = study_schedule(path)
        deployments.append(
            evaluate.to_deployment(
                name=settings.name,
                parameters={"settings": settings.record()},
                schedules=[Cron(schedule["cron"], timezone=schedule["timezone"])] if schedule else None,
                description=f"Evaluation of the study in {path.name}",
                tags=["reoffend"],
            )
        )
    return deployments


def require_server() -> None:
    """A running Prefect server at PREFECT_API_URL, or one line that says how to start one."""
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        return
    import httpx

    try:
        healthy = httpx.get(f"{url.rstrip('/')}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        healthy = False
    if not healthy:
        raise SettingsError(f"no Prefect server answers at PREFECT_API_URL={url}; start one with "
                            "`prefect server start` (or correct PREFECT_API_URL)")


def serve_studies(studies_dir: Path, *, limit: int | None = None) -> None:
    require_server()
    if not os.environ.get("PREFECT_API_URL"):
        raise SettingsError(
            "reoffend serve needs a running Prefect server: start one with `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (schedules never fire on a temporary server)"
        )
    from prefect import serve

    serve(*study_deployments(studies_dir), pause_on_shutdown=False, limit=limit)


def deploy_to_pool(studies_dir: Path, pool: str) -> list[str]:
    """Deploy one deployment per study to a Prefect work pool (create it with
    ``prefect work-pool create NAME --type process``); workers started with
    ``prefect worker start --pool NAME`` on this or other machines run the evaluations."""
    require_server()
    if not os.environ.get("PREFECT_API_URL"):
        raise SettingsError("deploying to a work pool needs a running Prefect server and PREFECT_API_URL")
    from prefect.schedules import Cron

    from flows.evaluate import evaluate

    project = Path(__file__).resolve().parents[1]
    source = evaluate.from_source(source=str(project), entrypoint="flows/evaluate.py:evaluate")
    names = []
    for path in sorted(Path(studies_dir).glob("*.toml")):
        settings = load_study(path)
        schedule = study_schedule(path)
        # to_deployment + apply registers the deployment without Flow.deploy()'s image build step.
        source.to_deployment(
            name=settings.name,
            work_pool_name=pool,
            parameters={"settings": settings.record()},
            schedules=[Cron(schedule["cron"], timezone=schedule["timezone"])] if schedule else None,
            description=f"Evaluation of the study in {path.name}",
            tags=["reoffend"],
        ).apply()
        names.append(f"evaluate/{settings.name}")
    if not names:
        raise SettingsError(f"{studies_dir}: no study files (*.toml)")
    return names
