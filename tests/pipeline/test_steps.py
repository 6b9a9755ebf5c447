"""The steps are declared once: a step added to STEPS runs in the plain runner and is
timed by the benchmark with no other edit (the Prefect flow: tests/e2e/test_flows.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest

from evaluation.pipeline import steps as declared
from evaluation.pipeline.runner import run_evaluation, run_steps
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate

CALLS: list[dict] = []


def extra_check(settings, estimate):
    """A new check: records that it ran and what it was given."""
    CALLS.append({"treated": estimate.treated})
    return None


def with_extra_step(monkeypatch):
    step = declared.Step("extra_check", "an extra check", extra_check, ("estimate",), stage="checks",
                         when=declared.can_match)
    at = [s.key for s in declared.STEPS].index("results")
    monkeypatch.setattr(declared, "STEPS", declared.STEPS[:at] + (step,) + declared.STEPS[at:])
    CALLS.clear()
    return step


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    data = tmp_path_factory.mktemp("steps") / "data"
    generate(replace(SOUTHAMPTON, people=4000, participants=100), data, seed=11)
    return data


def test_every_step_key_is_unique_and_needs_only_earlier_steps():
    seen = {"started"}
    for step in declared.STEPS:
        assert step.key not in seen, step.key
        assert set(step.needs) <= seen, (step.key, set(step.needs) - seen)
        seen.add(step.key)


def test_a_step_added_to_steps_runs_in_the_plain_runner(monkeypatch, small, tmp_path):
    with_extra_step(monkeypatch)
    results = run_evaluation(StudySettings(data_dir=small, out_dir=tmp_path / "o", bootstrap_resamples=100,
                                           robustness=False))
    assert CALLS == [{"treated": results["matched"]["treated"]}]


def test_a_step_added_to_steps_is_timed_by_the_benchmark(monkeypatch, small, tmp_path):
    from benchmarks import bench

    with_extra_step(monkeypatch)
    monkeypatch.setattr(bench, "FULL_PEOPLE", 4000)
    monkeypatch.setattr(bench, "FULL_PARTICIPANTS", 100)
    measured = bench.child(1.0, tmp_path, seed=3)
    assert "extra_check" in measured["stages_seconds"] and len(CALLS) == 1


def test_steps_that_do_not_apply_are_skipped_and_their_results_are_none(small, tmp_path):
    settings = StudySettings(data_dir=small, out_dir=tmp_path / "o", bootstrap_resamples=100, robustness=False,
                             work_dir=tmp_path / "w")
    values = run_steps(settings)
    assert {"sensitivity", "placebo", "subgroups"}.isdisjoint(values)
    assert values["results"]["sensitivity"] is None and values["results"]["costs"] is not None


def test_a_step_is_a_frozen_hashable_declaration():
    """The flow makes one Prefect task per step and caches it by the step itself."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        declared.STEPS[0].key = "x"
    assert len({hash(step) for step in declared.STEPS}) == len(declared.STEPS)


def test_the_matched_sample_is_read_once_while_the_database_is_unchanged(monkeypatch, small, tmp_path):
    """The estimate and hidden bias steps used to read matched_units from disk each."""
    from evaluation.match import sample

    reads = []
    original = sample.read_matched_outcomes
    monkeypatch.setattr(sample, "read_matched_outcomes", lambda *a, **k: reads.append(k.get("table", "matched_units")) or original(*a, **k))
    run_evaluation(StudySettings(data_dir=small, out_dir=tmp_path / "o", bootstrap_resamples=100, robustness=False))
    assert reads == ["matched_units"]
    assert sample._read_stored.cache_info().currsize == 0  # nothing person-level kept after the run
