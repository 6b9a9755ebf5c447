"""Plausible input that once gave internal errors (safety issue, finding 6): each is now a
correct result or a clear one-line message."""

from __future__ import annotations

import errno
import json
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from cli import main as cli
from evaluation.cohorts.build import MIN_PARTICIPANTS_TO_MATCH
from evaluation.pipeline.runner import run_evaluation
from evaluation.report.build import json_text
from evaluation.settings.model import StudySettings, load_study
from synthetic_data import SOUTHAMPTON, generate


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("plausible") / "data"
    generate(replace(SOUTHAMPTON, people=3000, participants=40), folder, seed=5)
    return folder


@pytest.mark.parametrize("audience", ["analyst", "partner"])
def test_participants_without_offences_are_a_valid_cohort(data, tmp_path, audience):
    folder = tmp_path / "data"
    folder.mkdir()
    for p in data.iterdir():
        folder.joinpath(p.name).write_bytes(p.read_bytes())
    people = pl.read_csv(folder / "participants.csv", infer_schema_length=0)["person_id"]
    offences = pl.read_csv(folder / "offences.csv", infer_schema_length=0)
    offences.filter(~pl.col("person_id").is_in(people.implode())).write_csv(folder / "offences.csv")
    results = run_evaluation(StudySettings(data_dir=folder, out_dir=tmp_path / "out", audience=audience,
                                           bootstrap_resamples=100, robustness=False))
    assert results["before_after"]["offences_before"] == 0 and results["before_after"]["offences_after"] == 0
    assert "did the programme reduce reoffending?" in (tmp_path / "out" / "report.html").read_text()
    # a rate ratio of 0 to 0 used to be reported, and called significant: now not estimable
    if results["matched"]:
        rr = results["matched"]["rate_ratio"]
        assert rr["estimate"] is None and rr["p_value"] is None and "not estimable" in rr["method"]
        summary = (tmp_path / "out" / "summary.md").read_text()
        # the partner view may withhold the whole comparison instead (some of its counts are
        # under 5 here), and then says so rather than showing it
        withheld = audience == "partner" and "The comparison with similar people" in summary and "withheld" in summary
        assert "could not be estimated" in summary or withheld


@pytest.mark.parametrize("participants", [1, 3])
def test_a_cohort_too_small_to_match_says_so(tmp_path, participants):
    folder = tmp_path / "data"
    generate(replace(SOUTHAMPTON, people=2000, participants=participants), folder, seed=1)
    results = run_evaluation(StudySettings(data_dir=folder, out_dir=tmp_path / "out", bootstrap_resamples=100))
    assert results["matched"] is None
    assert f"at least {MIN_PARTICIPANTS_TO_MATCH} are needed" in results["not_matched"]
    assert results["not_matched"] in (tmp_path / "out" / "summary.md").read_text()
    assert results["evidence"]["maryland"]["level"] == 1


def test_programme_cost_nan_is_refused_in_one_line(data, tmp_path, capsys):
    code = cli.main(["evaluate", "--data", str(data), "--out", str(tmp_path / "o"), "--programme-cost", "nan"])
    assert code == 2 and "finite number" in capsys.readouterr().err
    study = tmp_path / "s.toml"
    study.write_text(f'[study]\ndata_dir = "{data}"\nout_dir = "{tmp_path / "o"}"\n[study.costs]\n'
                     "programme_cost_per_participant = nan\n")
    with pytest.raises(Exception, match="finite"):
        load_study(study)


def test_non_finite_numbers_never_reach_json():
    text = json_text({"a": float("nan"), "b": [float("inf"), 1.5], "c": {"d": -float("inf")}})
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": {"d": None}}


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device", "/x/evaluation.duckdb"),
                                   RuntimeError("IO Error: Could not write file: No space left on device")])
def test_a_full_disk_is_named_as_such(monkeypatch, capsys, error):
    def fail(*_args, **_kwargs):
        raise error

    monkeypatch.setattr("evaluation.load.loader.load_data", fail)
    monkeypatch.setattr("evaluation.load.preflight.check_table_files", lambda *_a: None)  # the quick looks first
    monkeypatch.setattr("evaluation.load.preflight.check_date_format", lambda *_a: None)
    assert cli.main(["load", "x", "--db", "y"]) == 1
    err = capsys.readouterr().err
    assert "disk is full" in err and "internal error" not in err
