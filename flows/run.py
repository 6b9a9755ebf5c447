"""Running a flow from the command line: Prefect configured for a terminal (quiet unless
verbose, no telemetry), on a temporary local server that dies with the command
(``flows/local_server.py``) unless PREFECT_API_URL names a running one."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from flows import prefect_env


@contextmanager
def prefect_session(what: str, *, verbose: bool = False) -> Iterator[None]:
    """Prefect ready for the flow runs inside the block (``what``: said when it is)."""
    prefect_env.configure(verbose)
    progress = logging.getLogger("reoffend.progress")
    progress.info("starting Prefect" + ("" if os.environ.get("PREFECT_API_URL") else
                                        " (a temporary local server: 5-30 s)"))
    from flows.local_server import supervised_server

    with supervised_server():
        progress.info(f"Prefect ready; {what}")
        try:
            yield
        finally:
            # the run's log lines still queued go to the server while it runs: sent at exit,
            # after a temporary server has stopped, they failed with "Error logging to API"
            from prefect.logging.handlers import APILogHandler

            try:
                APILogHandler().flush()  # drains every queued log (a class-wide worker), 5 s at most
            except Exception:  # noqa: BLE001  a log not sent must not replace the run's own outcome
                progress.debug("could not send the last log lines to Prefect", exc_info=True)


def run_flow(settings, *, verbose: bool = False) -> dict:
    """Evaluate ``settings`` as a Prefect flow run; return the results. An expected error
    in a task (a ReoffendError) is raised as it is; Prefect's own log of the failure stays
    off the terminal unless ``verbose``."""
    with prefect_session(f"evaluating the study {settings.name!r}", verbose=verbose):
        from prefect.exceptions import ParameterTypeError

        from evaluation.errors import SettingsError
        from flows.evaluate import evaluate

        try:
            return evaluate(settings)
        except ParameterTypeError as exc:
            raise SettingsError(str(exc).splitlines()[-1].strip(" -")) from None
