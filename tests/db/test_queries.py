"""Queries from sql/: identifiers only from the allow-list, values only as bound parameters."""

from __future__ import annotations

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


