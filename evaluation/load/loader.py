"""Load a data folder into a DuckDB file, rejecting bad rows with reasons.

Every row read is either loaded or written to the ``rejects`` table (and ``rejects.csv``)
with the file, line, column and a plain-English reason; ``load_report.json`` reconciles
``read = loaded + rejected`` for each table. Problems with a whole file raise
:class:`~evaluation.errors.DataFileError` and leave any existing database untouched: the
load writes a temporary file and renames it at the end.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from evaluation.db.connection import connect
from evaluation.db.queries import run_sql
from evaluation.errors import DataFileError, ReoffendError
from evaluation.files.atomic import atomic_write_text, private_dir, private_file
from evaluation.load import contract
from evaluation.load.contract import Table
from evaluation.load.excel import as_csv
from evaluation.load.line_scan import scan_lines, write_without_bad_lines

Progress = Callable[[str], None]

#: The CSV reader's line limit; longer lines are rejected with a reason.
MAX_LINE_BYTES = 8 * 1024 * 1024
_HEADER_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class TableCounts:
    read: int
    loaded: int
    rejected: int

    @property
    def reconciles(self) -> bool:
        return self.read == self.loaded + self.rejected


REJECT_WARNING_SHARE = contract.REJECT_WARNING_SHARE


@dataclass(frozen=True)
class LoadValidation:
    """Whether every line read was loaded or rejected, and a warning per table with many rejects."""

    reconciled: bool
    warnings: tuple[str, ...]

    def brief(self) -> str:
        return "every line read was loaded or rejected" + "".join(f"; WARNING {w}" for w in self.warnings)


@dataclass
class LoadReport:
    """What a load did: row counts per table, the data cut-off and where things went."""

    tables: dict[str, TableCounts]
    data_cutoff: dt.date
    db_path: Path
    rejects_path: Path
    report_path: Path
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    #: per table, its reasons for rejecting rows by kind (values replaced by '...'), most first
    reject_kinds: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def top_reasons(self, table: str, most: int = 3) -> str:
        """The table's commonest kinds of reason, as 'kind (n rows); ...'; '' with none."""
        return "; ".join(f"{kind} ({rows:,} row{'' if rows == 1 else 's'})"
                         for kind, rows in self.reject_kinds.get(table, [])[:most])

    def to_dict(self) -> dict:
        return {
            "tables": {
                name: {"read": c.read, "loaded": c.loaded, "rejected": c.rejected}
                for name, c in self.tables.items()
            },
            "data_cutoff": self.data_cutoff.isoformat(),
        }

    def validation(self) -> LoadValidation:
        """Check the load reconciled for every table (else raise), with a warning for each
        table that had more than 5% of its rows rejected."""
        for name, c in self.tables.items():
            if not c.reconciles:
                raise ReoffendError(f"{name}: {c.read} rows read but {c.loaded} loaded and {c.rejected} rejected")
        warnings = tuple(
            f"{name}: {c.rejected / c.read:.0%} of the rows read were rejected (over 5%), most for: "
            f"{self.top_reasons(name)}; rerun with --keep-work and see rejects.csv in the work folder"
            for name, c in self.tables.items() if c.read and c.rejected / c.read > REJECT_WARNING_SHARE)
        return LoadValidation(True, warnings)

    def brief(self) -> str:
        return ", ".join(f"{name} {c.loaded:,} loaded, {c.rejected:,} rejected"
                         + (f" (most for: {self.top_reasons(name, 1)})" if self.reject_kinds.get(name) else "")
                         for name, c in self.tables.items())

    def summary(self) -> str:
        """A small text table of read / loaded / rejected per table."""
        lines = [f"{'table':<14}{'read':>12}{'loaded':>12}{'rejected':>10}"]
        for name, c in self.tables.items():
            lines.append(f"{name:<14}{c.read:>12,}{c.loaded:>12,}{c.rejected:>10,}")
        lines.append(f"data cut-off: {self.data_cutoff.isoformat()}")
        for name, cols in self.ignored_columns.items():
            lines.append(f"note: {name} columns not in the contract were ignored: {', '.join(cols)}")
        for name in self.tables:
            if self.reject_kinds.get(name):
                lines.append(f"{name} rejected, most for: {self.top_reasons(name)}")
        return "\n".join(lines)


