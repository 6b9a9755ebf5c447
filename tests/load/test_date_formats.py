"""Dates as councils' exports write them (issue 37, finding 3): a folder of day-first UK
dates read as ISO failed 38 s in, after Prefect started, advising --cutoff, which then
rejected every row. Now the preflight names the format at once, the load reads the format
the study gives, and an evaluation of the same data written either way gives the same results."""

from __future__ import annotations

import datetime as dt
import time

import polars as pl
import pytest

from evaluation import DataFileError, load_data
from evaluation.errors import SettingsError
from evaluation.load import contract
from evaluation.load.preflight import check_date_format
from evaluation.pipeline.runner import run_results
from evaluation.settings.model import StudySettings
from tests.generated import generated


def rewritten(iso_folder, to, strftime: str):
    """The same tables with every date column written by ``strftime``."""
    to.mkdir(parents=True)
    for table in contract.TABLES:
        path = iso_folder / f"{table.name}.csv"
        if not path.exists():
            continue
        frame = pl.read_csv(path, infer_schema_length=0)
        dates = [c.name for c in table.columns if c.type == "date" and c.name in frame.columns]
        frame = frame.with_columns(pl.col(c).str.to_date("%Y-%m-%d").dt.strftime(strftime) for c in dates)
        frame.write_csv(to / path.name)
    return to


@pytest.fixture(scope="module")
def iso(tmp_path_factory):
    return generated(tmp_path_factory, "dates", people=3000, participants=60, seed=6)


def test_the_preflight_names_the_format_a_uk_export_is_written_in_at_once(iso, tmp_path):
    uk = rewritten(iso, tmp_path / "uk", "%d/%m/%Y")
    start = time.perf_counter()
    with pytest.raises(SettingsError) as caught:
        check_date_format(uk, "YYYY-MM-DD")
    assert time.perf_counter() - start < 1.0  # a quick look, not a load
    message = str(caught.value)
    assert "\n" not in message and "offence_date" in message and 'date_format = "DD/MM/YYYY"' in message
    check_date_format(uk, "DD/MM/YYYY")  # said: nothing to refuse
    check_date_format(iso, "YYYY-MM-DD")
    check_date_format(iso, "DD/MM/YYYY")  # ISO dates are read in every format: none can be mistaken


def test_a_load_without_the_format_says_the_format_not_the_cut_off(iso, tmp_path):
    uk = rewritten(iso, tmp_path / "uk", "%d/%m/%Y")
    with pytest.raises(DataFileError, match="no outcome_date is a date in YYYY-MM-DD form .*--date-format") as caught:
        load_data(uk, tmp_path / "db" / "x.duckdb")
    assert "give --cutoff" not in str(caught.value)


@pytest.mark.parametrize(("name", "strftime"), [("DD/MM/YYYY", "%d/%m/%Y"), ("DD.MM.YYYY", "%d.%m.%Y"),
                                                ("MM/DD/YYYY", "%m/%d/%Y")])
def test_the_same_data_written_another_way_loads_the_same_rows(iso, tmp_path, name, strftime):
    other = rewritten(iso, tmp_path / "other", strftime)
    a = load_data(iso, tmp_path / "a" / "x.duckdb")
    b = load_data(other, tmp_path / "b" / "x.duckdb", date_format=name)
    assert b.to_dict() == a.to_dict() and all(c.rejected == 0 for c in b.tables.values())


def test_a_bad_date_is_rejected_in_the_words_of_its_format(folder, tmp_path):
    data = folder(people=["P1,1980,M,,,,"], offences=["P1,01/01/2010,01/02/2010,theft,,", "P1,31/02/2010,01/03/2010,theft,,"],
                  participants=["P1,OLASS,01/03/2010,,"])
    report = load_data(data, tmp_path / "db" / "x.duckdb", cutoff=dt.date(2011, 1, 1), date_format="DD/MM/YYYY")
    reasons = pl.read_csv(report.rejects_path, infer_schema_length=0)["reason"].to_list()
    assert reasons == ["offence_date '31/02/2010' is not a real date in DD/MM/YYYY form"]


def test_an_evaluation_of_uk_dates_gives_the_results_of_the_same_data_in_iso(iso, tmp_path):
    uk = rewritten(iso, tmp_path / "uk", "%d/%m/%Y")
    same = dict(bootstrap_resamples=100, robustness=False, name="dates")
    a = run_results(StudySettings(data_dir=iso, out_dir=tmp_path / "a", **same))
    b = run_results(StudySettings(data_dir=uk, out_dir=tmp_path / "b", date_format="DD/MM/YYYY", **same))
    assert a == b
