"""Progress lines on the terminal: what each step is doing and how long it took."""

from __future__ import annotations

import logging
import sys
import time


class _Elapsed(logging.Formatter):
    """``[  12.3s] message``: seconds since the command started."""

    def __init__(self) -> None:
        super().__init__()
        self.start = time.perf_counter()

    def format(self, record: logging.LogRecord) -> str:
        return f"[{time.perf_counter() - self.start:6.1f}s] {record.getMessage()}"


def show_progress(quiet: bool) -> None:
    """Progress lines (the ``reoffend.progress`` logger) on stderr, unless ``quiet``."""
    logger = logging.getLogger("reoffend.progress")
    logger.handlers.clear()
    logger.propagate, logger.disabled = False, False
    logger.setLevel(logging.INFO)  # a flow run's log gets every line (flows/run_log.py)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING if quiet else logging.INFO)
    handler.setFormatter(_Elapsed())
    logger.addHandler(handler)
