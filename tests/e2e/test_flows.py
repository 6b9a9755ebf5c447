"""The evaluate flow under Prefect's test harness: end to end, parameter validation, a
failing task leaving the previous outputs intact, determinism, artifacts, reproduce."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

pytest.importorskip("prefect")

from prefect.exceptions import ParameterTypeError  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402

from evaluation.errors import DataFileError  # noqa: E402
from evaluation.files.workspace import work_folder  # noqa: E402
from evaluation.provenance.reproduce import reproduce  # noqa: E402
from evaluation.settings.model import StudySettings  # noqa: E402
from flows.evaluate import evaluate  # noqa: E402
from synthetic_data import SOUTHAMPTON, generate  # noqa: E402

SMALL = replace(SOUTHAMPTON, people=3000, participants=80)


@pytest.fixture(scope="module", autouse=True)
def harness():
    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("small")
    generate(SMALL, data, seed=5)
    return data


def settings(data, out, **kw):
    return StudySettings(data_dir=data, out_dir=out, bootstrap_resamples=200, name="small", **kw)


def test_flow_end_to_end(small_data, tmp_path):
    results = evaluate(settings(small_data, tmp_path / "out"))
    assert results["cohort"]["participants"] == SMALL.participants
    assert results["matched"]["treated"] > 0.75 * SMALL.participants
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"manifest.json", "results.json", "summary.md", "report.html", "tables", "figures"} <= files
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == results
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {e["table"] for e in manifest["inputs"]} >= {"people", "offences", "participants"}
    assert all(len(e["sha256"]) == 64 for e in manifest["inputs"])
    assert manifest["seed"] == results["study"]["seed"]
    assert manifest["versions"]["duckdb"].startswith("1.")
    # the work database with person-level data is outside the output folder
    assert not any(p.suffix == ".duckdb" for p in (tmp_path / "out").rglob("*"))


def test_artifacts_hold_the_headline_and_no_person_ids(small_data, tmp_path):
    from prefect.artifacts import Artifact

    evaluate(settings(small_data, tmp_path / "out"))
    # Prefect's own client call: it failed with HTTP 422 before fastapi was pinned below 0.151
    artifact = Artifact.get("evaluation-summary").model_dump()
    assert "Number in treatment group" in artifact["data"]
    assert "SYN" not in artifact["data"]  # the generator's person_id prefix


def test_bad_parameter_fails_before_any_task(tmp_path, small_data):
    with pytest.raises(ParameterTypeError, match="before_days"):
        evaluate({"data_dir": str(small_data), "out_dir": str(tmp_path / "out"), "before_days": 0})
    assert not (tmp_path / "out").exists()
    assert not work_folder(tmp_path / "out").exists()


def test_failing_task_leaves_previous_outputs_intact(small_data, tmp_path):
    out = tmp_path / "out"
    evaluate(settings(small_data, out))
    before = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    broken = tmp_path / "broken"
    broken.mkdir()
    for p in small_data.iterdir():
        (broken / p.name).write_bytes(p.read_bytes())
    (broken / "offences.csv").write_text("person_id,offence_date\n")
    with pytest.raises(DataFileError, match="outcome_date"):
        evaluate(settings(broken, out))
    assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.new")) == []


def test_same_inputs_give_byte_identical_results_anywhere(small_data, tmp_path):
    evaluate(settings(small_data, tmp_path / "a"))
    evaluate(settings(small_data, tmp_path / "elsewhere" / "b"))
    assert (tmp_path / "a" / "results.json").read_bytes() == (tmp_path / "elsewhere" / "b" / "results.json").read_bytes()


def test_reproduce_unchanged_and_tampered(tmp_path):
    data = tmp_path / "data"
    generate(SMALL, data, seed=6)
    evaluate(settings(data, tmp_path / "out"))
    report = reproduce(tmp_path / "out" / "manifest.json")
    assert report.identical and not report.changed_inputs
    text = (data / "offences.csv").read_text().splitlines()
    (data / "offences.csv").write_text("\n".join(text[:-1]) + "\n")  # drop one offence
    report = reproduce(tmp_path / "out" / "manifest.json")
    assert not report.identical
    assert any("offences.csv" in c for c in report.changed_inputs)


def test_a_partner_run_publishes_only_the_partner_view(tmp_path):
    """The Prefect artifact of a partner run follows the audience (safety issue, finding 3)."""
    import asyncio

    from prefect.client.orchestration import get_client

    data = tmp_path / "data"
    generate(replace(SOUTHAMPTON, people=3000, participants=12), data, seed=10)  # a draw whose matched counts are small
    results = evaluate(settings(data, tmp_path / "out", audience="partner"))
    assert results["matched"] is not None  # the analyst's results are returned to the caller

    async def fetch():
        async with get_client() as client:
            body = {"artifacts": {"key": {"any_": ["evaluation-summary"]}}, "sort": "CREATED_DESC", "limit": 1,
                    "offset": 0}
            response = await client._client.post("/artifacts/filter", json=body)
            response.raise_for_status()
            return response.json()

    [artifact] = asyncio.run(fetch())
    assert "Withheld" in artifact["data"] and "Number in treatment group" not in artifact["data"]


def test_reproduce_on_a_copy_elsewhere_with_the_originals_gone(tmp_path):
    """An evaluator copies the data and outputs to another folder (another machine): the
    copy is checked and re-run; a corrupted copy fails (architecture issue, finding on reproduce)."""
    import shutil

    data, out = tmp_path / "data", tmp_path / "out"
    generate(SMALL, data, seed=6)
    evaluate(settings(data, out))
    copy = tmp_path / "elsewhere"
    shutil.copytree(data, copy / "data")
    shutil.copytree(out, copy / "out")
    shutil.rmtree(data)
    shutil.rmtree(out)
    with pytest.raises(Exception, match="--data"):
        reproduce(copy / "out" / "manifest.json")  # the recorded folder is gone: say how to point at the copy
    report = reproduce(copy / "out" / "manifest.json", data_dir=copy / "data", out_dir=copy / "rerun")
    assert report.identical, report.summary()
    assert (copy / "rerun" / "results.json").read_bytes() == (copy / "out" / "results.json").read_bytes()
    lines = (copy / "data" / "people.csv").read_text().splitlines()
    (copy / "data" / "people.csv").write_text("\n".join(lines[:-1]) + "\n")  # a corrupted copy
    report = reproduce(copy / "out" / "manifest.json", data_dir=copy / "data")
    assert not report.identical and any("people.csv" in c for c in report.changed_inputs)


def test_a_step_added_to_steps_becomes_a_task_of_the_flow(monkeypatch, tmp_path, small_data):
    from evaluation.pipeline import steps as declared

    ran = []
    step = declared.Step("extra_check", "an extra check", lambda settings, estimate: ran.append(estimate.treated),
                         ("estimate",), stage="checks", when=declared.can_match)
    at = [s.key for s in declared.STEPS].index("results")
    monkeypatch.setattr(declared, "STEPS", declared.STEPS[:at] + (step,) + declared.STEPS[at:])
    results = evaluate(settings(small_data, tmp_path / "out", robustness=False))
    assert ran == [results["matched"]["treated"]]


def test_a_deployment_parameter_gives_the_same_settings_as_the_cli(tmp_path):
    """A scheduled run's settings arrive as JSON parameters; they must serialise to the same
    results.json record as the settings a CLI run builds (940 against 940.0 was a finding)."""
    from pydantic import TypeAdapter

    direct = StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o", programme_cost_per_participant=940,
                           caliper=1)
    via_json = TypeAdapter(StudySettings).validate_python(json.loads(json.dumps(direct.record())))
    assert json.dumps(via_json.to_dict()) == json.dumps(direct.to_dict())
    assert direct.to_dict()["programme_cost_per_participant"] == 940.0


def test_the_flow_rebuilds_the_library_as_its_last_task(small_data, tmp_path):
    """Issue 18: each (scheduled) run of a study with [study.library] adds its partner view
    to the library and rebuilds the site; a re-run replaces its own earlier version."""
    from evaluation.library.store import read_library

    library = tmp_path / "library" / "lib.duckdb"
    study = settings(small_data, tmp_path / "out", robustness=False, library=library, council="Smallville",
                     programme_type="employment")
    evaluate(study)
    evaluate(study)
    rows = read_library(library)
    assert [(r.council, r.is_current) for r in rows] == [("Smallville", True)]
    assert json.loads(rows[0].results_json)["audience"] == "partner"
    assert (tmp_path / "library" / "site" / "index.html").is_file()


@pytest.mark.parametrize("error, calls", [
    (OSError(5, "Input/output error"), 2),  # transient: retried, then succeeds
    (DataFileError("required column is missing", file="people.csv"), 1),  # the tool's own: at once
    (ValueError("a programming error"), 1),  # not transient either
])
def test_an_io_step_retries_only_an_error_that_can_pass(monkeypatch, tmp_path, small_data, error, calls):
    """Every error used to be retried twice (a missing column loaded the data three times)."""
    from evaluation.pipeline import steps as declared

    made = []

    def flaky(settings):
        made.append(1)
        if len(made) == 1:
            raise error

    step = declared.Step("flaky", "a flaky read", flaky, stage="load", io=True)
    monkeypatch.setattr(declared, "STEPS", (step,) + declared.STEPS)
    monkeypatch.setattr("flows.evaluate._IO", {"retries": 2, "retry_delay_seconds": 0})
    state = evaluate(settings(small_data, tmp_path / "out", robustness=False), return_state=True)
    assert len(made) == calls
    assert state.is_completed() == (calls == 2)
    if isinstance(error, DataFileError):
        assert state.message == "people.csv: required column is missing"  # the one line, nothing added


def test_a_study_names_its_failure_notification_as_a_prefect_block(tmp_path):
    from evaluation.errors import SettingsError
    from evaluation.settings.model import load_study, study_with_operations

    study = tmp_path / "s.toml"
    base = f'[study]\nname = "s"\ndata_dir = "{tmp_path}"\nout_dir = "{tmp_path / "o"}"\n'
    study.write_text(base + '[study.schedule]\ncron = "0 6 2 * *"\n[study.notify]\non_failure = "slack-webhook/ops"\n')
    settings, schedule, notify = study_with_operations(study)
    assert (schedule, notify) == ({"cron": "0 6 2 * *", "timezone": "UTC"}, "slack-webhook/ops")
    assert settings == load_study(study)
    assert load_study(study).name == "s"  # operations do not reach the settings (or results)
    for bad in ('"https://hooks.example/x"', '"ops"', "3", '"a/b c"'):
        study.write_text(base + f"[study.notify]\non_failure = {bad}\n")
        with pytest.raises(SettingsError, match="saved Prefect notification block"):
            study_with_operations(study)


def test_serve_reads_each_study_file_once(tmp_path, monkeypatch):
    """Found: serve parsed each study's TOML twice (settings, then schedule and notification)."""
    import tomllib

    from flows.serve import _deployments

    for name in ("a", "b"):
        (tmp_path / f"{name}.toml").write_text(
            f'[study]\nname = "{name}"\ndata_dir = "d"\nout_dir = "o-{name}"\n[study.schedule]\ncron = "0 6 * * *"\n')
    parsed = []
    real = tomllib.loads
    monkeypatch.setattr(tomllib, "loads", lambda text: parsed.append(text) or real(text))
    (tmp_path / "c.toml").write_text('[batch]\nname = "c"\nrequests = "r"\ndata = "d"\nout = "o-c"\n'
                                     '[batch.schedule]\ncron = "0 6 1 * *"\n')
    made = _deployments(tmp_path, lambda **kw: kw, lambda **kw: {**kw, "batch": True})
    assert [m["name"] for m in made] == ["a", "b", "c"] and all(m["schedules"] for m in made)
    assert [m.get("batch", False) for m in made] == [False, False, True]
    assert len(parsed) == 3
