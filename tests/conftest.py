"""Shared fixtures: tiny hand-written data folders and quiet, project-local Prefect settings."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Keep Prefect's home inside the project and quiet, for any test that imports it: one
# home per pytest-xdist worker (``make test`` runs two), so their Prefect files never meet.
os.environ.setdefault("PREFECT_HOME", str(ROOT / ".prefect" / f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# One BLAS thread per process. The suite runs two processes (pytest-xdist) and the
# calibration tests two more each; OpenBLAS's own threads, one per core in every process,
# spin while they wait and take the cores from each other (the calibration ran four to six
# times slower with them). The matrices here are small (a propensity model's columns), so
# one thread loses nothing.
# Set before anything imports numpy; spawned children inherit it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Locks and person-level work folders go to a private state folder: one per test session.
os.environ["REOFFEND_STATE_DIR"] = tempfile.mkdtemp(prefix="reoffend-state-")

PEOPLE_HEADER = "person_id,birth_year,sex,ethnicity,mappa,ppo,ogrs3"
OFFENCES_HEADER = "person_id,offence_date,outcome_date,category,disposal,custody_days"
PARTICIPANTS_HEADER = "person_id,programme,start_date,end_date,referral_source"
CUSTODY_HEADER = "person_id,custody_start,custody_end"


def write_folder(
    folder: Path,
    *,
    people: list[str],
    offences: list[str],
    participants: list[str],
    custody: list[str] | None = None,
    participants_header: str = PARTICIPANTS_HEADER,
) -> Path:
    """Write CSV tables from lists of data lines (headers added here)."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "people": (PEOPLE_HEADER, people),
        "offences": (OFFENCES_HEADER, offences),
        "participants": (participants_header, participants),
    }
    if custody is not None:
        tables["custody"] = (CUSTODY_HEADER, custody)
    for name, (header, rows) in tables.items():
        (folder / f"{name}.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def folder(tmp_path: Path):
    """A factory: ``folder(people=[...], offences=[...], participants=[...])``."""

    def make(**tables):
        return write_folder(tmp_path / "data", **tables)

    return make


@pytest.fixture(scope="session")
def southampton(tmp_path_factory) -> Path:
    """The southampton scenario with its default seed, generated once per session."""
    from synthetic_data import SOUTHAMPTON, generate

    out = tmp_path_factory.mktemp("southampton")
    generate(SOUTHAMPTON, out)
    return out

