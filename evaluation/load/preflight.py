"""Checks that need no cohorts, run before anything slow starts (Prefect included).

A newcomer's mistakes (a wrong data path, a missing table or column, dates written in
another format than the study says, an unknown
programme, a cut-off before anyone started, an output folder the tool may not replace,
another run writing the same folder) fail here in well under a second with one line
that names the fix, instead of deep inside a flow run.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import tempfile
from collections.abc import Mapping
from pathlib import Path

from evaluation.db.connection import connect
from evaluation.db.queries import run_sql
from evaluation.errors import DataFileError, SettingsError
from evaluation.files.output_folder import check_output_folder
from evaluation.files.workspace import run_lock
from evaluation.load import contract
from evaluation.load.excel import as_csv, read_sheet
from evaluation.load.loader import (
    _check_columns,
    _parquet_columns,
    column_map_hint,
    csv_header,
    find_table_files,
    mapped_header,
    missing_columns,
)
from evaluation.settings.model import StudySettings


def check_table_files(data_dir: Path, columns: Mapping[str, str] | None = None,
                      participants: Path | None = None) -> dict[str, Path]:
    """Every required table present, each file's header (or Parquet schema) holding the
    contract's required columns, by the column map where given; returns table -> file.
    The required columns missing from every file are named in one line, each with the
    header that is probably it."""
    files = find_table_files(Path(data_dir), participants)
    missing: dict[Path, dict[str, str | None]] = {}
    for table in contract.TABLES:
        path = files.get(table.name)
        if path is None:
            continue
        if path.suffix == ".parquet":
            _parquet_columns(path, table)
            continue
        if path.suffix == ".xlsx":
            names = read_sheet(path, table, contract.ISO_DATES, columns).columns
        else:
            names = mapped_header(csv_header(path), columns or {})
        if missing_columns(table, names) and len(names) > 1:
            missing[path] = missing_columns(table, names)
        else:
            _check_columns(path, table, names)  # duplicates, a file not separated by commas
    if missing:
        said = "; ".join(f"{path.name}: {', '.join(cols)}" for path, cols in missing.items())
        guesses = {c: g for cols in missing.values() for c, g in cols.items()}
        raise DataFileError(f"required columns are missing ({said}){column_map_hint(guesses)}",
                            file=str(Path(data_dir)))
    return files


#: Data lines of each text file looked at for the way it writes dates (a quick look).
DATE_SAMPLE_LINES = 2000


def _reads_as(value: str, date_format: str) -> bool:
    """Whether the loader reads ``value`` as a date: in ``date_format``, or as an ISO date,
    which it reads in every format (sql/staging/macros.sql, iso_date)."""
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        date_format = contract.ISO_DATES
    elif date_format == contract.ISO_DATES:
        return False
    try:
        dt.datetime.strptime(value, contract.DATE_FORMATS[date_format])
    except ValueError:
        return False
    return True


def check_date_format(data_dir: str | Path, date_format: str, columns: Mapping[str, str] | None = None,
                      participants: Path | None = None) -> None:
    """Refuse, in one line and before anything slow, a CSV file or workbook none of whose first dates
    in a column is written in ``date_format``, naming the format they are written in (a
    day-first UK export read as ISO rejected every row, then advised a cut-off)."""
    files = find_table_files(Path(data_dir), participants)
    for table in contract.TABLES:
        path = files.get(table.name)
        if path is None or path.suffix == ".parquet":
            continue  # Parquet dates are typed, or read by the same rule row by row
        if path.suffix == ".xlsx":  # its date cells are written in the format given: typed text is looked at
            sheet = read_sheet(path, table, date_format, columns)
            header, sample = sheet.columns, [list(row) for row in sheet.head(DATE_SAMPLE_LINES).iter_rows()]
            sample = [["" if v is None else v for v in row] for row in sample]
        else:
            try:
                with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
                    rows = csv.reader(fh)
                    header = mapped_header([h.strip() for h in next(rows, [])], columns or {})
                    sample = list(itertools.islice(rows, DATE_SAMPLE_LINES))
            except csv.Error:  # a NUL byte, a field over the module's limit: the load rejects such lines
                continue
        for column in (c.name for c in table.columns if c.type == "date" and c.name in header):
            i = header.index(column)
            check_written_dates(path, column, [row[i].strip() for row in sample if i < len(row) and row[i].strip()],
                                date_format)


def check_written_dates(path: Path, column: str, values: list[str], date_format: str,
                        setting: str = "set date_format = \"{best}\" in the study file (or --date-format {best})") -> None:
    """Refuse a column none of whose first dates (``values``, non-empty) is written in
    ``date_format``, naming the format they are written in (``setting``: how to give it)."""
    if not values or any(_reads_as(v, date_format) for v in values):
        return
    fits = {name: sum(_reads_as(v, name) for v in values) for name in contract.DATE_FORMATS}
    best = max(fits, key=lambda name: (fits[name], name == "DD/MM/YYYY"))  # a tie: the UK's day first
    if fits[best] == 0:
        raise SettingsError(f"{path}, column '{column}': no date in its first lines is written {date_format} "
                            f"(e.g. {values[0][:40]!r}), nor in another format the tool reads "
                            f"({', '.join(contract.DATE_FORMATS)}); fix the column or set date_format")
    raise SettingsError(f"{path}, column '{column}': dates are written like {values[0][:40]!r}, not "
                        f"{date_format}; {setting.format(best=best)}")


def programme_starts(participants: Path, date_format: str = contract.ISO_DATES,
                     columns: Mapping[str, str] | None = None) -> dict[str, dt.date | None]:
    """Each programme named in the participants file, with its earliest valid start date."""
    kind = "parquet" if participants.suffix == ".parquet" else "csv"
    con = connect(None)
    try:
        with tempfile.TemporaryDirectory(prefix="reoffend-preflight-") as tmp:
            names = {"programme": "programme", "start_date": "start_date"}
            if participants.suffix == ".xlsx":  # its first sheet as a CSV, private and gone after
                participants = as_csv(participants, contract.PARTICIPANTS, date_format, Path(tmp) / "participants.csv",
                                      columns)
            elif participants.suffix == ".csv":  # the file's own headers, by the column map
                names = {field: (columns or {}).get(field, field) for field in names}
            rows = run_sql(con, f"load/programme_starts_{kind}",
                           {"path": str(participants), "date_format": contract.DATE_FORMATS[date_format]},
                           names, frozenset(names.values())).fetchall()
    finally:
        con.close()
    return dict(rows)


def check_programmes(chosen, known, *, where: str = "the data") -> None:
    """A one-line error naming the chosen programmes that ``known`` lacks, and those it has."""
    unknown = [p for p in chosen if p not in known]
    if unknown:
        raise SettingsError(f"programme(s) not in {where}: {', '.join(map(repr, unknown))}; it has: "
                            f"{', '.join(map(repr, sorted(known)))} (see --programme)")


#: The most programmes one evaluation pools (the subgroups and the report list each one).
MAX_PROGRAMMES = 1000


def preflight(settings: StudySettings) -> None:
    """Raise a one-line error for any problem that can be found without building cohorts."""
    check_output_folder(settings.out_dir, data_dir=settings.data_dir)
    files = check_table_files(settings.data_dir, settings.data.columns, settings.data.participants)
    check_date_format(settings.data_dir, settings.data.date_format, settings.data.columns, settings.data.participants)
    starts = programme_starts(files["participants"], settings.data.date_format, settings.data.columns)
    if not settings.data.programmes and len(starts) > MAX_PROGRAMMES:
        raise SettingsError(f"the participants file names {len(starts):,} programmes, more than the {MAX_PROGRAMMES:,} "
                            "one evaluation pools; choose them with --programme (or evaluate them as a batch)")
    check_programmes(settings.data.programmes, starts)
    chosen = [starts[p] for p in (settings.data.programmes or starts) if starts.get(p)]
    cutoff, windows = settings.data.cutoff, settings.windows
    if cutoff is not None and chosen:
        first = min(chosen)
        if first > cutoff:
            raise SettingsError(f"the cut-off {cutoff.isoformat()} is before anyone started (the first start is "
                                f"{first.isoformat()}); give a later --cutoff, or none to use the latest outcome date")
        followed_up = first + dt.timedelta(days=windows.after_days + windows.waiting_days)
        if followed_up > cutoff:
            raise SettingsError(
                f"the cut-off {cutoff.isoformat()} leaves nobody a complete follow-up (the first start, "
                f"{first.isoformat()}, plus {windows.after_days} days after and {windows.waiting_days} days' waiting "
                f"ends {followed_up.isoformat()}); give a later --cutoff, or none to use the latest outcome date")
    with run_lock(settings.out_dir):  # another run writing this folder fails here, at once
        pass
