"""The column map (issue 37, finding 2): a police extract with "PNC ID" and "Offence Date"
headers failed one column at a time ("column 'person_id': required column is missing")
with no hint. Now every missing column is named at once with the header that is probably
it, and the study's ``columns`` (``--column person_id='PNC ID'``) maps them."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from cli.main import main
from evaluation import DataFileError, load_data
from evaluation.errors import SettingsError
from evaluation.load.preflight import check_table_files
from evaluation.pipeline.runner import run_results
from evaluation.settings.model import StudySettings, load_study
from tests.generated import generated

#: A council's own headers for some of the contract's columns.
EXPORT = {"person_id": "PNC ID", "offence_date": "Offence Date", "outcome_date": "Date Proven",
          "programme": "Programme Name", "start_date": "Start"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return generated(tmp_path_factory, "map", people=3000, participants=60, seed=12)


def exported(contract_folder, to):
    """The same tables under the council's headers (person_id in every table)."""
    to.mkdir(parents=True)
    for path in contract_folder.glob("*.csv"):
        frame = pl.read_csv(path, infer_schema_length=0)
        frame.rename({c: EXPORT[c] for c in frame.columns if c in EXPORT}).write_csv(to / path.name)
    return to


def test_missing_columns_are_named_at_once_with_the_header_that_is_probably_each(data, tmp_path):
    council = exported(data, tmp_path / "council")
    with pytest.raises(DataFileError) as caught:
        check_table_files(council)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{council}: required columns are missing (people.csv: ")
    assert "offences.csv: person_id, offence_date, outcome_date;" in message  # every file's, in one line
    assert "--column person_id='PNC ID' --column offence_date='Offence Date'" in message
    assert "--column outcome_date='Date Proven'" in message and "--column start_date='Start'" in message


def test_the_map_reads_an_export_as_the_contract_and_evaluates_to_the_same_results(data, tmp_path):
    council = exported(data, tmp_path / "council")
    check_table_files(council, EXPORT)
    a = load_data(data, tmp_path / "a" / "x.duckdb")
    b = load_data(council, tmp_path / "b" / "x.duckdb", columns=EXPORT)
    assert a.to_dict() == b.to_dict()
    same = dict(bootstrap_resamples=100, robustness=False, name="map")
    assert run_results(StudySettings(data_dir=data, out_dir=tmp_path / "x", **same)) == run_results(
        StudySettings(data_dir=council, out_dir=tmp_path / "y", columns=EXPORT, **same))


def test_a_study_file_and_the_command_line_give_the_map(data, tmp_path):
    council = exported(data, tmp_path / "council")
    study = tmp_path / "s.toml"
    lines = "\n".join(f'{column} = "{header}"' for column, header in EXPORT.items())
    study.write_text(f'[study]\ndata_dir = "{council}"\nout_dir = "{tmp_path / "o"}"\n[study.columns]\n{lines}\n')
    assert load_study(study).data.columns == EXPORT
    args = [a for column, header in EXPORT.items() for a in ("--column", f"{column}={header}")]
    assert main(["load", str(council), "--db", str(tmp_path / "db" / "x.duckdb"), "--quiet", *args]) == 0
    assert main(["load", str(council), "--db", str(tmp_path / "db2" / "x.duckdb"), "--quiet"]) == 2
    with pytest.raises(SettingsError, match="'pnc' is not a column of the data contract"):
        StudySettings(data_dir=council, out_dir=tmp_path / "o", columns=["pnc=PNC ID"])


def test_a_header_with_a_quote_in_it_is_a_name_not_sql(folder, tmp_path):
    data = folder(people=["P1,1980,M,,,,"], offences=["P1,2010-01-01,2010-02-01,theft,,"],
                  participants=["P1,OLASS,2010-03-01,,"])
    frame = pl.read_csv(data / "participants.csv", infer_schema_length=0)
    hostile = 'Prog"; DROP TABLE people; --'
    frame.rename({"programme": hostile}).write_csv(data / "participants.csv")
    from evaluation.load.preflight import programme_starts

    assert programme_starts(data / "participants.csv", columns={"programme": hostile}) == {"OLASS": dt.date(2010, 3, 1)}
    report = load_data(data, tmp_path / "db" / "x.duckdb", columns={"programme": hostile}, cutoff=dt.date(2011, 1, 1))
    assert report.tables["participants"].loaded == 1 and report.tables["people"].loaded == 1


def test_a_partner_output_of_a_study_with_a_column_map_is_taken_by_a_library(data, tmp_path):
    """Found in review: the partner manifest kept the map, whose key person_id a library
    refuses in a partner output, so such a study could never join a library."""
    from evaluation.library.store import add_outputs
    from evaluation.pipeline.runner import run_evaluation

    council = exported(data, tmp_path / "council")
    out = tmp_path / "partner"
    run_evaluation(StudySettings(data_dir=council, out_dir=out, columns=EXPORT, audience="partner",
                                 bootstrap_resamples=100, robustness=False, name="mapped", council="Testshire"))
    assert "PNC ID" not in (out / "manifest.json").read_text()
    assert add_outputs(tmp_path / "lib.duckdb", [out]).added


def test_a_parquet_file_is_not_told_to_use_the_map_and_a_huge_field_does_not_stop_the_date_look(folder, tmp_path):
    from evaluation.load.preflight import check_date_format

    data = folder(people=["P1,1980,M," + "x" * 200_000 + ",,,"], offences=["P1,2010-01-01,2010-02-01,theft,,"],
                  participants=["P1,OLASS,2010-03-01,,"])
    check_date_format(data, "YYYY-MM-DD")  # the csv module's field limit: left to the load, which rejects the line
    pl.read_csv(data / "offences.csv", infer_schema_length=0).rename({"person_id": "PNC ID"}).write_parquet(
        data / "offences.parquet")
    (data / "offences.csv").unlink()
    with pytest.raises(DataFileError) as caught:
        check_table_files(data)
    assert "--column" not in str(caught.value) and "name the Parquet file's columns" in str(caught.value)
