"""Queries from sql/: identifiers only from the allow-list, values only as bound parameters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evaluation.db.connection import connect
from evaluation.db.queries import render_sql, run_sql


def test_an_identifier_outside_the_allow_list_is_refused():
    assert render_sql("common/table_rows", {"table": "people"}).count('"people"') == 1
    for hostile in ('people"; DROP TABLE people; --', "pg_catalog.x", "People"):
        with pytest.raises(ValueError, match="not an allowed"):
            render_sql("common/table_rows", {"table": hostile})


def test_a_query_gets_exactly_the_parameters_it_names():
    con = connect(None)
    try:
        with pytest.raises(KeyError, match="path"):
            run_sql(con, "load/programme_starts_csv", {})
    finally:
        con.close()




ROOT = Path(__file__).resolve().parents[2]
_CODE = ("evaluation", "flows", "cli", "benchmarks", "synthetic_data")
_RAW_QUERY = re.compile(r"\.(execute|executemany|sql|query)\(|duckdb\.sql\(")


def test_every_query_runs_through_run_sql():
    """The one runner (timed, values bound, names from the allow-list): no other call runs SQL text."""
    raw = [f"{path.relative_to(ROOT)}:{n}" for folder in _CODE for path in (ROOT / folder).rglob("*.py")
           for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
           if _RAW_QUERY.search(line) and path != ROOT / "evaluation/db/queries.py"]
    assert raw == []


def test_every_file_in_sql_is_run_by_some_code():
    code = "\n".join(path.read_text(encoding="utf-8") for folder in _CODE for path in (ROOT / folder).rglob("*.py"))
    # names built in an f-string (f"staging/{table.name}_checked") match with any word for each {...}
    built = [re.compile(re.sub(r"\\\{[^}]*\\\}", r"\\w+", re.escape(m)) + "$")
             for m in re.findall(r'f"(\w+/[^"]*\{[^"]*)"', code)]
    unused = []
    for path in (ROOT / "sql").rglob("*.sql"):
        name = str(path.relative_to(ROOT / "sql").with_suffix(""))
        if f'"{name}"' not in code and not any(b.match(name) for b in built):
            unused.append(name)
    assert unused == []
    assert len(built) >= 3  # the loader's staging and empty tables, the preflight's file kinds


def test_the_load_is_timed_query_by_query(tmp_path):
    """The load's queries reach the benchmark's profile (they bypassed it before)."""
    from dataclasses import replace

    from evaluation.db import queries
    from evaluation.load.loader import load_data
    from synthetic_data.generator import SOUTHAMPTON, generate

    generate(replace(SOUTHAMPTON, people=400, participants=20), tmp_path / "data", seed=3)
    seen: list[str] = []
    queries.on_query = lambda name, _seconds: seen.append(name)
    try:
        load_data(tmp_path / "data", tmp_path / "db" / "reoffend.duckdb")
    finally:
        queries.on_query = None
    assert {"load/read_csv", "staging/people_checked", "load/checked_loaded", "load/load_metadata"} <= set(seen)
