"""Prefect settings for the command line, applied before Prefect is imported.

By default Prefect's home (its database, logs and settings) is a project-local folder,
``.prefect`` in the working directory, never the user's home; analytics and telemetry are off (the
machine may be offline); logs are quiet unless --verbose. Anything already set in the
environment (for example PREFECT_API_URL for a running server) is left alone.
"""

from __future__ import annotations

import os
from pathlib import Path


def configure(verbose: bool = False) -> None:
    os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")  # Prefect's client telemetry and its first-run notice
    # A failed task's error log (with its traceback) stays off the terminal unless --verbose:
    # the command prints the error's one line itself.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "false")
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True, mode=0o700)