def find_table_files(data_dir: Path, participants: Path | None = None, *, national: bool = False) -> dict[str, Path]:
    """Map each contract table to its file in ``data_dir`` (the participants table to the file
    ``participants`` when given); raise for missing required tables. ``national``: the
    national extract alone, whose participants each request brings (none is looked for)."""
    if not data_dir.is_dir():
        raise DataFileError("data folder does not exist", file=str(data_dir))
    found: dict[str, Path] = {}
    if participants is not None:
        participants = Path(participants)
        if not os.path.lexists(participants):
            raise DataFileError("participants file does not exist", file=str(participants))
        if not participants.is_file():
            raise DataFileError("is not a plain file (a device, a pipe, a folder or a broken link)",
                                file=str(participants))
        if participants.suffix not in contract.FILE_SUFFIXES:
            raise DataFileError("give the participants as a .csv, .parquet or .xlsx file", file=str(participants))
        own = [data_dir / f"participants{suffix}" for suffix in contract.FILE_SUFFIXES]
        own = [p for p in own if p.is_file() and p.resolve() != participants.resolve()]
        if own:
            raise DataFileError(f"the data folder has participants of its own ({own[0].name}) and --participants "
                                "names another file; keep one of the two", file=str(participants))
        found["participants"] = participants
    for table in contract.TABLES:
        if table.name in found or (national and table is contract.PARTICIPANTS):
            continue
        candidates = [data_dir / f"{table.name}{suffix}" for suffix in contract.FILE_SUFFIXES]
        for candidate in candidates:  # a device, pipe, folder or broken link is never skipped silently
            if os.path.lexists(candidate) and not candidate.is_file():
                raise DataFileError("is not a plain file (a device, a pipe, a folder or a broken link); give the "
                                    "table as a CSV, Parquet or .xlsx file", file=str(candidate))
        present = [p for p in candidates if p.is_file()]
        if len(present) > 1:
            raise DataFileError(
                f"{present[1].name} is there too; keep one of the two", file=str(present[0])
            )
        if present:
            found[table.name] = present[0]
            continue
        for suffix, why in contract.UNREADABLE_SUFFIXES.items():  # seen, and said, never taken as missing
            other = data_dir / f"{table.name}{suffix}"
            if other.is_file():
                raise DataFileError(f"is {why}", file=str(other))
        if table.required:
            raise DataFileError(
                f"required table '{table.name}' is missing (expected {table.name}.csv, .parquet or .xlsx)",
                file=str(data_dir / f"{table.name}.csv"),
            )
    return found


def csv_header(path: Path) -> list[str]:
    """Read and check the header line of a CSV file (BOM, UTF-8, NUL bytes, 1 MB limit); its column names."""
    if path.stat().st_size == 0:
        raise DataFileError("file is empty (expected a header row)", file=str(path))
    with path.open("rb") as fh:
        head = fh.read(_HEADER_LIMIT)
    end = head.find(b"\n")
    if end < 0 and len(head) == _HEADER_LIMIT:
        raise DataFileError("the header line is longer than 1 MB; is this a CSV file?", file=str(path))
    raw = head if end < 0 else head[:end]
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"file is not valid UTF-8 (byte {exc.start} of the header)", file=str(path)) from None
    if "\x00" in text:
        raise DataFileError("file holds NUL bytes; is this a CSV file?", file=str(path))
    try:
        header = next(csv.reader(io.StringIO(text.rstrip("\r"))), [])
    except csv.Error as exc:  # e.g. a stray carriage return inside the header line
        raise DataFileError(f"the header line cannot be read as CSV ({exc})", file=str(path)) from None
    return [h.strip() for h in header]


def mapped_header(header: list[str], columns: Mapping[str, str]) -> list[str]:
    """A file's header with each header the column map names (``{contract column: header}``)
    given the contract's name."""
    to_field = {given: field for field, given in columns.items()}
    return [to_field.get(name, name) for name in header]


