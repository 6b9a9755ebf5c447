"""reoffend batch (issue 38): requests evaluated on a two-worker Dask LocalCluster, each the
same as its standalone evaluation; a request that fails does not stop the others."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("prefect_dask")

from prefect.testing.utilities import prefect_test_harness  # noqa: E402

from evaluation.batch.batch import run_batch  # noqa: E402
from evaluation.batch.library import add_batch  # noqa: E402
from evaluation.library.store import read_library  # noqa: E402
from evaluation.pipeline.runner import run_evaluation  # noqa: E402
from evaluation.settings.model import StudySettings  # noqa: E402
from flows.batch import submit_with  # noqa: E402
from synthetic_data import SOUTHAMPTON, generate  # noqa: E402

#: Settings every request starts from here: fewer resamples, no robustness checks (a quicker test).
QUICK = {"bootstrap_resamples": 200, "robustness": False}


@pytest.fixture(scope="module", autouse=True)
def harness():
    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """A national extract (no participants) and a folder of requests: one per programme
    (one with its own study file) and one of them all, and three that cannot run."""
    root = tmp_path_factory.mktemp("batch")
    made = generate(replace(SOUTHAMPTON, people=4_000, participants=240), root / "made", seed=12)
    national = root / "national"
    national.mkdir()
    for name in ("people.csv", "offences.csv", "custody.csv"):
        shutil.copy(made.out_dir / name, national / name)
    participants = pl.read_csv(made.out_dir / "participants.csv")
    requests = root / "requests"
    programmes = sorted(participants["programme"].unique().to_list())[:3]
    for programme in programmes:
        folder = requests / programme.replace(" ", "_")
        folder.mkdir(parents=True)
        participants.filter(pl.col("programme") == programme).write_csv(folder / "participants.csv")
    (requests / "everyone").mkdir()  # the fourth: every programme's participants together
    participants.write_csv(requests / "everyone" / "participants.csv")
    (requests / programmes[0].replace(" ", "_") / "study.toml").write_text(
        '[study]\ncouncil = "Northgate"\nprogramme_type = "employment"\nbefore_days = 300\n')
    for name, text in (("broken", "person_id,programme\nX,Y\n"), ("sets_out_dir", None), ("empty", None)):
        (requests / name).mkdir()
        if text:
            (requests / name / "participants.csv").write_text(text)
    shutil.copy(requests / programmes[1].replace(" ", "_") / "participants.csv", requests / "sets_out_dir")
    (requests / "sets_out_dir" / "study.toml").write_text('[study]\nout_dir = "/tmp/elsewhere"\n')
    return national, requests


def test_requests_on_a_dask_cluster_equal_their_standalone_evaluations_and_fail_alone(national, tmp_path):
    national_dir, requests = national
    said: list[str] = []
    result = run_batch(requests, national_dir, tmp_path / "out", submit=submit_with(2, "local"), settings=QUICK,
                       progress=said.append)
    # the national extract was loaded once, and its snapshot (person-level) is gone
    assert said.count("loading the national extract once, for every request") == 1
    assert not list(Path(os.environ["REOFFEND_STATE_DIR"]).rglob("national.duckdb"))
    by_name = {r["name"]: r for r in result.requests}
    failed = {name for name, r in by_name.items() if r["status"] == "failed"}
    assert failed == {"broken", "sets_out_dir", "empty"}
    assert "start_date" in by_name["broken"]["reason"] and "out_dir" in by_name["sets_out_dir"]["reason"]
    assert "no participants file" in by_name["empty"]["reason"]
    done = [name for name, r in by_name.items() if r["status"] == "done"]
    assert len(done) == 4
    record = json.loads((tmp_path / "out" / "batch.json").read_text())
    assert [r["name"] for r in record["requests"]] == sorted(by_name)
    page = (tmp_path / "out" / "index.html").read_text()
    assert all(f'href="{name}/report.html"' in page for name in done) and "no participants file" in page
    # each output equals a standalone evaluation of the same data and settings
    for name in done:
        study = requests / name / "study.toml"
        extra = {"council": "Northgate", "programme_type": "employment", "before_days": 300} if study.exists() else {}
        alone = tmp_path / "alone" / name
        run_evaluation(StudySettings(data_dir=national_dir, participants_file=requests / name / "participants.csv",
                                     out_dir=alone, name=name, **QUICK, **extra))
        assert (alone / "results.json").read_bytes() == (tmp_path / "out" / name / "results.json").read_bytes(), name
    # the evidence library, once at the end: every evaluated request's partner view, in one go
    said = add_batch(tmp_path / "lib" / "library.duckdb", tmp_path / "out", result.requests)
    assert said.startswith("evidence library: 4 added")
    assert sorted(e.name for e in read_library(tmp_path / "lib" / "library.duckdb")) == sorted(done)
    assert (tmp_path / "lib" / "site" / "index.html").is_file()
    # the default: local worker processes; a batch folder of ours is replaced whole
    shutil.rmtree(requests / "broken")
    again = run_batch(requests, national_dir, tmp_path / "out", submit=submit_with(2, None), settings=QUICK)
    assert {r["name"] for r in again.requests if r["status"] == "done"} == set(done)
    assert not (tmp_path / "out" / "broken").exists() and (tmp_path / "out" / done[0] / "report.html").is_file()
