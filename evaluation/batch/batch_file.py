"""A scheduled batch's file: what ``reoffend serve`` deploys besides study files.

A ``*.toml`` file in the served folder with a ``[batch]`` table (instead of ``[study]``)
is a batch: every request folder under ``requests`` evaluated against the national
extract ``data`` on its ``[batch.schedule]`` (monthly, say), each run into a folder of
``out`` named for the day it ran (``out/2026-12-01``), and the evidence library updated
once at its end. Relative paths are relative to the file, as in a study file::

    [batch]
    name = "national"
    requests = "/srv/reoffend/requests"
    data = "/srv/reoffend/national"
    out = "/srv/reoffend/batches"
    workers = 2                      # or dask = "tcp://host:8786"
    library = "/srv/reoffend/library/library.duckdb"

    [batch.study]                    # what every request starts from (a request's study.toml may change it)
    bootstrap_resamples = 2000

    [batch.schedule]
    cron = "0 6 1 * *"
    timezone = "Europe/London"
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from evaluation.batch.request import NAME, NOT_IN_A_REQUEST
from evaluation.errors import SettingsError
from evaluation.load import contract


class BatchFile(BaseModel):
    """A batch's settings: where the requests, the national extract and the outputs are, how
    the requests run, and the settings every request starts from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="the deployment's name: 1-64 letters, digits, '.', '_' or '-'")
    requests: Path = Field(description="one sub-folder per request")
    data: Path = Field(description="the national extract: people, offences, custody (no participants)")
    out: Path = Field(description="each run writes a folder here named for the day it ran (YYYY-MM-DD)")
    workers: int = Field(2, ge=1, le=64, description="requests evaluated at once")
    dask: str | None = Field(None, description="a Dask scheduler's address (tcp://host:8786), or 'local'")
    work_dir: Path | None = Field(None, description="where the person-level work goes (a path every worker can read)")
    library: Path | None = Field(None, description="evidence library every evaluated request is added to, at the end")
    date_format: str = Field(contract.ISO_DATES, description="how the national extract writes its dates")
    columns: dict[str, str] = Field(default_factory=dict, description="the national extract's column map")
    study: dict[str, Any] = Field(default_factory=dict, description="settings every request starts from")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("must be 1-64 letters, digits, '.', '_' or '-'")
        return value

    @field_validator("study")
    @classmethod
    def _study(cls, value: dict[str, Any]) -> dict[str, Any]:
        refused = sorted(NOT_IN_A_REQUEST & set(value))
        if refused:
            raise ValueError(f"sets {refused[0]}, which the batch's own keys say (requests, data, out, work_dir, "
                             "library, date_format, columns)")
        return value

    def settings(self) -> dict[str, Any]:
        """The flat settings every request starts from."""
        return {**self.study, "date_format": self.date_format, **({"columns": self.columns} if self.columns else {}),
                **({"work_dir": self.work_dir} if self.work_dir else {})}

    def out_for(self, day: dt.date) -> Path:
        """The folder a run on ``day`` writes (a second run that day replaces it)."""
        return self.out / day.isoformat()

    def record(self) -> dict[str, Any]:
        """As a Prefect parameter (JSON)."""
        return self.model_dump(mode="json")


def batch_with_operations(path: Path, table: dict[str, Any]) -> tuple[BatchFile, dict | None, str | None]:
    """A batch file's ``[batch]`` table read: its settings, its ``[batch.schedule]`` and the
    notification block its ``[batch.notify]`` names (as a study file's, see
    evaluation.settings.model.study_with_operations)."""
    from evaluation.settings.model import operations_notify, operations_schedule

    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [batch] must be a table")
    batch = read_batch_file(path, table)
    try:  # the settings every request starts from, checked now rather than failing every request later
        from evaluation.settings.model import StudySettings

        StudySettings(**{**batch.settings(), "data_dir": batch.data, "out_dir": batch.out / "check"})
    except (ValidationError, SettingsError) as exc:
        why = exc.errors()[0]["msg"].removeprefix("Value error, ") if isinstance(exc, ValidationError) else str(exc)
        raise SettingsError(f"{path}: [batch.study] {why}") from None
    return (batch, operations_schedule(path, table.get("schedule"), "batch"),
            operations_notify(path, table.get("notify"), "batch"))


def read_batch_file(path: Path, table: dict[str, Any]) -> BatchFile:
    """The ``[batch]`` table of the file at ``path``, its relative paths made relative to the
    file; one-line errors naming the file."""
    table = {k: v for k, v in table.items() if k not in ("schedule", "notify")}
    for key in ("requests", "data", "out", "work_dir", "library"):
        if isinstance(table.get(key), str):
            table[key] = (path.parent / table[key]).resolve()
    try:
        return BatchFile(**table)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(map(str, error["loc"])) or "[batch]"
        raise SettingsError(f"{path}: [batch] {where}: {error['msg'].removeprefix('Value error, ')}") from None
