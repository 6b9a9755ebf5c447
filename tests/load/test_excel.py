"""Excel workbooks (issue 37, finding 4): a participants list in .xlsx was reported as "required
table 'participants' is missing". Now it is read (its first sheet, through polars' calamine
reader), its date cells in the study's date format, its rows numbered as in the sheet; a
workbook the loader cannot read is named, never taken as missing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from evaluation import DataFileError, load_data
from evaluation.load.loader import find_table_files
from evaluation.load.preflight import check_date_format, check_table_files, programme_starts
from evaluation.pipeline.runner import run_results
from evaluation.settings.model import StudySettings
from tests.generated import generated


def as_workbook(csv_path, *, typed_dates: bool = True):
    """The CSV file as a workbook beside it (dates as Excel date cells when ``typed_dates``); the CSV goes."""
    frame = pl.read_csv(csv_path, infer_schema_length=0)
    if typed_dates:
        frame = frame.with_columns(pl.col(c).str.to_date("%Y-%m-%d", strict=False)
                                   for c in frame.columns if c.endswith("_date"))
    frame.write_excel(csv_path.with_suffix(".xlsx"))
    csv_path.unlink()
    return csv_path.with_suffix(".xlsx")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return generated(tmp_path_factory, "excel", people=3000, participants=60, seed=8)


def test_a_workbook_of_participants_evaluates_as_its_csv_does(data, tmp_path):
    import shutil

    book = tmp_path / "book"
    shutil.copytree(data, book)
    for name in ("marker", ".reoffend-outputs.json", "truth.json"):
        (book / name).unlink(missing_ok=True)
    as_workbook(book / "participants.csv")
    assert find_table_files(book)["participants"].name == "participants.xlsx"
    check_table_files(book)
    check_date_format(book, "YYYY-MM-DD")
    assert programme_starts(book / "participants.xlsx") == programme_starts(data / "participants.csv")
    same = dict(bootstrap_resamples=100, robustness=False, name="excel")
    a = run_results(StudySettings(data_dir=data, out_dir=tmp_path / "a", **same))
    b = run_results(StudySettings(data_dir=book, out_dir=tmp_path / "b", **same))
    assert a == b


def test_typed_and_typed_in_dates_read_in_the_format_given_and_rows_keep_their_sheet_numbers(folder, tmp_path):
    data = folder(people=["P1,1980,M,,,,", "P2,1985,F,,,,"], offences=["P1,01/01/2010,01/02/2010,theft,,"],
                  participants=["P1,OLASS,2010-03-01,,", "P2,OLASS,2010-03-05,,", "P3,OLASS,2010-03-09,,"])
    sheet = pl.DataFrame({"person_id": ["P1", "P2", "P3"], "programme": ["OLASS"] * 3,
                          "start_date": [dt.date(2010, 3, 1), None, dt.date(2010, 3, 9)],
                          "end_date": [None, None, None], "referral_source": ["x", "y", "z"]})
    (data / "participants.csv").unlink()
    sheet.write_excel(data / "participants.xlsx")
    # P2's start typed in by hand, day first, in a cell of text (as a council's list has them)
    with_text = pl.read_excel(data / "participants.xlsx", engine="calamine", infer_schema_length=0).with_columns(
        pl.when(pl.col("person_id") == "P2").then(pl.lit("05/03/2010")).otherwise(pl.col("start_date"))
        .alias("start_date"))
    with_text.write_excel(data / "participants.xlsx")
    report = load_data(data, tmp_path / "db" / "x.duckdb", cutoff=dt.date(2011, 1, 1), date_format="DD/MM/YYYY")
    assert report.tables["participants"].read == 3
    rejects = pl.read_csv(report.rejects_path, infer_schema_length=0)
    # P3 is not in people: rejected at the sheet's row 4 (the header is row 1), in the workbook's name
    assert rejects.select("table_name", "source_file", "line").rows() == [("participants", "participants.xlsx", "4")]
    assert report.tables["participants"].loaded == 2


@pytest.mark.parametrize("suffix", [".xls", ".ods", ".tsv"])
def test_a_table_in_a_file_the_loader_cannot_read_is_named_not_missing(folder, tmp_path, suffix):
    data = folder(people=["P1,1980,M,,,,"], offences=["P1,2010-01-01,2010-02-01,theft,,"],
                  participants=["P1,OLASS,2010-03-01,,"])
    (data / "participants.csv").rename(data / f"participants{suffix}")
    with pytest.raises(DataFileError, match=f"participants{suffix}: is .*save it as") as caught:
        load_data(data, tmp_path / "db" / "x.duckdb")
    assert "missing" not in str(caught.value)


def test_a_broken_workbook_is_one_line(folder, tmp_path):
    data = folder(people=["P1,1980,M,,,,"], offences=["P1,2010-01-01,2010-02-01,theft,,"],
                  participants=["P1,OLASS,2010-03-01,,"])
    (data / "participants.csv").unlink()
    (data / "participants.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DataFileError, match="not a readable Excel workbook") as caught:
        load_data(data, tmp_path / "db" / "x.duckdb")
    assert "\n" not in str(caught.value)
