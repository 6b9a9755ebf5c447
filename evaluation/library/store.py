"""The library file: one DuckDB table of evaluations, one row per version.

Only partner outputs are accepted (``results.json`` and ``manifest.json`` whose audience is
``partner``), so nothing person-level, and no count a partner may not see, enters a
library; a library can be shared between councils as it is. Each evaluation is known by
its council and study name; a run on newer data (a later data cut-off) replaces the older
version, unless the older one is kept on purpose (``keep_older``), when both stay and only
the newest is pooled.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from evaluation.db.queries import run_sql
from evaluation.errors import LibraryError

#: 95% normal quantile, for the standard error of a log rate ratio from its interval.
Z95 = 1.959963984540054
COLUMNS = (
    "study_key", "name", "title", "council", "programme_type", "programme_setting", "data_cutoff", "index_from",
    "index_to", "finished", "code_version", "participants", "comparison", "rate_ratio", "ci_low", "ci_high",
    "p_value", "log_rate_ratio", "se_log_rate_ratio", "maryland", "nesta", "falsification_fired", "headline",
    "results_json", "manifest_json", "is_current", "added",
)
# The table itself is sql/library/evaluations_table.sql; its columns, in order, are COLUMNS
# (tests/library/test_trust_boundary.py checks the queries agree).


@dataclass(frozen=True)
class Evaluation:
    """One evaluation as the library holds it (a row of ``evaluations``)."""

    study_key: str
    name: str
    title: str | None
    council: str | None
    programme_type: str | None
    programme_setting: str | None
    data_cutoff: str | None
    index_from: str | None
    index_to: str | None
    finished: str | None
    code_version: str | None
    participants: int | None
    comparison: int | None
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    log_rate_ratio: float | None
    se_log_rate_ratio: float | None
    maryland: int | None
    nesta: int | None
    falsification_fired: bool | None
    headline: str | None
    results_json: str
    manifest_json: str
    is_current: bool
    added: str

    @property
    def estimable(self) -> bool:
        """Whether it has a rate ratio with a finite interval (it can be pooled)."""
        return self.se_log_rate_ratio is not None and self.se_log_rate_ratio > 0

    @property
    def results(self) -> dict:
        return json.loads(self.results_json)

    @property
    def label(self) -> str:
        return f"{self.council or 'unnamed council'}: {self.title or self.name}"


@dataclass(frozen=True)
class AddReport:
    """What ``add`` did with each output folder."""

    added: tuple[str, ...]
    replaced: tuple[str, ...]
    kept_older: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        lines = [f"added {len(self.added)} evaluation(s): {', '.join(self.added) or 'none'}"]
        if self.replaced:
            lines.append(f"replaced older versions of: {', '.join(self.replaced)}")
        if self.kept_older:
            lines.append(f"kept older versions on purpose of: {', '.join(self.kept_older)}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _number(value, *, name: str, where: str, positive: bool = False) -> float | None:
    """A finite number from a results file, None when withheld; anything else is refused."""
    if value is None or isinstance(value, str):  # withheld, or a suppression marker
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LibraryError(f"{where}: {name} is not a finite number")
    if positive and value <= 0:
        raise LibraryError(f"{where}: {name} must be positive")
    return float(value)


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _read_json(path: Path) -> dict:
    from evaluation.library.schema import read_json

    return read_json(path)


def study_key(council: str | None, name: str) -> str:
    return f"{(council or '').strip().lower()}/{name.strip().lower()}"


def evaluation_from(results: dict, manifest: dict, *, where: str, added: str) -> Evaluation:
    """An evaluation row from a partner evaluation's results and manifest (refused, with
    the reason in one line, when either is not a partner output or is malformed)."""
    from evaluation.library.schema import check_partner_output

    check_partner_output(results, manifest, where=where)
    study = results.get("study")
    if not isinstance(study, dict) or not isinstance(study.get("name"), str) or not study["name"].strip():
        raise LibraryError(f"{where}: results.json has no study name")
    m = results.get("matched") or None
    rr = (m or {}).get("rate_ratio") or {}
    estimate = _number(rr.get("estimate"), name="matched.rate_ratio.estimate", where=where, positive=True)
    ci = rr.get("ci95") or [None, None]
    if not isinstance(ci, list) or len(ci) != 2:
        raise LibraryError(f"{where}: matched.rate_ratio.ci95 is not a pair")
    low = _number(ci[0], name="matched.rate_ratio.ci95", where=where, positive=True)
    high = _number(ci[1], name="matched.rate_ratio.ci95", where=where, positive=True)
    se = None
    if estimate is not None and low is not None and high is not None:
        if not low <= estimate <= high:
            raise LibraryError(f"{where}: the rate ratio lies outside its own interval")
        se = (math.log(high) - math.log(low)) / (2 * Z95) if high > low else None
    evidence = results.get("evidence") or {}
    index_dates = (results.get("cohort") or {}).get("index_dates") or [None, None]
    check = results.get("falsification") or {}
    from evaluation.report.wording import headline

    try:
        text = headline(results)
    except (KeyError, TypeError, ValueError):
        text = None
    return Evaluation(
        study_key=study_key(study.get("council"), study["name"]), name=study["name"], title=study.get("title"),
        council=study.get("council"), programme_type=study.get("programme_type"),
        programme_setting=study.get("programme_setting"),
        data_cutoff=(results.get("cohort") or {}).get("data_cutoff"),
        index_from=index_dates[0] if index_dates else None, index_to=index_dates[-1] if index_dates else None,
        finished=manifest.get("finished"), code_version=manifest.get("code_version"),
        participants=_count((m or {}).get("treated")), comparison=_count((m or {}).get("comparison")),
        rate_ratio=estimate, ci_low=low, ci_high=high,
        p_value=_number(rr.get("p_value"), name="matched.rate_ratio.p_value", where=where),
        log_rate_ratio=None if estimate is None else math.log(estimate), se_log_rate_ratio=se,
        maryland=_count((evidence.get("maryland") or {}).get("level")),
        nesta=_count((evidence.get("nesta") or {}).get("level")),
        falsification_fired=check.get("fired") if isinstance(check.get("fired"), bool) else None,
        headline=text, results_json=json.dumps(results, sort_keys=True), manifest_json=json.dumps(manifest, sort_keys=True),
        is_current=True, added=added,
    )


def _connect(library: Path, *, create: bool, write: bool | None = None) -> duckdb.DuckDBPyConnection:
    """The library file, recognised as one before anything is written to it: a new file is
    made only where nothing is; an existing one must be a DuckDB file holding the
    ``evaluations`` table and nothing else (a person-level database made by ``reoffend
    load`` is refused, untouched)."""
    library = Path(library)
    exists = library.exists() or library.is_symlink()
    if not create and not exists:
        raise LibraryError(f"{library}: no such library (make one with reoffend library add OUT_DIR --library {library})")
    if exists and (library.is_symlink() or not library.is_file()):
        raise LibraryError(f"{library}: not a library file (a link or not a plain file); give a library's path")
    if not exists:
        from evaluation.files.atomic import private_dir

        private_dir(library.parent)
    try:
        con = duckdb.connect(str(library), read_only=exists and not (create if write is None else write))
        if exists:
            tables = {row[0] for row in run_sql(con, "common/database_tables").fetchall()}
            columns = [row[0] for row in run_sql(con, "library/evaluations_columns").fetchall()]
            if tables != {"evaluations"} or tuple(columns) != COLUMNS:
                con.close()
                found = ", ".join(sorted(tables)[:5]) or "no tables"
                raise LibraryError(f"{library}: not a library file (it holds {found}); nothing was written to it")
        else:
            run_sql(con, "library/evaluations_table")
            os.chmod(library, 0o600)
    except duckdb.Error as exc:
        raise LibraryError(f"{library}: not a library file ({str(exc).splitlines()[0]})") from None
    return con


def no_longer_pooled(evaluation: Evaluation) -> str:
    """The warning when a new version takes a pooled evaluation out of the pool."""
    return (f"{evaluation.label}: the new version cannot be pooled (no rate ratio in its partner view), so its "
            "programme type loses this study from the pool; the older version was pooled")


def add_evaluation(library: Path, evaluation: Evaluation, *, keep_older: bool = False) -> str:
    """Put one evaluation in the library; returns "added", "replaced" or "kept older" (and
    "replaced" is followed by ``no_longer_pooled``'s warning, after a newline, when the
    version replaced was pooled and the new one cannot be)."""
    return _add_all(library, [evaluation], keep_older=keep_older)[0]


def _add_all(library: Path, evaluations: list[Evaluation], *, keep_older: bool) -> list[str]:
    """Add evaluations in one transaction: all of them, or (on any refusal, or a killed run)
    none, with the library as it was."""
    outcomes = []
    with _connect(library, create=True) as con:
        con.begin()
        try:
            for evaluation in evaluations:
                outcomes.append(_add(con, evaluation, keep_older=keep_older))
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return outcomes


def _add(con: duckdb.DuckDBPyConnection, evaluation: Evaluation, *, keep_older: bool) -> str:
    key = {"study_key": evaluation.study_key}
    existing = run_sql(con, "library/current_version", key).fetchall()
    outcome = "added"
    if existing:
        cutoff, finished, old_se = existing[0]
        if (evaluation.data_cutoff or "", evaluation.finished or "") < (cutoff or "", finished or ""):
            raise LibraryError(f"{evaluation.label}: the library already holds a version on newer data "
                               f"(to {cutoff}); this one is to {evaluation.data_cutoff}")
        if keep_older:
            run_sql(con, "library/keep_older", key)
            outcome = "kept older"
        else:
            run_sql(con, "library/delete_current", key)
            outcome = "replaced"
        if old_se is not None and old_se > 0 and not evaluation.estimable:
            outcome += "\n" + no_longer_pooled(evaluation)
    values = {c: getattr(evaluation, c) for c in COLUMNS}
    run_sql(con, "library/insert_evaluation", {"row": values})
    return outcome


def add_evaluations(library: Path, rows: list[Evaluation], *, keep_older: bool = False) -> AddReport:
    """Add checked evaluations (:func:`evaluation_from`) in one transaction: all or none."""
    keys = [r.study_key for r in rows]
    if len(set(keys)) != len(keys):
        raise LibraryError("two of the folders are the same evaluation (same council and study name); add one at a time")
    report = {"added": [], "replaced": [], "kept older": []}
    warnings = []
    for row, said in zip(rows, _add_all(library, rows, keep_older=keep_older)):
        outcome, *warning = said.split("\n")
        report[outcome].append(row.label)
        warnings += warning
    return AddReport(tuple(report["added"] + report["replaced"] + report["kept older"]), tuple(report["replaced"]),
                     tuple(report["kept older"]), tuple(warnings))


def add_outputs(library: Path, out_dirs: list[Path], *, keep_older: bool = False) -> AddReport:
    """Add partner evaluation output folders (each with results.json and manifest.json).
    Every folder is checked before any is added, and all are added in one transaction, so a
    bad one, or a killed run, adds nothing."""
    added = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows = []
    for folder in map(Path, out_dirs):
        if not folder.is_dir():
            raise LibraryError(f"{folder}: not a folder (give an evaluation's output folder)")
        rows.append(evaluation_from(_read_json(folder / "results.json"), _read_json(folder / "manifest.json"),
                                    where=str(folder), added=added))
    return add_evaluations(library, rows, keep_older=keep_older)


def read_library(library: Path) -> list[Evaluation]:
    """Every evaluation in the library (current and kept older versions), in a stable order."""
    with _connect(library, create=False) as con:
        rows = run_sql(con, "library/all_evaluations").fetchall()
    return [Evaluation(*row) for row in rows]


def slug(text: str) -> str:
    """A safe file name from any text (hostile names included)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "evaluation"


def remove_evaluations(library: Path, *, council: str | None, name: str) -> int:
    """Remove every version of one evaluation (by council and study name); returns how many
    rows went. For the library's operator: a forged or mistaken entry leaves in one step."""
    with _connect(library, create=False, write=True) as con:
        key = study_key(council, name)
        gone = run_sql(con, "library/count_evaluation", {"study_key": key}).fetchone()[0]
        if not gone:
            raise LibraryError(f"{library}: no evaluation '{name}' of council '{council or ''}' (see the site's list)")
        run_sql(con, "library/delete_evaluation", {"study_key": key})
    return gone
