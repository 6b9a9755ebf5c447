"""The reoffend command: help, exit codes and one-line errors (the exit codes are those of
evaluation/errors.py's classes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from tests.conftest import write_folder


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "synth" in out and "load" in out


def test_version(capsys):
    from evaluation import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"reoffend {__version__}"


@pytest.mark.parametrize("command", ["synth", "load"])
def test_each_subcommand_explains_itself(command, capsys):
    assert main([command, "--help"]) == 0
    assert len(capsys.readouterr().out) > 300


def test_file_error_exits_2_with_one_line(tmp_path):
    data = write_folder(tmp_path / "d", people=["P1,1980,M,,,,"], offences=[], participants=["P1,X,2010-01-01,,"])
    (data / "offences.csv").write_text("person_id,offence_date\n")
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "load", str(data), "--db", str(tmp_path / "x.duckdb"), "--quiet"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "offences.csv" in proc.stderr and "outcome_date" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_option_value_is_a_usage_error(capsys):
    assert main(["synth", "southampton", "--out", "x", "--effect", "1.5"]) == 2
    assert "below 1" in capsys.readouterr().err


def test_synth_then_load(tmp_path, capsys):
    assert main(["synth", "southampton", "--out", str(tmp_path / "d"), "--people", "6000",
                 "--participants", "150", "--quiet"]) == 0
    # not inside the data folder: rejects.csv and load_report.json go beside the database
    assert main(["load", str(tmp_path / "d"), "--db", str(tmp_path / "d" / "e.duckdb"), "--quiet"]) == 2
    assert not (tmp_path / "d" / "e.duckdb").exists()
    assert main(["load", str(tmp_path / "d"), "--db", str(tmp_path / "w" / "e.duckdb"), "--quiet"]) == 0
    report = json.loads((tmp_path / "w" / "load_report.json").read_text())
    assert report["tables"]["participants"]["read"] >= 150
    assert all(t["rejected"] == 0 for t in report["tables"].values())


def test_evaluate_options_for_costs_and_robustness(tmp_path, monkeypatch):
    import cli.app

    seen = []
    monkeypatch.setattr(cli.app, "evaluate_and_print", lambda settings, **_: seen.append(settings))
    assert main(["evaluate", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--no-robustness",
                 "--programme-cost", "940"]) == 0
    assert seen[-1].checks.robustness is False and seen[-1].costs.programme_cost_per_participant == 940
    assert main(["evaluate", "--data", str(tmp_path), "--out", str(tmp_path / "o")]) == 0
    assert seen[-1].checks.robustness is True and seen[-1].costs.programme_cost_per_participant is None
    study = tmp_path / "s.toml"
    study.write_text('[study]\ndata_dir = "d"\nout_dir = "o"\nrobustness = false\n')
    assert main(["evaluate", str(study)]) == 0
    assert seen[-1].checks.robustness is False  # the file's value stays


def test_synth_help_gives_the_generators_own_default_effect(capsys):
    from synthetic_data import SOUTHAMPTON

    assert main(["synth", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"southampton default {SOUTHAMPTON.effect:.2f}" in help_text


def test_the_demo_puts_its_library_and_councils_beside_its_own_folders(tmp_path):
    """Found: `reoffend demo --data A --out B` wrote its evidence library to out/library
    under whatever folder the command was run from, whatever --out said; and with --data
    and --out in one folder the councils' outputs were their data folders (refused, with
    nothing changed, but the demo stopped half way). Found running `make demo`: the run's
    last log lines, still queued when its temporary Prefect server stopped, failed at exit
    with "--- Error logging to API --- All connection attempts failed" after a minute's
    retries; they are sent before the server stops."""
    import os
    import subprocess
    import sys

    from cli.demo import demo_council_folders

    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    work = tmp_path / "work"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # the command's own temporary server
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run([sys.executable, "-m", "cli.main", "demo", "--data", str(work / "data"), "--out",
                           str(work / "out"), "--no-councils", "--quiet"], capture_output=True, text=True,
                          timeout=300, env=env, cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Error logging to API" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert (work / "library" / "library.duckdb").is_file() and (work / "library" / "site" / "index.html").is_file()
    assert not any(elsewhere.iterdir())  # nothing where the command happened to be run
    # the councils: beside each folder, and apart when the two folders share a parent
    assert demo_council_folders(tmp_path / "data" / "s", tmp_path / "out" / "s") == (
        tmp_path / "data" / "councils", tmp_path / "out" / "councils")
    assert demo_council_folders(work / "data", work / "out") == (work / "councils", work / "councils-out")


def test_the_demo_evaluates_the_southampton_study_file(tmp_path, monkeypatch):
    """Found (issue 36, 3): the demo's Southampton settings were retyped in cli/main.py
    instead of read from studies/southampton.toml (they differed: the file names the four
    programmes). The demo now loads the file, with its own data and output folders."""
    import cli.app
    import cli.demo
    from evaluation.settings.model import load_study

    seen = []
    monkeypatch.setattr(cli.app, "evaluate_and_print", lambda settings, **_: seen.append(settings))
    assert main(["demo", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "o"), "--no-councils", "--quiet"]) == 0
    where = {"data_dir", "out_dir", "library", "library_site", "work_dir", "keep_work"}
    demo, study = seen[0].flat(), load_study(cli.demo.DEMO_STUDY).flat()
    assert {k: v for k, v in demo.items() if k not in where} == {k: v for k, v in study.items() if k not in where}
    assert seen[0].data_dir == tmp_path / "d" and seen[0].library.path == tmp_path / "library" / "library.duckdb"


def test_the_replace_option_says_its_default_is_with_replacement(capsys):
    # issue 39, finding 6: "match with replacement (the default: without it, ...)" read as if the
    # default were without replacement; it is with
    from evaluation.settings.model import StudySettings

    assert StudySettings.model_fields["matching"].annotation.model_fields["replace"].default is True
    assert main(["evaluate", "--help"]) == 0
    said = "".join(capsys.readouterr().out.split())  # the help wraps anywhere, even inside --no-replace
    assert "matchwithreplacement,thedefault;--no-replacematcheswithoutit" in said
