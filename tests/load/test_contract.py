"""The data contract is the one source of the date checks: each staging query checks every
date column of its table through date_problem, and the rules it applies are the contract's."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from importlib import resources

import polars as pl

from evaluation import load_data
from evaluation.load import contract


def test_each_staging_query_checks_exactly_its_tables_date_columns_through_date_problem():
    for table in contract.TABLES:
        text = resources.files("sql.staging").joinpath(f"{table.name}_checked.sql").read_text()
        checked = re.findall(r"date_problem\('(\w+)'", text)
        dates = [c.name for c in table.columns if c.type == "date"]
        assert sorted(checked) == sorted(dates), table.name
        for column in dates:  # no hand-written ladder beside the macro
            assert f"'{column} is missing'" not in text


def test_date_columns_are_named_once_across_tables_and_their_orders_name_real_columns():
    names = [c.name for c in contract.DATE_COLUMNS]
    assert len(names) == len(set(names))
    for table in contract.TABLES:
        for column in table.columns:
            for other in (column.on_or_after, column.on_or_before):
                assert not other or table.column(other).type == "date"


def test_a_rule_changed_in_the_contract_changes_what_the_load_rejects(folder, tmp_path, monkeypatch):
    """end_date is not bounded by the cut-off; made bounded in the contract, a late one is rejected."""
    data = folder(people=["P1,1980,M,,,,"], offences=["P1,2010-01-01,2010-02-01,theft,,"],
                  participants=["P1,OLASS,2010-03-01,2012-01-01,"])

    def reasons(out):
        report = load_data(data, out / "eval.duckdb", cutoff=dt.date(2011, 1, 1))
        return pl.read_csv(report.rejects_path, infer_schema_length=0)["reason"].to_list()

    assert reasons(tmp_path / "as_is") == []
    bounded = tuple(dataclasses.replace(c, bounded=True) if c.name == "end_date" else c
                    for c in contract.DATE_COLUMNS)
    monkeypatch.setattr(contract, "DATE_COLUMNS", bounded)
    assert reasons(tmp_path / "bounded") == ["end_date '2012-01-01' is after the data cut-off"]


def test_a_contract_without_an_ordered_date_still_loads(folder, tmp_path, monkeypatch):
    """An empty rule list binds as an empty MAP of text (an untyped empty MAP failed)."""
    data = folder(people=["P1,1980,M,,,,"], offences=["P1,2010-01-01,2010-02-01,theft,,"],
                  participants=["P1,OLASS,2010-03-01,,"])
    plain = tuple(dataclasses.replace(c, on_or_after="", on_or_before="") for c in contract.DATE_COLUMNS)
    monkeypatch.setattr(contract, "DATE_COLUMNS", plain)
    report = load_data(data, tmp_path / "db" / "eval.duckdb", cutoff=dt.date(2011, 1, 1))
    assert report.tables["participants"].loaded == 1
