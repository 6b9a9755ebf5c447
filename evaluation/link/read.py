"""Reading a list or the identified people: CSV, Excel (.xlsx) or Parquet, every value as
text, headers named by the column map, a missing column named with the header that is
probably it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from evaluation.errors import DataFileError
from evaluation.load import contract
from evaluation.load.contract import Table
from evaluation.load.excel import read_sheet
from evaluation.load.loader import column_map_hint, csv_header, header_key, mapped_header, missing_columns
from evaluation.load.preflight import DATE_SAMPLE_LINES, check_written_dates

SUFFIXES = (".csv", ".xlsx", ".parquet")
#: An Excel date cell as calamine writes it.
_CELL = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$")


def read_table(path: str | os.PathLike, table: Table, *, columns: Mapping[str, str] | None = None,
               date_format: str = contract.ISO_DATES, option: str = "LIST") -> pl.DataFrame:
    """The file's contract columns as text (a Parquet file's dates as dates), one row per line."""
    path = Path(path)
    if not os.path.lexists(path):
        raise DataFileError(f"does not exist (give {option} as a CSV, .xlsx or Parquet file)", file=str(path))
    if not path.is_file():
        raise DataFileError("is not a plain file (a device, a pipe, a folder or a broken link)", file=str(path))
    suffix = path.suffix.lower()
    if suffix in contract.UNREADABLE_SUFFIXES:
        raise DataFileError(f"is {contract.UNREADABLE_SUFFIXES[suffix]}", file=str(path))
    if suffix not in SUFFIXES:
        raise DataFileError(f"give {option} as a .csv, .xlsx or .parquet file", file=str(path))
    columns = dict(columns or {})
    if suffix == ".xlsx":
        frame = read_sheet(path, table, date_format, columns)
    elif suffix == ".csv":
        header = mapped_header(csv_header(path), columns)
        twice = sorted({name for i, name in enumerate(header) if name in header[:i]})
        if twice:
            raise DataFileError(f"the header names {twice[0]!r} twice (after the column map); keep one",
                                file=str(path))
        try:
            frame = pl.read_csv(path, infer_schema=False, new_columns=header, encoding="utf8")
        except (pl.exceptions.ComputeError, pl.exceptions.ShapeError) as exc:
            first = str(exc).strip().splitlines()[0][:160]
            raise DataFileError(f"cannot be read as CSV ({first}); save it again as CSV (UTF-8)", file=str(path)) from None
    else:
        try:
            frame = pl.read_parquet(path)
        except Exception as exc:  # noqa: BLE001  arrow's errors are many; the line is one
            raise DataFileError(f"not a readable Parquet file ({exc.__class__.__name__})", file=str(path)) from None
    frame = frame.rename(_same_but_for_case(table, frame.columns))
    missing = missing_columns(table, frame.columns)
    if missing:
        hint = column_map_hint(missing) if suffix != ".parquet" else ""
        raise DataFileError(f"required column(s) missing: {', '.join(missing)}{hint}", file=str(path))
    keep = [c for c in table.column_names if c in frame.columns]
    for column in (c.name for c in table.columns if c.type == "date" and c.name in frame.columns):
        if frame.schema[column] == pl.String:  # a list in UK dates read as ISO would link on names alone
            values = frame[column].str.strip_chars().replace("", None).drop_nulls().head(DATE_SAMPLE_LINES)
            check_written_dates(path, column, [v[:10] if _CELL.match(v) else v for v in values.to_list()],
                                date_format, "give --date-format {best}")
    return frame.select(pl.col(c) if frame.schema[c] in (pl.Date, pl.String) else pl.col(c).cast(pl.String)
                        for c in keep)


def _same_but_for_case(table: Table, names: list[str]) -> dict[str, str]:
    """Each header that is a field's name but for case, spaces and punctuation ("Date of
    Birth", "Forename") renamed to the field, when the file has no header of the field's own
    name. Only a header naming the field itself: "DOB" needs the column map."""
    fields = {header_key(c): c for c in table.column_names}
    renames: dict[str, str] = {}
    for name in names:
        field = fields.get(header_key(name))
        if field and field not in names and field not in renames.values():
            renames[name] = field
    return renames
