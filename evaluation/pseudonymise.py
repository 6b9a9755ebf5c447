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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evaluation.database import connect
from evaluation.errors import DataFileError, SettingsError
from evaluation.loading import csv_header
from evaluation.safe_files import private_dir, private_file
from evaluation.sql_files import render_sql

KEY_VARIABLE = "REOFFEND_PSEUDONYM_KEY"
MIN_KEY_BYTES = 32
_BLOCK = 64  # SHA-256 block size
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def key_from_environment() -> bytes:
    value = os.environ.get(KEY_VARIABLE, "")
    key = value.encode("utf-8")
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


@dataclass(frozen=True)
class PseudonymiseReport:
    files: dict[str, int]  # file name -> rows written
    pseudonymised: tuple[str, ...]
    copied: tuple[str, ...]

    def summary(self) -> str:
        lines = [f"{name:<24}{rows:>12,} rows  {'pseudonymised' if name in self.pseudonymised else 'copied (no such column)'}"
                 for name, rows in self.files.items()]
        return "\n".join(lines)


def pseudonymise(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    id_column: str,
    key: bytes,
    progress: Callable[[str], None] | None = None,
) -> PseudonymiseReport:
    """Write every CSV and Parquet table of ``in_dir`` to ``out_dir`` with ``id_column``
    replaced by its HMAC-SHA256 pseudonym (tables without the column are copied as they are)."""
    say = progress or (lambda _m: None)
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if len(key) < MIN_KEY_BYTES:
        raise SettingsError(f"the key must be at least {MIN_KEY_BYTES} bytes")
    if not _COLUMN.match(id_column):
        raise SettingsError(f"{id_column!r} is not a column name")
    if not in_dir.is_dir():
        raise DataFileError("folder does not exist", file=str(in_dir))
    if out_dir.resolve() == in_dir.resolve():
        raise SettingsError("--out must be a different folder from the input")
    paths = sorted(p for p in in_dir.iterdir() if p.suffix in (".csv", ".parquet") and p.is_file())
    if not paths:
        raise DataFileError("no .csv or .parquet files", file=str(in_dir))
    private_dir(out_dir)
    inner, outer = _pads(key)
    files: dict[str, int] = {}
    done, copied = [], []
    con = connect()
    try:
        for path in paths:
            say(f"reading {path.name}")
            if path.suffix == ".csv":
                header = csv_header(path)
                source = con.read_csv(str(path), header=True, all_varchar=True, sep=",", quotechar='"')
            else:
                source = con.read_parquet(str(path))
                header = list(source.columns)
            if id_column in header:
                con.register("pseudonymise_source", source)
                query = render_sql("staging/pseudonymised", {"id_column": id_column}, frozenset(header))
                result = con.sql(query, params={"inner_pad": inner, "outer_pad": outer})
                done.append(path.name)
            else:
                result = source
                copied.append(path.name)
            target = out_dir / path.name
            tmp = target.with_name(f".{target.name}.tmp")
            if path.suffix == ".csv":
                result.write_csv(str(tmp), header=True)
            else:
                result.write_parquet(str(tmp))
            files[path.name] = source.shape[0]
            private_file(tmp)
            os.replace(tmp, target)
            if id_column in header:
                con.unregister("pseudonymise_source")
    finally:
        con.close()
    return PseudonymiseReport(files, tuple(done), tuple(copied))
