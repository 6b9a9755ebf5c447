"""A batch's request folders, as someone else sent them: each runs with the batch's folders
and its own evaluation settings, or is refused alone with its reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evaluation.batch.request import find_requests, headline, run_request
from evaluation.errors import OutputFolderError, SettingsError


def _request(root, name, files):
    folder = root / name
    folder.mkdir(parents=True)
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder


def test_each_request_gets_the_batchs_folders_and_may_set_only_the_evaluation(tmp_path):
    requests, national, staging = tmp_path / "requests", tmp_path / "national", tmp_path / "out"
    national.mkdir()
    _request(requests, "north", {"participants.csv": "x\n", "study.toml": '[study]\ncouncil = "North"\ncaliper = 0.1\n'})
    _request(requests, "west", {"participants.csv": "x\n", "study.toml": '[study]\nlibrary = "/tmp/theirs.duckdb"\n'})
    _request(requests, "south", {"participants.csv": "x\n", "participants.xlsx": ""})
    _request(requests, "east", {})
    _request(requests, "bad name!", {"participants.csv": "x\n"})
    _request(requests, ".hidden", {"participants.csv": "x\n"})
    (requests / "a-file.csv").write_text("not a request")
    os.symlink(requests / "north", requests / "linked")
    _request(requests, "borrowed", {})
    os.symlink(requests / "north" / "participants.csv", requests / "borrowed" / "participants.csv")
    found = {r.name: r for r in find_requests(requests, national, staging, {"robustness": False})}
    assert set(found) == {"north", "west", "south", "east", "bad name!", "linked", "borrowed"}
    assert "symbolic link; give the folder itself" in found["linked"].problem
    assert "participants.csv is a symbolic link; a request's files must be its own" in found["borrowed"].problem
    north = found["north"].record
    assert north["name"] == "north" and north["library"]["council"] == "North" and north["matching"]["caliper"] == 0.1
    assert north["out_dir"] == str((staging / "north").resolve()) and north["checks"]["robustness"] is False
    assert north["data"]["folder"] == str(national.resolve())
    assert north["data"]["participants"] == str((requests / "north" / "participants.csv").resolve())
    assert "library, which the batch decides" in found["west"].problem
    assert "keep one of the two" in found["south"].problem
    assert "no participants file" in found["east"].problem
    assert "names the output folder" in found["bad name!"].problem
    with pytest.raises(SettingsError, match="no request folders"):
        find_requests(tmp_path / "national", national, staging)


def test_a_request_that_fails_returns_its_reason_and_never_raises(tmp_path):
    summary = run_request("x", {"not": "a settings record"})
    assert summary["status"] == "failed" and summary["name"] == "x" and summary["reason"]


def test_the_headline_is_the_analysed_and_the_rate_ratio_or_before_after_only():
    results = {"cohort": {"participants": 120}, "matched": {"rate_ratio": {"estimate": 0.9, "ci95": [0.7, 1.1],
                                                                          "p_value": 0.3}}}
    assert headline(results) == {"participants": 120, "rate_ratio": 0.9, "ci95": [0.7, 1.1], "p_value": 0.3,
                                 "before_after_only": False}
    assert headline({"cohort": {"participants": 8}, "matched": None})["before_after_only"] is True


def test_the_output_and_requests_folders_are_kept_apart(tmp_path):
    from evaluation.batch.batch import run_batch

    (tmp_path / "national").mkdir()
    _request(tmp_path / "requests", "north", {"participants.csv": "x\n"})
    with pytest.raises(SettingsError, match="must be apart"):  # a later run would take it for a request
        run_batch(tmp_path / "requests", tmp_path / "national", tmp_path / "requests" / "out")
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(SettingsError, match="must be apart"):
        run_batch(tmp_path / "elsewhere" / "requests", tmp_path / "national", tmp_path / "elsewhere")
    with pytest.raises(OutputFolderError, match="contains the data folder"):
        run_batch(tmp_path / "requests", tmp_path / "national", tmp_path)


def test_a_national_extract_that_cannot_load_fails_the_batch_in_one_line_and_leaves_nothing(tmp_path):
    """The snapshot is loaded once for all: a national file that cannot be read fails the
    batch at once, naming it, with no output folder written and no person-level work left."""
    from evaluation.batch.batch import run_batch
    from evaluation.errors import DataFileError

    national = tmp_path / "national"
    national.mkdir()
    (national / "people.csv").write_text("person_id,birth_year,sex\nP1,1980,M\n")
    (national / "offences.csv").write_text("person_id,offence_date\nP1,2010-01-01\n")  # no outcome_date
    _request(tmp_path / "requests", "north", {"participants.csv": "person_id,programme,start_date\nP1,A,2010-03-01\n"})
    with pytest.raises(DataFileError, match="offences.csv.*outcome_date"):
        run_batch(tmp_path / "requests", national, tmp_path / "out", settings={"robustness": False})
    assert not (tmp_path / "out").exists()
    assert not list(Path(os.environ["REOFFEND_STATE_DIR"]).rglob("*national.duckdb*"))


def test_hostile_request_names_are_refused_alone_and_written_literally(tmp_path):
    from evaluation.batch.batch import run_batch

    national = tmp_path / "national"
    national.mkdir()
    for name in ("<script>alert(1)</script>", "=HYPERLINK(\"x\")", "it's \"quoted\""):
        _request(tmp_path / "requests", name, {"participants.csv": "x\n"})
    result = run_batch(tmp_path / "requests", national, tmp_path / "out", settings={"robustness": False})
    assert {r["status"] for r in result.requests} == {"failed"} and len(result.requests) == 3
    page = (tmp_path / "out" / "index.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == ["batch.json", "index.html"]
