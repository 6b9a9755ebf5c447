"""Opening the working DuckDB database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from evaluation.db.queries import run_sql


def connect(path: str | os.PathLike | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the project's session settings (sql/session_settings.sql)."""
    con = duckdb.connect(":memory:" if path is None else str(path), read_only=read_only)
    run_sql(con, "session_settings")
    return con


@contextmanager
def opened(path: str | os.PathLike, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """:func:`connect` as a context manager that always closes the connection."""
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()

