"""Checks that need no cohorts, run before anything slow starts (Prefect included).

A newcomer's mistakes (a wrong data path, a missing table or column, an unknown
programme, a cut-off before anyone started, an output folder the tool may not replace,
another run writing the same folder) fail here in well under a second with one line
that names the fix, instead of deep inside a flow run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from evaluation.db.connection import connect
from evaluation.db.queries import run_sql
from evaluation.errors import SettingsError
from evaluation.files.output_folder import check_output_folder
from evaluation.files.workspace import run_lock
from evaluation.load import contract
from evaluation.load.loader import _check_columns, _parquet_columns, csv_header, find_table_files
from evaluation.settings.model import StudySettings


def check_table_files(data_dir: Path) -> dict[str, Path]:
    """Every required table present, each file's header (or Parquet schema) holding the
    contract's required columns; returns table -> file."""
    files = find_table_files(Path(data_dir))
    for table in contract.TABLES:
        path = files.get(table.name)
        if path is None:
            continue
        if path.suffix == ".parquet":
            _parquet_columns(path, table)
        else:
            _check_columns(path, table, csv_header(path))
    return files


def programme_starts(participants: Path) -> dict[str, dt.date | None]:
    """Each programme named in the participants file, with its earliest valid start date."""
    kind = "parquet" if participants.suffix == ".parquet" else "csv"
    con = connect(None)
    try:
        rows = run_sql(con, f"load/programme_starts_{kind}", {"path": str(participants)}).fetchall()
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
    files = check_table_files(settings.data_dir)
    starts = programme_starts(files["participants"])
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