def header_key(text: str) -> str:
    """A header as compared with a column's name: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _closest_header(column: str, names: list[str], table: Table) -> str | None:
    """The file's header that is probably ``column``: the same but for case and punctuation,
    a header exports commonly use for it, or one spelled nearly the same."""
    spare = [n for n in names if n not in table.column_names]
    by_norm = {header_key(n): n for n in spare}
    for candidate in (column, *contract.COMMON_HEADERS.get(column, ())):
        if header_key(candidate) in by_norm:
            return by_norm[header_key(candidate)]
    close = difflib.get_close_matches(header_key(column), list(by_norm), n=1, cutoff=0.8)
    return by_norm[close[0]] if close else None


def missing_columns(table: Table, names: list[str]) -> dict[str, str | None]:
    """The table's required columns a header lacks, each with the header that is probably it."""
    return {c: _closest_header(c, names, table) for c in table.required_columns if c not in names}


def column_map_hint(guesses: Mapping[str, str | None]) -> str:
    """How to give the probable headers as the column map, or '' when none is probable."""
    found = {column: header for column, header in guesses.items() if header}
    if not found:
        return ""
    flags = " ".join(f"--column {column}={header!r}" for column, header in found.items())
    return f"; give the headers as the column map: {flags} (or [study.columns] in a study file)"


def _check_columns(path: Path, table: Table, names: list[str], *, mappable: bool = True) -> list[str]:
    """Check header names against the contract; return the ignored extra columns. Every
    missing required column is named in one line, each with the header that is probably it
    (``mappable``: whether the column map applies to the file; it does not to Parquet)."""
    seen: set[str] = set()
    for name in names:
        key = name.lower()
        if key in seen:
            raise DataFileError("column appears twice in the header", file=str(path), column=name)
        seen.add(key)
    missing = missing_columns(table, names)
    if missing:
        first = next(iter(missing))
        if len(names) == 1 and any(d in names[0] for d in ";\t|"):
            raise DataFileError("required column is missing (the header has one column: is the file separated by "
                                "commas?)", file=str(path), column=first)
        others = f"; also missing: {', '.join(list(missing)[1:])}" if len(missing) > 1 else ""
        hint = (column_map_hint(missing) if mappable else "") or f" (the file has: {', '.join(names[:12])})"
        if not mappable and any(missing.values()):
            hint += "; the column map applies to CSV and Excel files: name the Parquet file's columns as the contract does"
        raise DataFileError(f"required column is missing{others}{hint}", file=str(path), column=first)
    return [n for n in names if n not in table.column_names]


