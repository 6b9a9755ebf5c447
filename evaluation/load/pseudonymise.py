"""Keyed pseudonymisation of raw identifiers (police or prison numbers) before sharing.

Every table in a folder has its identifier column replaced by HMAC-SHA256(key, value) in
hex (64 characters, a valid person_id). The key is the data owner's secret: the same key
gives the same pseudonyms across monthly extracts, so they still link up, and without it
nobody can recompute a pseudonym from an identifier. The key is read from an environment
variable by the command, never written to any output, log or manifest.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from evaluation.db.connection import connect
from evaluation.db.queries import run_sql
from evaluation.errors import DataFileError, SettingsError
from evaluation.files.atomic import private_file
from evaluation.files.output_folder import check_output_folder, write_folder
from evaluation.load.line_scan import scan_lines
from evaluation.load.loader import MAX_LINE_BYTES, csv_header

KEY_VARIABLE = "REOFFEND_PSEUDONYM_KEY"
MIN_KEY_BYTES = 32
_BLOCK = 64  # SHA-256 block size
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _check_key_variety(key: bytes) -> None:
    if len(key) >= MIN_KEY_BYTES and len(set(key)) < 8:
        raise SettingsError(f"{KEY_VARIABLE} repeats a few characters ({len(set(key))} different): use a random "
                            "secret, for example `python3 -c 'import secrets; print(secrets.token_hex(32))'`")


def key_from_environment() -> bytes:
    value = os.environ.get(KEY_VARIABLE, "")
    key = value.encode("utf-8")
    _check_key_variety(key)
    if len(key) < MIN_KEY_BYTES:
        raise SettingsError(
            f"set {KEY_VARIABLE} to a secret of at least {MIN_KEY_BYTES} bytes (it is "
            f"{'not set' if not value else f'{len(key)} bytes'}); keep the same key for every extract so "
            "pseudonyms link up, and never share it"
        )
    return key


def _pads(key: bytes) -> tuple[bytes, bytes]:
    k = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
    k = k.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


#: Column names taken for direct identifiers (compared in lower case with every run of
#: other characters as one space): names, dates of birth, postcodes, addresses, phone
#: numbers, e-mail and National Insurance numbers. They are dropped unless kept by name.
DIRECT_IDENTIFIERS = re.compile(
    r"^(?:(?:first|fore|given|middle|last|sur|family|full|maiden|previous|other|person s|offender)? ?names?"
    r"|alias(?:es)?|aka|dob|d o b|date of birth|birth ?date|(?:home |current )?post ?codes?|postal codes?"
    r"|zip(?: code)?|.*address.*|.*(?:phone|mobile|telephone)(?: number| no)?|e ?mail.*"
    r"|ni|nino|ni number|national insurance(?: number| no)?)$")


def is_direct_identifier(column: str) -> bool:
    return bool(DIRECT_IDENTIFIERS.match(re.sub(r"[^a-z0-9]+", " ", column.lower()).strip()))


@dataclass(frozen=True)
class PseudonymiseReport:
    files: dict[str, int]  # file name -> rows written
    pseudonymised: tuple[str, ...]
    dropped: dict[str, tuple[str, ...]] = field(default_factory=dict)  # file name -> direct identifiers left out

    def summary(self) -> str:
        return "\n".join(
            f"{name:<24}{rows:>12,} rows  pseudonymised"
            + (f"; dropped {', '.join(self.dropped[name])} (direct identifiers; --keep COLUMN keeps one)"
               if self.dropped.get(name) else "")
            for name, rows in self.files.items())


def _check_csv(path: Path, id_column: str) -> list[str]:
    """A CSV file's header, refusing a file whose lines the reader could misread (a stray
    quote that would swallow later lines, a NUL byte)."""
    header = csv_header(path)
    scan = scan_lines(path, max_line=MAX_LINE_BYTES)
    if scan.bad:
        line, reason = next(iter(sorted(scan.bad.items())))
        raise DataFileError(f"line {line}: {reason}; fix the file before pseudonymising (nothing was written)",
                            file=str(path))
    return header


def pseudonymise(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    id_column: str,
    key: bytes,
    keep: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> PseudonymiseReport:
    """Write every CSV and Parquet table of ``in_dir`` to ``out_dir`` with ``id_column``
    replaced by its HMAC-SHA256 pseudonym, and every column taken for a direct identifier
    (:func:`is_direct_identifier`: names, dates of birth, postcodes, addresses, ...) left
    out unless named in ``keep``.

    Every table must hold ``id_column`` (each is about people): if one does not, or a file
    cannot be read whole, nothing is written. ``out_dir`` is written atomically and follows
    the output-folder policy (a new or empty folder, or one this tool wrote)."""
    say = progress or (lambda _m: None)
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    _check_key_variety(key)
    if len(key) < MIN_KEY_BYTES:
        raise SettingsError(f"the key must be at least {MIN_KEY_BYTES} bytes")
    if not _COLUMN.match(id_column):
        raise SettingsError(f"{id_column!r} is not a column name")
    if not in_dir.is_dir():
        raise DataFileError("folder does not exist", file=str(in_dir))
    workbooks = sorted(p.name for p in in_dir.iterdir() if p.suffix == ".xlsx" and p.is_file())
    if workbooks:  # never left behind unpseudonymised while the rest is written
        raise DataFileError(f"{workbooks[0]} is an Excel workbook, which pseudonymise does not read; save it as "
                            "CSV (UTF-8) first. Nothing was written", file=str(in_dir / workbooks[0]))
    paths = sorted(p for p in in_dir.iterdir() if p.suffix in (".csv", ".parquet") and p.is_file())
    if not paths:
        raise DataFileError("no .csv or .parquet files", file=str(in_dir))
    check_output_folder(out_dir, data_dir=in_dir, kind="pseudonymised data")
    con = connect()
    try:
        sources = {}
        for path in paths:  # check every file before writing anything
            say(f"checking {path.name}")
            try:
                if path.suffix == ".csv":
                    header = _check_csv(path, id_column)
                    source = con.read_csv(str(path), header=True, all_varchar=True, sep=",", quotechar='"',
                                          escapechar='"')
                else:
                    source = con.read_parquet(str(path))
                    header = list(source.columns)
            except duckdb.Error as exc:
                raise DataFileError(f"cannot be read ({str(exc).splitlines()[0]}); nothing was written",
                                    file=str(path)) from None
            if id_column not in header:
                raise DataFileError(f"has no column '{id_column}' (columns: {', '.join(header)}); give the "
                                    "identifier column every table shares with --id-column. Nothing was written",
                                    file=str(path))
            sources[path] = (source, header)
        unknown = [c for c in keep if not any(c in header for _, header in sources.values())]
        if unknown:
            raise SettingsError(f"--keep {unknown[0]!r}: no file has that column. Nothing was written")
        dropped = {path.name: tuple(c for c in header if c != id_column and c not in keep and is_direct_identifier(c))
                   for path, (_, header) in sources.items()}
        inner, outer = _pads(key)
        files: dict[str, int] = {}

        def fill(staging: Path) -> None:
            for path, (source, header) in sources.items():
                say(f"pseudonymising {path.name}")
                con.register("pseudonymise_source", source)
                target = staging / path.name
                try:
                    files[path.name] = run_sql(
                        con, "load/pseudonymised",
                        {"inner_pad": inner, "outer_pad": outer, "path": str(target), "format": path.suffix[1:],
                         "dropped": list(dropped[path.name])},
                        {"id_column": id_column}, frozenset(header)).fetchone()[0]
                except duckdb.Error as exc:
                    raise DataFileError(f"cannot be read ({str(exc).splitlines()[0]}); nothing was written",
                                        file=str(path)) from None
                finally:
                    con.unregister("pseudonymise_source")
                private_file(target)

        write_folder(out_dir, fill, data_dir=in_dir, kind="pseudonymised data")
    finally:
        con.close()
    return PseudonymiseReport(files, tuple(files), {name: cols for name, cols in dropped.items() if cols})
