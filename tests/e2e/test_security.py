"""Sensitive data: keyed pseudonymisation, SQL values as bound parameters, private files."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl
import pytest

from evaluation.load.pseudonymise import pseudonymise
from evaluation.pipeline.runner import run_evaluation
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate

KEY = "correct horse battery staple, but longer!!"  # 42 bytes


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    data = tmp_path_factory.mktemp("sec") / "data"
    generate(replace(SOUTHAMPTON, people=4000, participants=100), data, seed=11)
    return data


def run_cli(*args, key: str | None = KEY):
    env = {"PATH": "/usr/bin:/bin"}
    if key is not None:
        env["REOFFEND_PSEUDONYM_KEY"] = key
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[2], timeout=300)


def test_pseudonyms_are_hmac_sha256_consistent_across_tables_and_extracts(small, tmp_path):
    a = tmp_path / "a"
    proc = run_cli("pseudonymise", str(small), "--out", str(a), "--id-column", "person_id", "--quiet")
    assert proc.returncode == 0, proc.stderr
    raw = pl.read_csv(small / "people.csv", infer_schema_length=0)["person_id"]
    pseudo = pl.read_csv(a / "people.csv", infer_schema_length=0)["person_id"]
    assert pseudo[0] == hmac.new(KEY.encode(), raw[0].encode(), hashlib.sha256).hexdigest()
    assert not set(raw.to_list()) & set(pseudo.to_list())
    # the same key on another extract gives the same pseudonyms, so data link up
    b = tmp_path / "b"
    assert run_cli("pseudonymise", str(small), "--out", str(b), "--id-column", "person_id", "--quiet").returncode == 0
    assert (a / "offences.csv").read_bytes() == (b / "offences.csv").read_bytes()
    # a different key gives different ones
    c = tmp_path / "c"
    assert run_cli("pseudonymise", str(small), "--out", str(c), "--id-column", "person_id", "--quiet",
                   key=KEY + "x").returncode == 0
    assert (a / "people.csv").read_bytes() != (c / "people.csv").read_bytes()
    # every table still links: the pseudonymised folder loads with nothing rejected
    from evaluation import load_data

    report = load_data(a, tmp_path / "db" / "e.duckdb")
    assert all(t.rejected == 0 for t in report.tables.values())
    assert report.tables["offences"].loaded == report.tables["offences"].read > 0
    # the key is in no output and not in the command's output
    for path in [*a.rglob("*"), *(tmp_path / "db").rglob("*")]:
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in proc.stdout + proc.stderr


def test_pseudonymise_refuses_a_missing_or_short_key(small, tmp_path):
    for key in (None, "too short"):
        proc = run_cli("pseudonymise", str(small), "--out", str(tmp_path / "x"), "--id-column", "person_id", key=key)
        assert proc.returncode == 2
        assert "REOFFEND_PSEUDONYM_KEY" in proc.stderr and "32 bytes" in proc.stderr
        assert not (tmp_path / "x").exists()


def test_pseudonymise_parquet_tables(small, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("people", "offences", "participants"):
        pl.read_csv(small / f"{name}.csv", infer_schema_length=0).write_parquet(src / f"{name}.parquet")
    report = pseudonymise(src, tmp_path / "out", id_column="person_id", key=KEY.encode())
    assert set(report.pseudonymised) == {"people.parquet", "offences.parquet", "participants.parquet"}
    ids = pl.read_parquet(tmp_path / "out" / "people.parquet")["person_id"]
    assert ids.str.len_chars().unique().to_list() == [64]


def test_programme_name_with_sql_is_treated_as_text(small, tmp_path):
    hostile = "x'); DROP TABLE offences; --"
    data = tmp_path / "data"
    shutil.copytree(small, data)
    parts = pl.read_csv(data / "participants.csv", infer_schema_length=0)
    parts = parts.with_columns(pl.when(pl.col("programme") == "OLASS").then(pl.lit(hostile))
                               .otherwise(pl.col("programme")).alias("programme"))
    parts.write_csv(data / "participants.csv")
    settings = StudySettings(data_dir=data, out_dir=tmp_path / "out", programmes=(hostile,), bootstrap_resamples=100,
                                 keep_work=True)
    results = run_evaluation(settings)
    assert results["cohort"]["programmes"] == [hostile]
    expected = parts.filter(pl.col("programme") == hostile)["person_id"].n_unique()
    assert results["cohort"]["submitted"] == expected > 10
    con = duckdb.connect(str(settings.db_path), read_only=True)
    assert con.execute("SELECT count(*) FROM offences").fetchone()[0] > 0  # the table is still there


def test_outputs_work_folder_and_database_are_owner_only(small, tmp_path):
    settings = StudySettings(data_dir=small, out_dir=tmp_path / "reports" / "out", bootstrap_resamples=100,
                             keep_work=True)
    run_evaluation(settings)
    out = settings.out_dir
    for folder in (out, out / "tables", out / "figures", settings.work_path, out.parent):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    for path in [*out.rglob("*"), *settings.work_path.rglob("*")]:
        if path.is_file():
            assert path.stat().st_mode & 0o777 == 0o600, path


# --- pseudonymise refuses rather than copy raw identifiers (safety issue, findings 5 and 6) ---

def test_pseudonymise_refuses_a_missing_id_column_and_writes_nothing(small, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("pseudonymise", str(small), "--out", str(out), "--id-column", "pnc", "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "no column 'pnc'" in proc.stderr
    assert "secret" not in proc.stdout
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage", ["nul byte", "short row", "stray quote"])
def test_pseudonymise_malformed_csv_is_one_line_and_leaves_no_partial_folder(small, tmp_path, damage):
    src = tmp_path / "src"
    src.mkdir()
    for p in small.iterdir():
        if p.suffix == ".csv":
            (src / p.name).write_bytes(p.read_bytes())
    lines = (src / "offences.csv").read_text().splitlines()
    lines[3] = {"nul byte": lines[3][:5] + "\x00" + lines[3][5:],
                "short row": lines[3].split(",")[0],
                "stray quote": lines[3].replace(",", ',"', 1)}[damage]
    (src / "offences.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    proc = run_cli("pseudonymise", str(src), "--out", str(out), "--id-column", "person_id", "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "offences.csv" in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # no output folder, no staging left


def test_pseudonymise_drops_direct_identifiers_unless_kept_and_says_so(small, tmp_path):
    """Found (issue 37, finding 6): Forename and Surname came through pseudonymisation, and
    the command told the user to keep the key secret, as if the folder were then safe."""
    data = tmp_path / "named"
    data.mkdir()
    for path in small.glob("*.csv"):
        (data / path.name).write_bytes(path.read_bytes())
    people = pl.read_csv(data / "people.csv", infer_schema_length=0)
    people.with_columns(Forename=pl.lit("Alice"), Surname=pl.lit("Smith"), DOB=pl.lit("01/02/1980"),
                        Postcode=pl.lit("SO14 7LY"), **{"Address Line 1": pl.lit("1 High St")}).write_csv(
        data / "people.csv")
    out = tmp_path / "out"
    proc = run_cli("pseudonymise", str(data), "--out", str(out), "--id-column", "person_id", "--quiet")
    assert proc.returncode == 0, proc.stderr
    written = pl.read_csv(out / "people.csv", infer_schema_length=0)
    assert written.columns == people.columns  # the contract's columns, and no identifier added
    text = (out / "people.csv").read_text()
    assert not any(word in text for word in ("Alice", "Smith", "01/02/1980", "SO14", "High St"))
    assert "dropped Forename, Surname, DOB, Postcode, Address Line 1 (direct identifiers" in proc.stdout
    assert "not anonymous" in proc.stdout
    kept = tmp_path / "kept"
    proc = run_cli("pseudonymise", str(data), "--out", str(kept), "--id-column", "person_id", "--keep", "Postcode",
                   "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "Postcode" in pl.read_csv(kept / "people.csv", infer_schema_length=0).columns
    refused = run_cli("pseudonymise", str(data), "--out", str(tmp_path / "x"), "--id-column", "person_id",
                      "--keep", "Nickname")
    assert refused.returncode == 2 and "no file has that column" in refused.stderr and not (tmp_path / "x").exists()
