"""Text is text (issue 35, finding 2): names from data and settings reach charts, SQL and
pages as literal text. Found: a council named ``$\\foo{$`` made the evaluation exit 1 after
its library row was committed, and every later ``library build`` failed (matplotlib parsed
it as mathematics); a programme of that name crashed the evaluation; one named
``=cmd|' /C calc'!A0`` failed the preflight with a BinderException (DuckDB's dialect sniffer
took its quote for the quote character) although ``load`` accepted the file."""

from __future__ import annotations

import csv
from dataclasses import replace

import polars as pl

from evaluation.library.site import build_site
from evaluation.load.preflight import preflight
from evaluation.pipeline.runner import run_evaluation
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate

MATHS, FORMULA = "$\\foo{$", "=cmd|' /C calc'!A0"


def test_hostile_names_are_drawn_bound_and_written_literally(tmp_path):
    data = tmp_path / "data"
    generate(replace(SOUTHAMPTON, people=4000, participants=120), data, seed=2)
    participants = pl.read_csv(data / "participants.csv", infer_schema_length=0)
    participants = participants.with_columns(
        pl.when(pl.col("programme") == "Exodus").then(pl.lit(FORMULA)).otherwise(pl.lit(MATHS)).alias("programme"))
    participants.write_csv(data / "participants.csv")
    library = tmp_path / "lib" / "library.duckdb"
    settings = StudySettings(data_dir=data, out_dir=tmp_path / "out", bootstrap_resamples=100, council=MATHS,
                             programme_type="employment", library=library, programmes=(FORMULA, MATHS))
    preflight(settings)
    results = run_evaluation(settings)
    assert {row["programme"] for row in results["before_after"]["by_programme"]} == {FORMULA, MATHS}
    html = (tmp_path / "out" / "report.html").read_text()
    assert "\\foo{" in html
    # the CSV tables keep the name but never as a formula a spreadsheet would run
    rows = list(csv.DictReader((tmp_path / "out" / "tables" / "before_after_by_programme.csv").open()))
    assert all(not row["programme"].startswith("=") for row in rows)
    site, _ = build_site(library, tmp_path / "site")
    assert "\\foo{" in (site / "index.html").read_text()
