"""The malformed-input corpus (tests/data/bad/, written by tests/data/make_bad_corpus.py):
each case ends in a clear file-level error naming the file and column (exit 2) or in
rows rejected with reasons, and every table reconciles: read = loaded + rejected."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from cli.main import main
from evaluation import DataFileError, load_data

BAD = Path(__file__).parents[1] / "data" / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if p.is_dir())


def test_the_corpus_has_at_least_30_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES)
def test_bad_input_case(case, tmp_path, capsys):
    folder = BAD / case
    expect = json.loads((folder / "expect.json").read_text())
    db = tmp_path / "db" / "eval.duckdb"
    if expect["kind"] == "file_error":
        with pytest.raises(DataFileError) as info:
            load_data(folder, db)
        err = info.value
        assert expect["file"] in (err.file or ""), (err.file, str(err))
        if expect["column"]:
            assert err.column == expect["column"], str(err)
        assert expect["message"] in str(err)
        assert not db.exists()
        # the command line: one line, exit code 2, no traceback
        assert main(["load", str(folder), "--db", str(db), "--quiet"]) == 2
        err_text = capsys.readouterr().err
        assert err_text.startswith("reoffend: error:") and err_text.count("\n") == 1
        assert "Traceback" not in err_text
        return
    report = load_data(folder, db)
    for table, counts in report.tables.items():
        assert counts.read == counts.loaded + counts.rejected, table
        assert counts.rejected == expect["rejected"].get(table, 0), (table, counts)
    rejects = pl.read_csv(report.rejects_path, infer_schema_length=0)
    reasons = " | ".join(rejects["reason"].to_list()) if rejects.height else ""
    for reason in expect["reasons"]:
        assert reason in reasons, (reason, reasons)
    if rejects.height:
        assert rejects["line"].null_count() == 0 and rejects["reason"].null_count() == 0


def test_ten_megabyte_single_line(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(BAD / "crlf_line_endings", folder)
    (folder / "expect.json").unlink()
    (folder / "offences.csv").write_bytes(b"person_id," + b"x" * (10 * 1024 * 1024))  # no newline at all
    with pytest.raises(DataFileError) as info:
        load_data(folder, tmp_path / "db" / "eval.duckdb")
    assert info.value.file.endswith("offences.csv")
    assert "longer than 1 MB" in str(info.value)
