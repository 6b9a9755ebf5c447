"""An independent check of the partner tables (issue 34): SACRO's output checker for trusted
research environments, acro 1.0.2, makes two of the partner tables again from the same
microdata, offences by category before and after (a magnitude table: threshold, N-K
dominance and p-percent checks) and participants by programme and reoffending (a frequency
table), and says which cells it would not release as they are.

acro runs in its own environment (.venv-acro, from requirements-acro.lock, made here on
first use): it needs pandas 2.3 or older and the project's lock has 3.1. The microdata are
synthetic and stay in the test's temporary folder.

What it must show:
- acro's tables hold the analyst's exact counts (the microdata and our SQL agree);
- acro flags some cells (the check is not vacuous);
- every cell acro flags is shown to partners rounded, never at its exact value unless that
  value is itself a multiple of 5, which a reader cannot tell apart from its neighbours.
The disagreements are explained in docs/security.md ("An independent check").
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from evaluation.files.workspace import remove_work
from evaluation.pipeline.runner import run_evaluation
from evaluation.report.disclosure import partner_results
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements-acro.lock"
KEY = b"a test key that is not a real one, 0123456789abcdef"
BASE = 5


@pytest.fixture(scope="session")
def acro_python() -> Path:
    """The acro environment's python, made from requirements-acro.lock when missing or stale."""
    venv = ROOT / ".venv-acro"
    stamp = venv / ".lock-sha256"
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if not (stamp.is_file() and stamp.read_text() == digest):
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        made = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                               "-r", str(LOCK)], capture_output=True, text=True, timeout=900)
        assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
        stamp.write_text(digest)
    return venv / "bin" / "python"


def microdata(settings: StudySettings, to: Path) -> None:
    """The person-level rows behind the two tables, from the kept work folder (then removed)."""
    to.mkdir()
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        con.execute("""COPY (SELECT unit_id, category::VARCHAR AS category, period::VARCHAR AS period,
                                    count(*) AS offences
                             FROM window_offences WHERE treat = 1 GROUP BY ALL ORDER BY ALL)
                       TO $path (HEADER)""", {"path": str(to / "offences_by_person.csv")})
        con.execute("""COPY (SELECT unit_id, programme,
                                    CASE WHEN offences_after > 0 THEN 'yes' ELSE 'no' END AS reoffended
                             FROM participant_outcomes WHERE treat = 1 ORDER BY unit_id)
                       TO $path (HEADER)""", {"path": str(to / "participants.csv")})
    remove_work(settings.work_path)


@pytest.fixture(scope="module")
def checked(acro_python, tmp_path_factory, southampton) -> dict[str, tuple[dict, dict, dict]]:
    """For each case: the exact results, the partner view and acro's verdicts."""
    folders = {"southampton": southampton}
    folders["cohort of 25"] = tmp_path_factory.mktemp("acro25") / "data"
    generate(replace(SOUTHAMPTON, people=3000, participants=25), folders["cohort of 25"], seed=25)
    made = {}
    for case, data in folders.items():
        base = tmp_path_factory.mktemp(f"acro-{case.replace(' ', '')}")
        settings = StudySettings(data_dir=data, out_dir=base / "out", bootstrap_resamples=200, keep_work=True,
                                 robustness=False)
        exact = run_evaluation(settings)
        microdata(settings, base / "micro")
        out = base / "acro.json"
        ran = subprocess.run([str(acro_python), str(Path(__file__).with_name("acro_worker.py")), str(base / "micro"),
                              str(out)], capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, ran.stderr[-3000:]
        made[case] = (exact, partner_results(exact, BASE, key=KEY)[0], json.loads(out.read_text()))
    return made


def cells(exact: dict, view: dict) -> dict[str, dict[tuple[str, str], int]]:
    """Our exact and partner numbers for acro's cells, by (row, column) label."""
    out = {}
    for name, results in (("exact", exact), ("partner", view)):
        ba = results["before_after"]
        table = {}
        for row in ba["by_category"]:
            for period in ("before", "after"):
                table[("offences by category", row["category"], period)] = row[f"offences_{period}"]
        for row in ba["by_programme"]:
            yes = row["people_with_offence_after"]
            table[("participants by programme and reoffending", row["programme"], "yes")] = yes
            table[("participants by programme and reoffending", row["programme"], "no")] = row["people"] - yes
        out[name] = table
    return out


@pytest.mark.parametrize("case", ["cohort of 25", "southampton"])
def test_acro_makes_the_same_tables_from_the_microdata(checked, case):
    exact, view, acro = checked[case]
    ours = cells(exact, view)["exact"]
    compared = 0
    for table in acro["tables"]:
        for label, value in table["values"].items():
            row, col = label.split("|")
            if value is not None and (table["name"], row, col) in ours:
                assert ours[(table["name"], row, col)] == value, (table["name"], label)
                compared += 1
    assert compared >= 10


@pytest.mark.parametrize("case", ["cohort of 25", "southampton"])
def test_every_cell_acro_flags_is_shown_rounded(checked, case):
    exact, view, acro = checked[case]
    ours = cells(exact, view)
    flagged = {(t["name"], row, col): check for t in acro["tables"] for check, where in t["flagged"].items()
               for row, col in where if check != "PresenceOfLinkedTableCheck"}
    assert flagged, f"{case}: acro flags nothing: the comparison would be vacuous"
    assert acro["threshold"] == 10
    for cell, check in flagged.items():
        if cell not in ours["exact"]:  # a zero row acro keeps that our table leaves out
            continue
        truth, shown = ours["exact"][cell], ours["partner"][cell]
        assert shown % BASE == 0 and abs(shown - truth) < 2 * BASE, (cell, check, truth, shown)
        # shown at its exact value only when that value is a multiple of the base, which the
        # reader cannot tell from the values around it: acro's disagreement, explained
        assert shown != truth or truth % BASE == 0, (cell, check, truth, shown)
