"""Excel workbooks (``.xlsx``), as the loader and the preflight read them: the first sheet,
every cell as text, through polars' ``read_excel`` with the calamine engine (fastexcel).

A cell Excel holds as a date is written in the study's ``date_format``, so that one rule
reads every date of a folder, typed in the workbook or typed by hand ("31/01/2010"). The
sheet becomes a private CSV beside the work database, read like any CSV file: its line
numbers are the sheet's row numbers (the header is row 1)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from evaluation.errors import DataFileError
from evaluation.files.atomic import private_file
from evaluation.load import contract
from evaluation.load.contract import Table

#: How calamine writes a date or date-time cell read as text.
_DATE_CELL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?: \d{2}:\d{2}:\d{2}(?:\.\d+)?)?$")


def read_sheet(path: Path, table: Table, date_format: str, columns: Mapping[str, str] | None = None) -> pl.DataFrame:
    """The workbook's first sheet, every column text, its headers named by the column map
    (``{contract column: header}``), its date cells in ``date_format``."""
    try:
        frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
    except Exception as exc:  # noqa: BLE001  calamine's errors are many; the line is one
        raise DataFileError(f"not a readable Excel workbook ({exc.__class__.__name__}); save it again as .xlsx "
                            "or as CSV (UTF-8)", file=str(path)) from None
    to_field = {given: field for field, given in (columns or {}).items()}
    frame = frame.rename({name: to_field.get(name.strip(), name.strip()) for name in frame.columns})
    strftime = contract.DATE_FORMATS[date_format]
    dates = [c.name for c in table.columns if c.type == "date" and c.name in frame.columns]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_DATE_CELL.pattern))
        .then(pl.col(c).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).dt.strftime(strftime))
        .otherwise(pl.col(c)).alias(c)
        for c in dates)


def as_csv(path: Path, table: Table, date_format: str, to: Path, columns: Mapping[str, str] | None = None) -> Path:
    """Write the workbook's first sheet to the CSV file ``to`` (private) and return it."""
    read_sheet(path, table, date_format, columns).write_csv(to)
    private_file(to)
    return to
