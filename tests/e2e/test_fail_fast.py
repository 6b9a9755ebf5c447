"""A newcomer's mistakes fail before Prefect starts: one line naming the fix, exit 2, no
traceback (architecture issue, 'Errors and progress' and 'Other commands' findings)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from synthetic_data import SOUTHAMPTON, generate


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ff") / "data"
    generate(replace(SOUTHAMPTON, people=3000, participants=60), folder, seed=2)
    return folder


def reoffend(*args, env=None):
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def one_line(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("reoffend: error:"), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "starting Prefect" not in proc.stderr  # it failed before Prefect started
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_unknown_programme(data, tmp_path):
    one_line(reoffend("evaluate", "--data", str(data), "--out", str(tmp_path / "o"), "--programme", "Nope"),
             "'Nope'", "--programme")


def test_wrong_data_path(tmp_path):
    one_line(reoffend("evaluate", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o")),
             "does not exist")


def test_missing_column(data, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in data.glob("*.csv"):
        (broken / f.name).write_bytes(f.read_bytes())
    lines = (broken / "participants.csv").read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, h in enumerate(header) if h != "start_date"]
    (broken / "participants.csv").write_text(
        "\n".join(",".join(row.split(",")[i] for i in keep) for row in lines) + "\n")
    one_line(reoffend("evaluate", "--data", str(broken), "--out", str(tmp_path / "o")), "start_date")


def test_cutoff_before_anyone_started_or_before_any_follow_up_ends(data, tmp_path):
    one_line(reoffend("evaluate", "--data", str(data), "--out", str(tmp_path / "o"), "--cutoff", "2000-01-01"),
             "before anyone started", "later --cutoff")
    one_line(reoffend("evaluate", "--data", str(data), "--out", str(tmp_path / "o"), "--cutoff", "2006-06-01"),
             "leaves nobody a complete follow-up", "later --cutoff")


def test_a_concurrent_run_of_the_same_folder(data, tmp_path):
    from evaluation.files.workspace import run_lock

    with run_lock(tmp_path / "o"):  # another evaluation holds the output folder
        one_line(reoffend("evaluate", "--data", str(data), "--out", str(tmp_path / "o")), "another evaluation")


def test_unknown_option_and_bad_value(tmp_path):
    one_line(reoffend("evaluate", "--bogus"), "--bogus")
    one_line(reoffend("evaluate", "--data", "d", "--out", "o", "--before-days", "x"), "before_days", "valid integer")


def test_unknown_study_key_suggests_the_nearest(tmp_path):
    study = tmp_path / "s.toml"
    study.write_text('[study]\ndata_dir = "d"\nout_dir = "o"\nbefore_dayz = 30\n')
    one_line(reoffend("evaluate", str(study)), "before_dayz", "did you mean before_days?")


def test_match_with_a_text_covariate_names_exact(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("treat,age,region,y\n" + "".join(f"{i % 3 == 0:d},{20 + i % 17},R{i % 2},{i % 5}\n"
                                                       for i in range(60)))
    one_line(reoffend("match", "--data", str(table), "--treatment", "treat", "--covariates", "age,region",
                      "--outcome", "y"), "--exact region")
    ok = reoffend("match", "--data", str(table), "--treatment", "treat", "--covariates", "age", "--exact", "region",
                  "--outcome", "y", "--caliper", "none")
    assert ok.returncode == 0 and "matched difference" in ok.stdout, ok.stderr


def test_match_with_na_values_leaves_those_rows_out(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("treat,age,y\n" + "".join(f"{i % 3 == 0:d},{'NA' if i % 10 == 0 else 20 + i % 17},{i % 5}\n"
                                               for i in range(60)))
    ok = reoffend("match", "--data", str(table), "--treatment", "treat", "--covariates", "age", "--outcome", "y",
                  "--caliper", "none")
    assert ok.returncode == 0 and "6 rows with a missing value were left out" in ok.stdout, ok.stderr
    one_line(reoffend("match", "--data", str(table), "--treatment", "treat", "--covariates", "age",
                      "--outcome", "nope"), "no column 'nope'")


def test_serve_with_no_server_listening(tmp_path):
    (tmp_path / "s.toml").write_text('[study]\ndata_dir = "d"\nout_dir = "o"\n')
    proc = reoffend("serve", str(tmp_path), env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})
    one_line(proc, "prefect server start")


def test_version_and_no_telemetry_notice(tmp_path):
    proc = reoffend("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("reoffend ")
    from flows import prefect_env

    env = dict(os.environ)
    try:
        os.environ.pop("DO_NOT_TRACK", None)
        prefect_env.configure()
        assert os.environ["DO_NOT_TRACK"] == "1"  # Prefect's client telemetry, and its first-run notice, off
    finally:
        os.environ.clear()
        os.environ.update(env)


def test_uk_dates_read_as_iso_fail_at_once_naming_the_setting(data, tmp_path):
    """Found (issue 37, finding 3): a day-first export failed 38 s in, after Prefect started,
    advising --cutoff. Now: one line, before Prefect, from evaluate and from load."""
    from tests.load.test_date_formats import rewritten

    uk = rewritten(data, tmp_path / "uk", "%d/%m/%Y")
    one_line(reoffend("evaluate", "--data", str(uk), "--out", str(tmp_path / "o")),
             "offence_date", 'date_format = "DD/MM/YYYY"', "--date-format DD/MM/YYYY")
    one_line(reoffend("load", str(uk), "--db", str(tmp_path / "db" / "x.duckdb")), 'date_format = "DD/MM/YYYY"')
    assert not (tmp_path / "db").exists()
