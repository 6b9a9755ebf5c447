"""What an operator sees of a flow run: its progress lines in Prefect's run log, a line
per served run on the serving terminal, which errors may be retried, and a notification
when a run fails."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from evaluation.errors import ReoffendError

progress = logging.getLogger("reoffend.progress")


def transient(exc: BaseException) -> bool:
    """Whether an error can pass on a retry: an operating-system I/O error (a network
    share that dropped, a busy disk) or DuckDB's I/O error. The tool's own errors (bad
    data, bad settings, refused folders) and programming errors fail at once."""
    if isinstance(exc, ReoffendError):
        return False
    import duckdb

    return isinstance(exc, (OSError, duckdb.IOException))


@contextmanager
def progress_to_run_log() -> Iterator[None]:
    """Send the ``reoffend.progress`` lines to the current Prefect run's log while the
    block runs, so that Prefect's UI shows what the terminal shows. The logger is opened
    to INFO for the block (a terminal's --quiet is a level on its own handler)."""
    from prefect.logging.handlers import APILogHandler

    handler = APILogHandler()
    handler.setLevel(logging.INFO)
    level, propagate = progress.level, progress.propagate
    progress.addHandler(handler)
    if progress.getEffectiveLevel() > logging.INFO:
        progress.setLevel(logging.INFO)
    if _served():  # the serving terminal shows a line per run (announce), the run log every step
        progress.propagate = False
    try:
        yield
    finally:
        progress.removeHandler(handler)
        progress.setLevel(level)
        progress.propagate = propagate


def _served() -> str | None:
    """The deployment's name when this flow run was started from one (served or by a
    worker), else None."""
    from prefect.runtime import deployment

    return deployment.name if deployment.id else None


def announce(message: str) -> None:
    """One line on the serving process's terminal (a served run's output is streamed to
    it) for a run started from a deployment; nothing for ``reoffend evaluate``."""
    name = _served()
    if name:
        from prefect.runtime import flow_run

        stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        print(f"{stamp} {flow_run.flow_name}/{name} run {flow_run.name!r} {message}", flush=True)


def notify_failure(flow, flow_run, state) -> None:
    """Prefect's on_failure/on_crashed hook: send the notification block the study names
    (the flow's ``notify`` parameter) the run's one-line reason. A notification that
    cannot be sent is logged, never raised (the run has failed already)."""
    parameters = flow_run.parameters or {}
    ref = parameters.get("notify")
    if not ref:
        return
    what = "batch" if "batch" in parameters else "evaluation"  # flows/batch.py's scheduled_batch, or evaluate
    settings = parameters.get(what if what == "batch" else "settings") or {}
    name = settings.get("name", "?") if isinstance(settings, dict) else getattr(settings, "name", "?")
    try:
        from prefect.blocks.core import Block

        block = Block.load(ref)
        block.notify(subject=f"reoffend: {what} {name!r} failed",
                     body=f"{what.capitalize()} {name!r} (flow run {flow_run.name!r}) {state.type.value.lower()}: "
                          f"{state.message or 'no reason given'}")
    except Exception as exc:  # noqa: BLE001 - reported, never raised from a hook
        logging.getLogger("reoffend.notify").error(f"could not send the failure notification {ref!r}: {exc}")
