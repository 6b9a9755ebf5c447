"""reoffend link on generated lists with known true links (synthetic_data/identities.py): the
accuracy the issue asks for, the model's own estimate of it, and a folder that reconciles.

Also covers evaluation.link.model (the splink model), evaluation.link.read and
evaluation.link.fields, which only run inside a linkage."""

from __future__ import annotations

import json
import stat

import polars as pl
import pytest

from evaluation.errors import DataFileError, OutputFolderError, ReoffendError, SettingsError
from evaluation.link.fields import DUPLICATE
from evaluation.link.linkage import LINKAGE_FILE, PARTICIPANTS_FILE, REVIEW_FILE, link_list
from synthetic_data.identities import council_list, identified_people, sample_people


def _start(people: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    return (people.sample(n, seed=seed).select("person_id")
            .with_columns(programme=pl.lit("Mentoring"), start_date=pl.lit("2019-04-01").str.to_date()))


def _files(folder, identified: pl.DataFrame, size: int, seed: int):
    listed, truth = council_list(identified, _start(identified, size, seed), seed)
    folder.mkdir()
    listed.write_csv(folder / "list.csv")
    identified.write_csv(folder / "identified.csv")
    return folder / "list.csv", folder / "identified.csv", truth


def _measured(result, truth: pl.DataFrame) -> tuple[float, float]:
    rows = result.decisions.join(truth, on="row", suffix="_true").filter(pl.col("outcome") != DUPLICATE)
    linked = rows.filter(pl.col("outcome") == "linked")
    right = int((linked["person_id"] == linked["person_id_true"]).sum())
    return right / linked.height, right / int(rows["person_id_true"].is_not_null().sum())


@pytest.fixture(scope="module")
def national_24k():
    return identified_people(sample_people(24_000, 5), 5)


@pytest.fixture(scope="module")
def small():
    return identified_people(sample_people(3_000, 6), 6)


@pytest.mark.slow
@pytest.mark.parametrize("size, seed", [(200, 21), (600, 22), (5_000, 23)])
def test_lists_are_linked_with_the_accuracy_asked_and_the_model_knows_its_accuracy(tmp_path, national_24k, size,
                                                                                  seed):
    listed, identified, truth = _files(tmp_path / "in", national_24k, size, seed)
    result = link_list(listed, identified, tmp_path / "out", seed=seed)
    precision, recall = _measured(result, truth)
    assert precision >= 0.99 and recall >= 0.95, (precision, recall)
    assert abs(result.estimated_precision - precision) <= 0.02, (result.estimated_precision, precision)
    assert abs(result.estimated_recall - recall) <= 0.02, (result.estimated_recall, recall)


def test_every_row_is_accounted_for_and_the_folder_reconciles(tmp_path, small):
    listed, identified, truth = _files(tmp_path / "in", small, 150, 3)
    result = link_list(listed, identified, tmp_path / "out", seed=3)
    rows = pl.read_csv(listed).height
    assert result.rows == rows == result.linked + result.duplicates + sum(result.not_identified.values())
    document = json.loads((tmp_path / "out" / LINKAGE_FILE).read_text())
    programme = document["by_programme"]["Mentoring"]
    assert programme["listed"] == programme["identified"] + sum(programme["not_identified"].values())
    assert programme["listed"] + programme["duplicates"] == rows
    written = pl.read_csv(tmp_path / "out" / PARTICIPANTS_FILE)
    assert written.columns == ["person_id", "programme", "start_date", "referral_date"]
    assert written.height == result.participants == programme["identified"]
    assert set(written["person_id"]) <= set(small["person_id"])
    # the model's parameters are there to read, with the threshold and how it was estimated
    assert document["threshold"]["match_probability"] == 0.9 and document["model"]["levels"]
    assert 0.9 < document["estimated"]["precision"] <= 1 and 0.8 < document["estimated"]["recall"] <= 1


def test_the_same_seed_gives_the_same_links(tmp_path, small):
    listed, identified, _ = _files(tmp_path / "in", small, 120, 4)
    first = link_list(listed, identified, tmp_path / "a", seed=9)
    second = link_list(listed, identified, tmp_path / "b", seed=9)
    assert (tmp_path / "a" / PARTICIPANTS_FILE).read_bytes() == (tmp_path / "b" / PARTICIPANTS_FILE).read_bytes()
    assert first.model == second.model and first.estimated_recall == second.estimated_recall


def test_names_stay_in_the_folder_private_and_only_a_folder_of_ours_is_replaced(tmp_path, small):
    listed, identified, _ = _files(tmp_path / "in", small, 120, 5)
    link_list(listed, identified, tmp_path / "out", seed=1)
    out = tmp_path / "out"
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for name in (PARTICIPANTS_FILE, REVIEW_FILE):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    review = pl.read_csv(out / REVIEW_FILE)
    assert {"list_forename", "police_forename", "match_probability"} <= set(review.columns)
    # a hostile name in the list stays text in the spreadsheet the data holder opens
    frame = pl.read_csv(listed, infer_schema=False)
    frame.with_columns(surname=pl.when(pl.int_range(pl.len()) < 40).then(pl.lit("=HYPERLINK(\"x\")"))
                       .otherwise(pl.col("surname"))).write_csv(listed)
    link_list(listed, identified, out, seed=1)
    cells = pl.read_csv(out / REVIEW_FILE, infer_schema=False)["list_surname"].drop_nulls()
    assert cells.str.contains("HYPERLINK").any() and not cells.str.starts_with("=").any()
    link_list(listed, identified, out, seed=1)  # its own folder: replaced whole
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(OutputFolderError):
        link_list(listed, identified, theirs, seed=1)
    assert (theirs / "notes.txt").read_text() == "mine"


def test_a_council_header_is_named_with_the_option_that_maps_it(tmp_path, small):
    listed, identified, _ = _files(tmp_path / "in", small, 50, 6)
    frame = pl.read_csv(listed).rename({"forename": "First Name", "date_of_birth": "DOB"})
    frame.write_csv(listed)
    with pytest.raises(DataFileError) as caught:
        link_list(listed, identified, tmp_path / "out")
    message = str(caught.value)
    assert "\n" not in message and "--column forename='First Name'" in message and "date_of_birth='DOB'" in message
    result = link_list(listed, identified, tmp_path / "out", columns={"forename": "First Name", "date_of_birth": "DOB"})
    assert result.linked > 40
    # a header naming the field but for case and spaces needs no map
    frame.rename({"First Name": "FORENAME", "DOB": "Date of Birth"}).write_csv(listed)
    assert link_list(listed, identified, tmp_path / "out").linked == result.linked


def test_too_few_identified_people_to_learn_from_is_one_line(tmp_path, small):
    listed, identified, _ = _files(tmp_path / "in", small, 50, 7)
    pl.read_csv(identified).head(500).write_csv(identified)
    with pytest.raises(ReoffendError, match="at least 1,000"):
        link_list(listed, identified, tmp_path / "out")
    with pytest.raises(ReoffendError, match="--threshold"):
        link_list(listed, identified, tmp_path / "out", threshold=1.0)


def test_a_list_with_no_row_to_link_says_why_in_one_line(tmp_path, small):
    listed, identified, _ = _files(tmp_path / "in", small, 50, 8)
    pl.read_csv(listed).with_columns(start_date=pl.lit(None, pl.String)).write_csv(listed)
    with pytest.raises(ReoffendError, match=r"no row of the list can be linked \(start date missing or not a date: "
                                            r"5\d of 5\d rows\); check --column and --date-format"):
        link_list(listed, identified, tmp_path / "out")


def test_a_list_in_uk_dates_read_as_iso_is_refused_naming_the_option(tmp_path, small):
    # its dates of birth would all be unreadable and the list linked on names alone
    listed, identified, _ = _files(tmp_path / "in", small, 50, 9)
    frame = pl.read_csv(listed, infer_schema=False)
    frame.with_columns(pl.col(c).str.to_date("%Y-%m-%d").dt.strftime("%d/%m/%Y")
                       for c in ("date_of_birth", "start_date")).write_csv(listed)
    with pytest.raises(SettingsError, match="column 'date_of_birth': dates are written like .*; give --date-format "
                                            "DD/MM/YYYY$"):
        link_list(listed, identified, tmp_path / "out")
    assert link_list(listed, identified, tmp_path / "out", date_format="DD/MM/YYYY").linked > 40


def test_a_start_is_linked_once_and_never_lost_to_an_earlier_row_that_was_not_linked():
    import datetime as dt

    from evaluation.link.fields import SAME_LINK
    from evaluation.link.linkage import one_link_per_start

    day = dt.date(2019, 4, 1)
    rows = pl.DataFrame({"row": [1, 2, 3, 4], "person_id": ["P", "P", "P", "Q"], "programme": ["M"] * 4,
                         "start_date": [day] * 4, "set_aside": [None] * 4,
                         # row 1's best candidate was P but too close to call: not a link
                         "outcome": ["more than one possible match (see the clerical review)", "linked", "linked",
                                     "linked"]})
    out = one_link_per_start(rows)
    assert out["outcome"].to_list() == [rows["outcome"][0], "linked", DUPLICATE, "linked"]
    assert out["set_aside"].to_list() == [None, None, SAME_LINK, None]


def test_a_list_that_agrees_exactly_with_nobody_is_refused_in_one_line_not_a_crash(tmp_path, small):
    # a list of 3, its surnames mapped from the wrong column: splink's prior was 0 and its log failed
    listed, identified, _ = _files(tmp_path / "in", small, 3, 10)
    pl.read_csv(listed, infer_schema=False).with_columns(surname=pl.lit('=HYPERLINK("x")')).write_csv(listed)
    with pytest.raises(ReoffendError, match="no row of the list has the forename, surname and date of birth"):
        link_list(listed, identified, tmp_path / "out")
    assert not (tmp_path / "out").exists()
