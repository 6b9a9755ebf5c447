"""The loader: every rejection reason, reconciliation, line numbers and file-level errors."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import polars as pl
import pytest

from evaluation import DataFileError, load_data

GOOD_PERSON = "P1,1980,M,White,false,false,40"
GOOD_OFFENCE = "P1,2010-01-01,2010-02-01,theft,fine,"
GOOD_START = "P1,OLASS,2010-03-01,,probation"


def load(folder, tmp_path, **kw):
    report = load_data(folder, tmp_path / "db" / "eval.duckdb", **kw)
    rejects = pl.read_csv(report.rejects_path, infer_schema_length=0)
    return report, rejects


def reasons_for(rejects: pl.DataFrame, table: str) -> list[str]:
    return rejects.filter(pl.col("table_name") == table)["reason"].to_list()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("P1,2010-02-30,2010-03-01,theft,,", "offence_date '2010-02-30' is not a real date"),
        ("P1,01/02/2010,2010-03-01,theft,,", "offence_date '01/02/2010' is not a real date"),
        ("P1,2010-1-5,2010-03-01,theft,,", "offence_date '2010-1-5' is not a real date"),
        ("P1,,2010-03-01,theft,,", "offence_date is missing"),
        ("P1,2010-01-01,2009-12-01,theft,,", "outcome_date '2009-12-01' is before offence_date"),
        ("P1,2010-01-01,2011-06-01,theft,,", "outcome_date '2011-06-01' is after the data cut-off"),
        ("P1,2011-05-01,2011-06-01,theft,,", "offence_date '2011-05-01' is after the data cut-off"),
        ("P1,1899-12-31,2010-03-01,theft,,", "offence_date '1899-12-31' is before 1900"),
        ("P1,2010-01-01,2010-02-01,shoplifting,,", "category 'shoplifting' is not a known offence category"),
        ("P1,2010-01-01,2010-02-01,,,", "category is missing"),
        ("P1,2010-01-01,2010-02-01,theft,prison,", "disposal 'prison' is not a known disposal"),
        ("P1,2010-01-01,2010-02-01,theft,custody,-3", "custody_days '-3' is negative"),
        ("P1,2010-01-01,2010-02-01,theft,custody,3.5", "custody_days '3.5' is not a whole number"),
        ("NOBODY,2010-01-01,2010-02-01,theft,,", "person_id 'NOBODY' is not in people"),
        ("KID,2010-01-01,2010-02-01,theft,,", "under 10 (the age of criminal responsibility)"),
        (",2010-01-01,2010-02-01,theft,,", "person_id is missing"),
    ],
)
def test_offence_rejections(folder, tmp_path, line, expected):
    data = folder(
        people=[GOOD_PERSON, "KID,2001,F,,,,"],
        offences=[GOOD_OFFENCE, line],
        participants=[GOOD_START],
    )
    report, rejects = load(data, tmp_path, cutoff=dt.date(2011, 1, 1))
    assert report.tables["offences"].read == 2
    assert report.tables["offences"].loaded == 1
    assert report.tables["offences"].rejected == 1
    [reason] = reasons_for(rejects, "offences")
    assert expected in reason
    row = rejects.filter(pl.col("table_name") == "offences").row(0, named=True)
    assert row["line"] == "3" and row["source_file"] == "offences.csv"


def test_under_ten_uses_the_oldest_possible_age(folder, tmp_path):
    """Born 2000: an offence in 2010 may be at age 10, so it is kept; 2009 is certainly under 10."""
    data = folder(
        people=["P1,2000,M,,,,"],
        offences=["P1,2010-01-01,2010-02-01,theft,,", "P1,2009-12-31,2010-02-01,theft,,"],
        participants=["P1,X,2010-01-15,,"],
    )
    report, rejects = load(data, tmp_path)
    assert report.tables["offences"].loaded == 1
    assert rejects["line"].to_list() == ["3"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("P2,1980,X,,,,", "sex 'X' is not one of M, F, U"),
        ("P2,1980,,,,,", "sex is missing"),
        ("P2,abc,M,,,,", "birth_year 'abc' is not a whole number"),
        ("P2,1980.5,M,,,,", "birth_year '1980.5' is not a whole number"),
        ("P2,1850,M,,,,", "birth_year '1850' is before 1900"),
        ("P2,1980,M,,maybe,,", "mappa 'maybe' is not true/false"),
        ("P2,1980,M,,,2,", "ppo '2' is not true/false"),
        ("P2,1980,M,,,,120", "ogrs3 '120' is outside 0-100"),
        ("P2,1980,M,,,,high", "ogrs3 'high' is not a number"),
        ("P 2,1980,M,,,,", "person_id 'P 2' must be 1-64 letters"),
        ("P1,1981,F,,,,", "duplicate person_id (first kept, at line 2)"),
    ],
)
def test_people_rejections(folder, tmp_path, line, expected):
    data = folder(people=[GOOD_PERSON, line], offences=[GOOD_OFFENCE], participants=[GOOD_START])
    report, rejects = load(data, tmp_path)
    assert (report.tables["people"].loaded, report.tables["people"].rejected) == (1, 1)
    [reason] = reasons_for(rejects, "people")
    assert expected in reason


def test_duplicate_keeps_the_first_row(folder, tmp_path):
    data = folder(people=[GOOD_PERSON, "P1,1999,F,,,,"], offences=[GOOD_OFFENCE], participants=[GOOD_START])
    report, _ = load(data, tmp_path)
    con = duckdb.connect(str(report.db_path), read_only=True)
    assert con.execute("SELECT birth_year, sex FROM people").fetchall() == [(1980, "M")]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("NOBODY,OLASS,2010-03-01,,", "person_id 'NOBODY' is not in people"),
        ("P1,,2010-03-01,,", "programme is missing"),
        ("P1,OLASS,2010-13-01,,", "start_date '2010-13-01' is not a real date"),
        ("P1,OLASS,2010-03-01,2010-02-01,", "end_date '2010-02-01' is before start_date"),
        ("P1,OLASS,2012-03-01,,", "start_date '2012-03-01' is after the data cut-off"),
    ],
)
def test_participant_rejections(folder, tmp_path, line, expected):
    data = folder(people=[GOOD_PERSON], offences=[GOOD_OFFENCE], participants=[GOOD_START, line])
    report, rejects = load(data, tmp_path, cutoff=dt.date(2011, 1, 1))
    [reason] = reasons_for(rejects, "participants")
    assert expected in reason
    assert report.tables["participants"].reconciles


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("P1,OLASS,2010-03-01,,2010-03-02", "referral_date '2010-03-02' is after start_date"),
        ("P1,OLASS,2010-03-01,,2010-02-30", "referral_date '2010-02-30' is not a real date"),
    ],
)
def test_referral_date_rejections(folder, tmp_path, line, expected):
    """The optional referral date: the day before the start and the start itself load, a
    date after the start or not a date is rejected with its reason."""
    data = folder(people=[GOOD_PERSON], offences=[GOOD_OFFENCE], participants_header=(
        "person_id,programme,start_date,end_date,referral_date"),
        participants=["P1,OLASS,2010-03-01,,2010-02-28", "P1,OLASS,2010-04-01,,2010-04-01", line])
    report, rejects = load(data, tmp_path, cutoff=dt.date(2011, 1, 1))
    [reason] = reasons_for(rejects, "participants")
    assert expected in reason
    assert (report.tables["participants"].loaded, report.tables["participants"].rejected) == (2, 1)
    con = duckdb.connect(str(report.db_path), read_only=True)
    assert con.execute("SELECT referral_date FROM participants ORDER BY start_date").fetchall() == [
        (dt.date(2010, 2, 28),), (dt.date(2010, 4, 1),)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("P1,2010-05-01,2010-04-01", "custody_end '2010-04-01' is before custody_start"),
        ("NOBODY,2010-05-01,2010-06-01", "person_id 'NOBODY' is not in people"),
        ("P1,,2010-06-01", "custody_start is missing"),
    ],
)
def test_custody_rejections(folder, tmp_path, line, expected):
    data = folder(
        people=[GOOD_PERSON], offences=[GOOD_OFFENCE], participants=[GOOD_START],
        custody=["P1,2010-05-01,", line],
    )
    report, rejects = load(data, tmp_path, cutoff=dt.date(2011, 1, 1))
    [reason] = reasons_for(rejects, "custody")
    assert expected in reason
    assert (report.tables["custody"].loaded, report.tables["custody"].rejected) == (1, 1)


def test_booleans_accept_every_spelling(folder, tmp_path):
    people = [f"P{i},1980,M,,{m},{p},," for i, (m, p) in enumerate(
        [("TRUE", "false"), ("1", "0"), ("Y", "n"), ("yes", "NO"), ("", "")])]
    data = folder(people=people, offences=["P0,2010-01-01,2010-02-01,theft,,"], participants=["P0,X,2010-01-15,,"])
    report, rejects = load(data, tmp_path)
    assert rejects.height == 0
    con = duckdb.connect(str(report.db_path), read_only=True)
    rows = con.execute("SELECT mappa, ppo FROM people ORDER BY person_id").fetchall()
    assert rows == [(True, False)] * 4 + [(False, False)]


def test_reader_rejects_keep_line_numbers_and_reconcile(folder, tmp_path):
    data = folder(
        people=[GOOD_PERSON],
        offences=[
            GOOD_OFFENCE,                          # line 2
            "P1,2010-01-01,2010-02-01,theft",      # line 3: too few fields
            "P1,2010-01-01,2010-02-01,theft,,,x",  # line 4: too many fields
            "NOBODY,2010-01-01,2010-02-01,theft,,",  # line 5: unknown person
        ],
        participants=[GOOD_START],
    )
    report, rejects = load(data, tmp_path)
    off = rejects.filter(pl.col("table_name") == "offences")
    assert off["line"].to_list() == ["3", "4", "5"]
    assert "fewer fields" in off["reason"][0] and "more fields" in off["reason"][1]
    assert "NOBODY" in off["reason"][2]
    counts = report.tables["offences"]
    assert (counts.read, counts.loaded, counts.rejected) == (4, 1, 3)


def test_load_report_json_and_default_cutoff(folder, tmp_path):
    data = folder(
        people=[GOOD_PERSON],
        offences=[GOOD_OFFENCE, "P1,2010-03-01,2010-06-30,violence,,"],
        participants=[GOOD_START],
    )
    report, _ = load(data, tmp_path)
    written = json.loads(report.report_path.read_text())
    assert written["data_cutoff"] == "2010-06-30"
    assert written["tables"]["offences"] == {"read": 2, "loaded": 2, "rejected": 0}
    assert written["tables"]["custody"] == {"read": 0, "loaded": 0, "rejected": 0}
    for name, counts in written["tables"].items():
        assert counts["read"] == counts["loaded"] + counts["rejected"], name


def test_database_and_outputs_are_private(folder, tmp_path):
    data = folder(people=[GOOD_PERSON], offences=[GOOD_OFFENCE], participants=[GOOD_START])
    report, _ = load(data, tmp_path)
    for path in (report.db_path, report.rejects_path, report.report_path):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert report.db_path.parent.stat().st_mode & 0o777 == 0o700


def test_parquet_input_loads_like_csv(folder, tmp_path):
    data = folder(people=[GOOD_PERSON], offences=[GOOD_OFFENCE, "P1,2010-02-30,2010-03-01,theft,,"],
                  participants=[GOOD_START])
    for name in ("people", "offences", "participants"):
        frame = pl.read_csv(data / f"{name}.csv", infer_schema_length=0)
        if name == "people":
            frame = frame.drop("ogrs3")  # a missing optional column
        frame.write_parquet(data / f"{name}.parquet")
        (data / f"{name}.csv").unlink()
    report, rejects = load(data, tmp_path)
    assert report.tables["offences"].loaded == 1
    assert rejects.row(0, named=True)["line"] == "2"  # Parquet rows count from 1: no header


# --- file-level problems ------------------------------------------------------------------


def file_error(folder_path, tmp_path) -> DataFileError:
    with pytest.raises(DataFileError) as info:
        load_data(folder_path, tmp_path / "db" / "eval.duckdb")
    return info.value


def base(folder):
    return folder(people=[GOOD_PERSON], offences=[GOOD_OFFENCE], participants=[GOOD_START])


def test_missing_required_table(folder, tmp_path):
    data = base(folder)
    (data / "participants.csv").unlink()
    err = file_error(data, tmp_path)
    assert "required table 'participants' is missing" in str(err)


def test_missing_required_column_names_file_and_column(folder, tmp_path):
    data = base(folder)
    (data / "offences.csv").write_text("person_id,offence_date,category\nP1,2010-01-01,theft\n")
    err = file_error(data, tmp_path)
    assert err.column == "outcome_date" and err.file.endswith("offences.csv")


def test_empty_file(folder, tmp_path):
    data = base(folder)
    (data / "people.csv").write_text("")
    assert "file is empty" in str(file_error(data, tmp_path))


def test_header_without_rows_in_a_required_table(folder, tmp_path):
    data = base(folder)
    (data / "participants.csv").write_text("person_id,programme,start_date\n")
    assert "no rows" in str(file_error(data, tmp_path))


def test_not_utf8_in_header_and_in_body(folder, tmp_path):
    data = base(folder)
    (data / "people.csv").write_bytes(b"person_id,birth_year,sex\xff\nP1,1980,M\n")
    assert "not valid UTF-8" in str(file_error(data, tmp_path))
    data = base(folder)
    (data / "people.csv").write_bytes(b"person_id,birth_year,sex\nP1,1980,M\nP\xe92,1980,M\n")
    assert "not valid UTF-8" in str(file_error(data, tmp_path))


def test_not_a_parquet_file(folder, tmp_path):
    data = base(folder)
    (data / "custody.parquet").write_bytes(b"this is not parquet at all")
    assert "not a readable Parquet file" in str(file_error(data, tmp_path))


def test_semicolon_separated_file_gets_a_hint(folder, tmp_path):
    data = base(folder)
    (data / "people.csv").write_text("person_id;birth_year;sex\nP1;1980;M\n")
    assert "separated by commas" in str(file_error(data, tmp_path))


def test_duplicate_header(folder, tmp_path):
    data = base(folder)
    (data / "people.csv").write_text("person_id,birth_year,sex,sex\nP1,1980,M,M\n")
    err = file_error(data, tmp_path)
    assert err.column == "sex" and "twice" in str(err)


def test_file_error_leaves_existing_database_untouched(folder, tmp_path):
    data = base(folder)
    report = load_data(data, tmp_path / "db" / "eval.duckdb")
    before = report.db_path.read_bytes()
    (data / "offences.csv").write_text("")
    file_error(data, tmp_path)
    assert report.db_path.read_bytes() == before
    assert sorted(p.name for p in report.db_path.parent.iterdir()) == ["eval.duckdb", "load_report.json", "rejects.csv"]


# --- Nothing is lost silently (safety issue, findings 4 and 6) -------------------------------

def test_stray_quote_mid_file_hides_no_rows(tmp_path):
    """A stray quote in the middle of people.csv once made the reader swallow the rest of the
    file (500 of 24,000 read, exit 0). Now the line is rejected and every other row loads."""
    from dataclasses import replace

    from synthetic_data import SOUTHAMPTON, generate

    data = tmp_path / "data"
    generate(replace(SOUTHAMPTON, people=3000, participants=60), data, seed=2)
    lines = (data / "people.csv").read_text().splitlines()
    middle = len(lines) // 2
    lines[middle] = lines[middle].replace(",", ',"', 1)       # an opening quote, never closed
    lines[middle + 700] = lines[middle + 700] + ',"'           # and another far below
    (data / "people.csv").write_text("\n".join(lines) + "\n")
    report, rejects = load(data, tmp_path)
    people = report.tables["people"]
    assert people.read == len(lines) - 1
    assert people.rejected == 2 and people.loaded == len(lines) - 3
    bad = rejects.filter(pl.col("table_name") == "people")
    assert bad["line"].to_list() == [str(middle + 1), str(middle + 701)]
    assert all("quote is opened and not closed" in r for r in bad["reason"])


def test_blank_lines_do_not_shift_line_numbers(folder, tmp_path):
    data = folder(people=[GOOD_PERSON], offences=[GOOD_OFFENCE, "", "NOBODY,2010-01-01,2010-02-01,theft,,"],
                  participants=[GOOD_START])
    report, rejects = load(data, tmp_path)
    off = rejects.filter(pl.col("table_name") == "offences")
    assert off["line"].to_list() == ["4"]  # below a blank line 3
    assert report.tables["offences"].read == 2


def test_a_line_over_128_mib_is_rejected_not_dropped(folder, tmp_path):
    data = folder(people=[GOOD_PERSON, "P2,1981,F,White,false,false,40"], offences=[GOOD_OFFENCE],
                  participants=[GOOD_START])
    with open(data / "people.csv", "ab") as fh:
        fh.write(b"P3,1982,M," + b"x" * (129 * 1024 * 1024) + b",false,false,1\n")
        fh.write(b"P4,1983,M,White,false,false,2\n")
    report, rejects = load(data, tmp_path)
    people = report.tables["people"]
    assert (people.read, people.loaded, people.rejected) == (4, 3, 1)
    assert reasons_for(rejects, "people") == ["line is longer than the reader's limit (8 MiB)"]


@pytest.mark.parametrize("extra", ["rowid", "ROWID", "file_row_number"])
def test_extra_columns_named_like_the_database_own_are_ignored(folder, tmp_path, extra):
    data = folder(people=[GOOD_PERSON], offences=[GOOD_OFFENCE, "NOBODY,2010-01-01,2010-02-01,theft,,"],
                  participants=[GOOD_START])
    text = (data / "offences.csv").read_text().splitlines()
    text = [text[0] + f",{extra}"] + [line + f",{900 + i}" for i, line in enumerate(text[1:])]
    (data / "offences.csv").write_text("\n".join(text) + "\n")
    report, rejects = load(data, tmp_path)
    assert report.tables["offences"].loaded == 1
    assert rejects.filter(pl.col("table_name") == "offences")["line"].to_list() == ["3"]
    parquet = tmp_path / "pq"
    parquet.mkdir()
    for name in ("people", "participants"):
        (parquet / f"{name}.csv").write_text((data / f"{name}.csv").read_text())
    pl.read_csv(data / "offences.csv", infer_schema_length=0).write_parquet(parquet / "offences.parquet")
    report = load_data(parquet, tmp_path / "pq.duckdb")
    assert report.tables["offences"].loaded == 1 and report.tables["offences"].rejected == 1


def test_people_ids_are_stored_without_trying_a_dictionary_and_the_other_tables_keep_it(folder, tmp_path):
    """Issue 16: the people table has one row per person, so no dictionary can shrink its
    ids, and DuckDB's trial of one cost about 0.4 s of the national load. It is written with
    dictionary compression off (its text then stored plainly), and the setting is restored
    for the tables after it: repeated ids in offences are still dictionary-compressed.
    Storage only: the values are those of the file (every other test of the loader)."""
    people = [f"P{i},1980,{'MF'[i % 2]},White,false,false,40" for i in range(300)]
    offences = [f"P{i % 30},2010-01-{1 + i % 28:02d},2010-02-01,theft,fine," for i in range(3000)]
    report, _ = load(folder(people=people, offences=offences, participants=[GOOD_START]), tmp_path)
    con = duckdb.connect(str(report.db_path), read_only=True)
    try:
        storage = dict(con.execute(
            "SELECT table_name, list(DISTINCT compression) FROM ("
            "  SELECT 'people' AS table_name, compression FROM pragma_storage_info('people') WHERE column_name = 'sex'"
            "  UNION ALL"
            "  SELECT 'offences', compression FROM pragma_storage_info('offences') WHERE column_name = 'person_id'"
            ") GROUP BY table_name").fetchall())
        sexes = con.execute("SELECT sex, count(*) FROM people GROUP BY sex ORDER BY sex").fetchall()
    finally:
        con.close()
    assert "Dictionary" not in storage["people"] and "Dictionary" in storage["offences"]
    assert sexes == [("F", 150), ("M", 150)]


def test_typed_parquet_dates_and_numbers_are_rejected_with_the_csv_reasons(folder, tmp_path):
    """A Parquet file's dates, numbers and flags arrive typed. Their missing checks are now
    IS NULL on the value, a typed flag or number is taken as it is, and a value's text is
    made only in a failing row's reason (issue 16: writing every one of 40 million dates out
    as text only to ask whether it was missing, and reading 2 million people's flags and
    scores back from their text, cost about a second of the national load). Every reason,
    and every person kept, is what the same rows give from CSV."""
    offences = [GOOD_OFFENCE,
                "P1,,2010-03-01,theft,,",                 # offence_date missing
                "P1,2011-05-01,2011-06-01,theft,,",       # after the cut-off
                "P1,1899-12-31,2010-03-01,theft,,",       # before 1900
                "P1,2010-01-01,,theft,,",                 # outcome_date missing
                "P1,2010-01-05,2010-01-02,theft,,",       # outcome before offence
                "P1,2010-01-01,2010-02-01,theft,custody,-3",  # negative custody_days
                "P1,2010-01-01,2010-02-01,theft,custody,12"]
    custody = ["P1,2010-05-01,", "P1,,2010-06-01", "P1,2010-05-01,2010-04-01", "P1,1899-01-01,2010-04-01"]
    people = [GOOD_PERSON,
              "P2,,M,White,false,false,40",      # birth_year missing
              "P3,1850,M,White,true,false,40",   # before 1900
              "P4,1980,M,White,,,150.5",         # ogrs3 outside 0-100 (mappa, ppo missing: false)
              "P5,1981,F,White,true,true,12.25"]
    data = folder(people=people, offences=offences, participants=[GOOD_START], custody=custody)
    report_csv, from_csv = load(data, tmp_path / "csv", cutoff=dt.date(2011, 1, 1))
    schemas = {"offences": {"offence_date": pl.Date, "outcome_date": pl.Date, "custody_days": pl.Int32},
               "custody": {"custody_start": pl.Date, "custody_end": pl.Date},
               "people": {"birth_year": pl.Int32, "mappa": pl.Boolean, "ppo": pl.Boolean, "ogrs3": pl.Float64}}

    def typed(column: str, kind):
        if kind == pl.Date:
            return pl.col(column).str.to_date("%Y-%m-%d")
        if kind == pl.Boolean:
            return pl.col(column) == "true"
        return pl.col(column).cast(kind)

    for name in ("people", "offences", "participants", "custody"):
        frame = pl.read_csv(data / f"{name}.csv", infer_schema_length=0)
        frame = frame.with_columns([typed(c, t) for c, t in schemas.get(name, {}).items()])
        frame.write_parquet(data / f"{name}.parquet")
        (data / f"{name}.csv").unlink()
    report_pq, from_parquet = load(data, tmp_path / "pq", cutoff=dt.date(2011, 1, 1))
    for table in ("people", "offences", "custody"):
        assert reasons_for(from_parquet, table) == reasons_for(from_csv, table)
    assert [len(reasons_for(from_csv, t)) for t in ("people", "offences", "custody")] == [3, 6, 3]
    kept = []
    for report in (report_csv, report_pq):
        con = duckdb.connect(str(report.db_path), read_only=True)
        kept.append(con.execute("SELECT * FROM people ORDER BY person_id").fetchall())
        con.close()
    assert kept[0] == kept[1] and len(kept[0]) == 2  # the people kept, typed alike
    assert "offence_date '2011-05-01' is after the data cut-off" in reasons_for(from_parquet, "offences")


def test_rows_of_a_rejected_person_are_counted_under_its_reason_and_a_second_problem_still_shows(folder, tmp_path):
    """Found (issue 37, finding 5): sex 'MALE' rejected people, then every offence of theirs
    was rejected as "not in people", hiding a second problem (category 'public order'); and
    neither load nor evaluate said what the commonest reasons were."""
    data = folder(people=["P1,1980,MALE,,,,", "P2,1980,M,,,,"],
                  offences=["P1,2010-01-01,2010-02-01,theft,,", "P1,2010-01-05,2010-02-05,theft,,",
                            "P2,2010-01-01,2010-02-01,public order,,", "P3,2010-01-01,2010-02-01,theft,,"],
                  participants=["P1,OLASS,2010-03-01,,", "P2,OLASS,2010-03-01,,"])
    report, rejects = load(data, tmp_path, cutoff=dt.date(2011, 1, 1))
    assert reasons_for(rejects, "offences") == [
        "its person was rejected in people: sex 'MALE' is not one of M, F, U",
        "its person was rejected in people: sex 'MALE' is not one of M, F, U",
        "category 'public order' is not a known offence category",
        "person_id 'P3' is not in people"]
    assert reasons_for(rejects, "participants") == ["its person was rejected in people: sex 'MALE' is not one of M, F, U"]
    # the commonest kinds, with no value (nor person_id) in them
    assert report.top_reasons("offences") == ("its person was rejected in people: sex '...' is not one of M, F, U "
                                              "(2 rows); category '...' is not a known offence category (1 row); "
                                              "person_id '...' is not in people (1 row)")
    assert "most for: its person was rejected" in report.brief() and "P3" not in report.brief() + report.summary()
    assert "offences rejected, most for:" in report.summary()


def test_participants_given_apart_are_read_and_never_beside_the_data_folders_own(tmp_path):
    from evaluation.load.loader import find_table_files
    from evaluation.settings.model import StudySettings

    data = tmp_path / "police"
    data.mkdir()
    for name in ("people", "offences"):
        (data / f"{name}.csv").write_text("x\n1\n")
    apart = tmp_path / "linked" / "participants.csv"
    apart.parent.mkdir()
    apart.write_text("x\n1\n")
    assert find_table_files(data, apart)["participants"] == apart
    (data / "participants.xlsx").write_text("")
    with pytest.raises(DataFileError, match="participants of its own .*keep one of the two"):
        find_table_files(data, apart)
    (data / "participants.xlsx").unlink()
    for wrong, why in ((tmp_path / "linked" / "participants.txt", "give the participants as"),
                       (tmp_path / "nowhere.csv", "does not exist"), (tmp_path / "linked", "not a plain file")):
        if wrong.suffix == ".txt":
            wrong.write_text("x")
        with pytest.raises(DataFileError, match=why):
            find_table_files(data, wrong)
    # person-level participants inside the output folder, which is replaced whole: refused
    with pytest.raises(ValueError, match="participants_file must be outside the output folder"):
        StudySettings(data_dir=data, out_dir=tmp_path / "linked", participants_file=apart)