def _is_text(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _is_text(t.value_type)
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


_PARQUET_TYPES: dict[str, Callable[[pa.DataType], bool]] = {
    "text": lambda t: _is_text(t) or pa.types.is_integer(t),
    "enum": _is_text,
    "int": lambda t: pa.types.is_integer(t) or _is_text(t),
    "float": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or _is_text(t),
    "date": lambda t: pa.types.is_date(t) or _is_text(t),
    "bool": lambda t: pa.types.is_boolean(t) or pa.types.is_integer(t) or _is_text(t),
}


def _parquet_columns(path: Path, table: Table) -> tuple[set[str], list[str]]:
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataFileError(f"not a readable Parquet file ({exc.__class__.__name__})", file=str(path)) from None
    names = list(schema.names)
    ignored = _check_columns(path, table, names, mappable=False)
    for column in table.columns:
        if column.name in names:
            arrow_type = schema.field(column.name).type
            if not pa.types.is_null(arrow_type) and not _PARQUET_TYPES[column.type](arrow_type):
                raise DataFileError(
                    f"has Parquet type {arrow_type}; expected {column.type}", file=str(path), column=column.name
                )
    return set(names), ignored


def _row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return run_sql(con, "common/table_row_count", identifiers={"table": table}).fetchone()[0]


def _rejected_count(con: duckdb.DuckDBPyConnection, table_name: str) -> int:
    return run_sql(con, "load/rejected_count", {"table_name": table_name}).fetchone()[0]


def _reader_columns(header: list[str], table: Table) -> dict[str, str]:
    """The CSV reader's column names: the contract's names as they are, any other column
    renamed ``_extra_<n>`` so that a column called rowid (Oracle exports) or file_row_number
    cannot collide with the database's own. Extra columns are ignored after reading."""
    known = set(table.column_names)
    return {(name if name in known else f"_extra_{i}"): "VARCHAR" for i, name in enumerate(header)}


def _read_file(con: duckdb.DuckDBPyConnection, table: Table, path: Path, scratch: Path,
               shown: Path | None = None, columns: Mapping[str, str] | None = None) -> tuple[int, list[str]]:
    """Read one file into ``read_<table>`` and ``raw_<table>``; return (rows read, ignored columns).

    For a CSV file, "rows read" is every data line of the file, counted by the line scan
    independently of the CSV reader; the two must agree or the file is refused. ``shown``:
    the file the user gave, when ``path`` is a CSV made from it (a workbook's sheet)."""
    shown = shown or path
    read_name, shift_name, raw_name = f"read_{table.name}", f"shift_{table.name}", f"raw_{table.name}"
    names = {"read": read_name, "shift": shift_name, "raw": raw_name}
    scan = None
    if path.suffix == ".csv":
        header = mapped_header(csv_header(path), columns or {})  # the reader names columns by position
        ignored = _check_columns(shown, table, header)
        present = set(header)
        scan = scan_lines(path, max_line=MAX_LINE_BYTES)
        source = path
        if scan.bad:
            source = write_without_bad_lines(path, scan, scratch / f".{table.name}.{os.getpid()}.scan.csv")
        try:
            run_sql(con, "load/read_csv", {"path": str(source), "columns": _reader_columns(header, table),
                                           "max_line": MAX_LINE_BYTES}, names)
        except duckdb.Error as exc:
            raise DataFileError(f"could not be read as CSV: {str(exc).splitlines()[0]}", file=str(shown)) from None
        finally:
            if source != path:
                source.unlink(missing_ok=True)
        bad_encoding = run_sql(con, "load/reader_encoding_error").fetchone()
        if bad_encoding is not None:
            raise DataFileError(f"file is not valid UTF-8 (line {bad_encoding[0]})", file=str(shown))
        first_line = 2
    else:
        present, ignored = _parquet_columns(path, table)
        missing = [c.name for c in table.columns if c.name not in present]
        if "file_row_number" in present:
            run_sql(con, "load/read_parquet_renumbered", {"path": str(path)}, names)
            run_sql(con, "load/number_rows", identifiers=names)
            present = present - {"file_row_number"}
        elif missing:
            run_sql(con, "load/read_parquet_copy", {"path": str(path)}, names)
        else:
            # A connection-scoped view, not a copy; the path goes in as an argument, not SQL text.
            con.register(read_name, con.read_parquet(str(path), file_row_number=True))
        run_sql(con, "load/reader_errors_none")
        first_line = 1
    for column in table.columns:
        if column.name not in present:
            run_sql(con, "load/add_missing_column", identifiers={"table": read_name, "column": column.name})
    if scan is not None:
        run_sql(con, "load/skipped_lines", {"blank_lines": scan.blank})
        run_sql(con, "load/reader_shift", {"first_line": first_line}, names)
        run_sql(con, "load/raw_lines", identifiers=names)
    else:
        run_sql(con, "load/raw_lines_parquet", identifiers=names)
    run_sql(con, "load/reader_rejects", {"table_name": table.name, "source_file": shown.name})
    if scan is not None and scan.bad:
        run_sql(con, "load/scanned_reasons", {"table_name": table.name, "lines": list(scan.bad),
                                                 "reasons": list(scan.bad.values())})
    reader_rejected = run_sql(con, "load/reader_rejected_lines").fetchone()[0]
    run_sql(con, "load/reader_errors_drop")
    rows = _row_count(con, raw_name)
    if scan is not None and rows + reader_rejected != scan.data_lines:
        raise DataFileError(
            f"the file has {scan.data_lines:,} data lines but the CSV reader accounted for "
            f"{rows + reader_rejected:,} ({rows:,} rows, {reader_rejected:,} rejected); nothing was loaded "
            "rather than lose rows silently. Check the file's line endings and quoting", file=str(shown))
    return rows + reader_rejected, ignored


def _remove_stale_temporaries(db_path: Path) -> None:
    """Remove temporary databases left by loads that were killed (their process is gone)."""
    for tmp in db_path.parent.glob(f".{db_path.name}.*.tmp*"):
        pid = tmp.name[len(db_path.name) + 2:].split(".")[0]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                continue  # still running
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        tmp.unlink(missing_ok=True)


def _read_tables(con: duckdb.DuckDBPyConnection, files: dict[str, Path], scratch: Path, date_format: str,
                 columns: Mapping[str, str], say: Progress) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Read each table's file (rows read per table, and the columns ignored in each)."""
    read_counts: dict[str, int] = {}
    ignored_columns: dict[str, list[str]] = {}
    for table in contract.TABLES:
        if table.name not in files:
            continue
        path = files[table.name]
        say(f"reading {path.name}")
        if path.suffix == ".xlsx":  # its first sheet, as a private CSV beside the work database
            sheet = as_csv(path, table, date_format, scratch / f".{table.name}.{os.getpid()}.xlsx.csv", columns)
            try:
                read_counts[table.name], ignored = _read_file(con, table, sheet, scratch, shown=path)
            finally:
                sheet.unlink(missing_ok=True)
        else:
            read_counts[table.name], ignored = _read_file(con, table, path, scratch, columns=columns)
        if ignored:
            ignored_columns[table.name] = ignored
        if read_counts[table.name] == 0 and table.required:
            raise DataFileError("file has a header but no rows", file=str(files[table.name]))
    return read_counts, ignored_columns


def _data_cutoff(con: duckdb.DuckDBPyConnection, files: dict[str, Path], read_counts: dict[str, int],
                 date_format: str) -> dt.date:
    """The latest valid outcome_date, or a one-line error saying why there is none."""
    cutoff = run_sql(con, "staging/data_cutoff").fetchone()[0]
    if cutoff is not None:
        return cutoff
    if read_counts["offences"] and _row_count(con, "raw_offences") == 0:
        first = run_sql(con, "load/first_rejects", {"table_name": "offences"}).fetchall()
        detail = "; ".join(f"line {line}: {reason}" for line, reason in first)
        raise DataFileError(f"no row of the file could be read as CSV ({detail}); is a quote "
                            "left open?", file=str(files["offences"]))
    written = run_sql(con, "load/first_outcome_date").fetchone()
    if written is not None:  # dates there, none of them read: the format, not the cut-off, is the problem
        raise DataFileError(f"no outcome_date is a date in {date_format} form (line {written[0]}: "
                            f"{str(written[1])[:40]!r}); give the files' date format: date_format in the study "
                            f"file or --date-format ({', '.join(contract.DATE_FORMATS)})",
                            file=str(files["offences"]), column="outcome_date")
    raise DataFileError("no valid outcome_date to take the data cut-off from; give --cutoff",
                        file=str(files["offences"]), column="outcome_date")


def _set_check_values(con: duckdb.DuckDBPyConnection, cutoff: dt.date | None, date_format: str, *,
                      types: bool = True) -> None:
    """The values the staging checks read, from the contract, as session variables (and,
    with ``types``, the enum types the tables are stored with; a snapshot has them)."""
    check_values = {
        "cutoff": cutoff,
        "true_words": list(contract.TRUE_WORDS),
        "false_words": list(contract.FALSE_WORDS),
        "person_id_pattern": contract.PERSON_ID_PATTERN,
        "sexes": list(contract.SEXES),
        "categories": list(contract.CATEGORIES),
        "disposals": list(contract.DISPOSALS),
        "min_age": contract.MIN_AGE_AT_OFFENCE,
        **contract.date_rules(date_format),
    }
    for name, value in check_values.items():
        if isinstance(value, dict):
            run_sql(con, "load/set_check_map", {"keys": list(value), "values": list(value.values())}, {"name": name})
        else:
            run_sql(con, "load/set_check_value", {"value": value}, {"name": name})
    if types:
        run_sql(con, "staging/enum_category", {"categories": list(contract.CATEGORIES)})
        run_sql(con, "staging/enum_disposal", {"disposals": list(contract.DISPOSALS)})


def _check_table(con: duckdb.DuckDBPyConnection, table: Table, path: Path | None, read: int,
                 say: Progress) -> TableCounts:
    """Load the rows of a read table that pass its checks and reject the others with their
    reasons (or make the empty table of an optional one not given); its counts, reconciled."""
    names = {"table": table.name, "checked": f"{table.name}_checked"}
    if path is not None:
        say(f"checking {table.name}")
        run_sql(con, f"staging/{table.name}_checked")
        unique_ids = table is contract.PEOPLE  # one row per person: no dictionary for its ids
        if unique_ids:
            run_sql(con, "load/unique_text_storage")
        run_sql(con, "load/checked_loaded", identifiers=names)
        if unique_ids:
            run_sql(con, "load/checkpoint")
            run_sql(con, "session_settings")  # restored for the other tables
        if _row_count(con, table.name) + _rejected_count(con, table.name) != read:
            # Some rows failed a check: a second pass over the file records why.
            run_sql(con, "load/checked_rejects", {"table_name": table.name, "source_file": path.name}, names)
    else:
        run_sql(con, f"staging/{table.name}_empty", identifiers=names)
    counts = TableCounts(read, _row_count(con, table.name), _rejected_count(con, table.name))
    if not counts.reconciles:
        raise ReoffendError(f"internal error: {table.name} read {counts.read} rows but loaded {counts.loaded} "
                            f"and rejected {counts.rejected}")
    if table is contract.PEOPLE:  # the other tables' rows of a rejected person are counted under its reason
        run_sql(con, "load/rejected_people", {"had_rejects": counts.rejected > 0})
    return counts


#: What a snapshot of the national extract records of how it was loaded (``snapshot_info``).
SNAPSHOT_KIND = "reoffend national snapshot"
SNAPSHOT_VERSION = 1


def _file_identity(files: Mapping[str, Path]) -> dict[str, list]:
    """Each table's file as [resolved path, size, modification time in ns]: a file changed
    after a snapshot was made of it no longer matches."""
    out = {}
    for name, path in sorted(files.items()):
        st = path.stat()
        out[name] = [str(path.resolve()), st.st_size, st.st_mtime_ns]
    return out


def _snapshot_key(files: Mapping[str, Path], cutoff: dt.date | None, date_format: str,
                  columns: Mapping[str, str]) -> dict:
    """What a snapshot must share with a load that copies it: the national files and the options."""
    return {"kind": SNAPSHOT_KIND, "version": SNAPSHOT_VERSION, "date_format": date_format,
            "columns": dict(sorted(columns.items())), "cutoff_given": None if cutoff is None else cutoff.isoformat(),
            "files": _file_identity({k: v for k, v in files.items() if k != contract.PARTICIPANTS.name})}


@contextmanager
def _building(tmp_path: Path, path: Path, con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``con``, open on the private ``tmp_path``, for the body to fill; then closed and renamed
    to ``path``, or closed and removed when the body fails (nothing half-made is left)."""
    try:
        private_file(tmp_path)
        yield con
    except BaseException:
        con.close()
        tmp_path.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp_path, path)


def _cutoff_and_checks(con: duckdb.DuckDBPyConnection, files: Mapping[str, Path], read_counts: Mapping[str, int],
                       cutoff: dt.date | None, date_format: str, *, types: bool = True) -> dt.date:
    """Set the staging checks' values; the cut-off given, or else the data's (:func:`_data_cutoff`)."""
    _set_check_values(con, cutoff, date_format, types=types)  # the date format first: the cut-off reads dates
    if cutoff is None:
        cutoff = _data_cutoff(con, files, read_counts, date_format)
        run_sql(con, "load/set_check_value", {"value": cutoff}, {"name": "cutoff"})
    return cutoff


def _open_snapshot(snapshot: Path, tmp_path: Path, files: Mapping[str, Path], cutoff: dt.date | None,
                   date_format: str, columns: Mapping[str, str]) -> tuple[duckdb.DuckDBPyConnection, dict]:
    """A copy of the snapshot at ``tmp_path``, opened, after checking it is a snapshot of these
    national files loaded with these options; its record (``snapshot_info``)."""
    import shutil

    if not snapshot.is_file() or snapshot.is_symlink():
        raise DataFileError("the national snapshot is not a plain file", file=str(snapshot))
    shutil.copyfile(snapshot, tmp_path)
    con = None
    try:
        private_file(tmp_path)
        con = connect(tmp_path)
        try:
            info = json.loads(run_sql(con, "load/snapshot_info_read").fetchone()[0])
        except (duckdb.Error, TypeError, ValueError):
            raise DataFileError("is not a national snapshot made by reoffend", file=str(snapshot)) from None
        expected = _snapshot_key(files, cutoff, date_format, columns)
        differ = [key for key, value in expected.items() if info.get(key) != value]
        if differ:
            raise DataFileError(f"the national snapshot does not match this load ({', '.join(differ)} differ); "
                                "make it again from the national extract", file=str(snapshot))
    except BaseException:
        if con is not None:
            con.close()
        tmp_path.unlink(missing_ok=True)
        raise
    return con, info


def load_data(
    data_dir: str | os.PathLike,
    db_path: str | os.PathLike,
    *,
    cutoff: dt.date | None = None,
    date_format: str = contract.ISO_DATES,
    columns: Mapping[str, str] | None = None,
    participants: str | os.PathLike | None = None,
    snapshot: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load every contract table in ``data_dir`` into the DuckDB file ``db_path``.

    Parameters
    ----------
    data_dir : folder with people, offences, participants (and optionally custody) as CSV or Parquet.
    db_path : DuckDB file to create or replace. ``rejects.csv`` and ``load_report.json`` go beside it.
    cutoff : the data's cut-off date; defaults to the latest valid outcome_date.
    date_format : how the files write their dates, one of ``contract.DATE_FORMATS``.
    columns : the column map, ``{contract column: header}``, for CSV and Excel files.
    participants : the participants file, when it is not ``data_dir``'s own.
    snapshot : a snapshot of ``data_dir``'s national tables (:func:`load_snapshot`, with the
        same options): it is copied and only the participants are read. The database, the
        rejects and the report are those a load of every file gives.
    progress : called with one line of text per step.

    Returns
    -------
    LoadReport
    """
    say = progress or (lambda _msg: None)
    from evaluation.files.output_folder import check_database_file

    data_dir = Path(data_dir)
    db_path = check_database_file(db_path, data_dir=data_dir)  # never over a file the loader did not write
    files = find_table_files(data_dir, None if participants is None else Path(participants))
    private_dir(db_path.parent)
    tmp_path = db_path.with_name(f".{db_path.name}.{os.getpid()}.tmp")
    _remove_stale_temporaries(db_path)
    columns = dict(columns or {})
    if snapshot is not None:
        say("copying the national snapshot")
        con, info = _open_snapshot(Path(snapshot), tmp_path, files, cutoff, date_format, columns)
    else:
        con, info = connect(tmp_path), None
    with _building(tmp_path, db_path, con):
        tables = (contract.PARTICIPANTS,) if info else contract.TABLES
        report = _load(con, db_path, {t.name: files[t.name] for t in tables if t.name in files}, tables,
                       cutoff, date_format, columns, say, info)
    say(f"loaded into {db_path}")
    return report


def _load(con: duckdb.DuckDBPyConnection, db_path: Path, files: dict[str, Path],
          tables: tuple[Table, ...], cutoff: dt.date | None, date_format: str, columns: Mapping[str, str],
          say: Progress, snapshot: dict | None) -> LoadReport:
    """Read and check ``tables`` into the open database (a copy of a snapshot holding the
    other tables when ``snapshot`` is its record); write rejects.csv and load_report.json."""
    run_sql(con, "staging/macros")
    run_sql(con, "load/rejects_table")
    read_counts, ignored_columns = _read_tables(con, files, db_path.parent, date_format, columns, say)
    if snapshot is not None:
        cutoff = dt.date.fromisoformat(snapshot["data_cutoff"])
        read_counts = {**snapshot["read"], **read_counts}
        ignored_columns = {**snapshot["ignored_columns"], **ignored_columns}
        run_sql(con, "load/snapshot_rejected_people_use")
    cutoff = _cutoff_and_checks(con, files, read_counts, cutoff, date_format, types=snapshot is None)
    counts = {}
    for table in contract.TABLES:
        if table in tables:
            counts[table.name] = _check_table(con, table, files.get(table.name), read_counts.get(table.name, 0), say)
        else:  # from the snapshot
            counts[table.name] = TableCounts(read_counts[table.name], _row_count(con, table.name),
                                             _rejected_count(con, table.name))
    if snapshot is not None:
        run_sql(con, "load/snapshot_drop")
    run_sql(con, "load/load_metadata", {"data_cutoff": cutoff})
    rejects = run_sql(con, "load/rejects_in_order").pl()
    kinds: dict[str, list[tuple[str, int]]] = {}
    for table_name, kind, rows in run_sql(con, "load/reject_kinds").fetchall():
        kinds.setdefault(table_name, []).append((kind, rows))
    rejects_path = db_path.with_name("rejects.csv")
    report_path = db_path.with_name("load_report.json")
    report = LoadReport(counts, cutoff, db_path, rejects_path, report_path,
                        {t.name: ignored_columns[t.name] for t in contract.TABLES if t.name in ignored_columns}, kinds)
    buffer = io.StringIO()
    rejects.write_csv(buffer)
    atomic_write_text(rejects_path, buffer.getvalue())
    atomic_write_text(report_path, json.dumps(report.to_dict(), indent=2) + "\n")
    return report


def load_snapshot(data_dir: str | os.PathLike, snapshot_path: str | os.PathLike, *, cutoff: dt.date | None = None,
                  date_format: str = contract.ISO_DATES, columns: Mapping[str, str] | None = None,
                  progress: Progress | None = None) -> dict:
    """Load the national extract in ``data_dir`` (people, offences, custody; no participants)
    once, checked as :func:`load_data` checks it, into the DuckDB file ``snapshot_path`` that
    each request's load copies (``load_data(..., snapshot=)``). Returns the snapshot's record:
    the options and files it was made with, its rows read and the data cut-off."""
    say = progress or (lambda _msg: None)
    data_dir, snapshot_path = Path(data_dir), Path(snapshot_path)
    files = find_table_files(data_dir, national=True)
    columns = dict(columns or {})
    tmp_path = snapshot_path.with_name(f".{snapshot_path.name}.{os.getpid()}.tmp")
    with _building(tmp_path, snapshot_path, connect(tmp_path)) as con:
        run_sql(con, "staging/macros")
        run_sql(con, "load/rejects_table")
        read_counts, ignored_columns = _read_tables(con, files, snapshot_path.parent, date_format, columns, say)
        data_cutoff = _cutoff_and_checks(con, files, read_counts, cutoff, date_format)
        for table in contract.TABLES:
            if table is not contract.PARTICIPANTS:
                _check_table(con, table, files.get(table.name), read_counts.get(table.name, 0), say)
        info = {**_snapshot_key(files, cutoff, date_format, columns), "data_cutoff": data_cutoff.isoformat(),
                "read": {t.name: read_counts.get(t.name, 0) for t in contract.TABLES if t is not contract.PARTICIPANTS},
                "ignored_columns": ignored_columns}
        run_sql(con, "load/snapshot_rejected_people_keep")
        run_sql(con, "load/snapshot_info_write", {"record": json.dumps(info)})
    say(f"national extract loaded once into {snapshot_path}")
    return info
