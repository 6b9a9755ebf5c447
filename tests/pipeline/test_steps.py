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
    seen = {"started", "context"}  # given by the runner, not a step
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
    monkeypatch.setattr(sample, "read_matched_outcomes",
                        lambda *a, **k: reads.append(k.get("table", "matched_units")) or original(*a, **k))
    run_evaluation(StudySettings(data_dir=small, out_dir=tmp_path / "o", bootstrap_resamples=100, robustness=False))
    assert reads == ["matched_units"]
    # nothing person-level is kept in a module after the run (issue 36: there were caches here)
    assert not [name for name, value in vars(sample).items() if isinstance(value, dict) and name.isupper()]


def test_no_module_holds_person_level_data_between_steps(small, tmp_path):
    """Found (issue 36, 1): person-level data passed between steps through module-level
    caches (``_MATCH_INPUTS`` and the cached ``_read_stored`` in match/sample.py), shared by
    every evaluation in the process. After the match and the estimate, no module of the
    library holds a frame or a cache; the run's context does, and says so in the steps'
    declarations."""
    import functools
    import inspect
    import sys

    import polars as pl

    settings = StudySettings(data_dir=small, out_dir=tmp_path / "o", bootstrap_resamples=100)
    values = run_steps(settings, steps=[s for s in declared.STEPS
                                        if s.key in ("load", "validate", "cohorts", "match", "estimate")])
    assert values["context"].match_frame is not None and values["context"].matched is not None

    def holds_data(value, depth=0) -> bool:
        if isinstance(value, pl.DataFrame):
            return True
        if isinstance(value, functools._lru_cache_wrapper):  # caches of code, not data: SQL text, Prefect tasks
            return value.__name__ not in ("read_sql", "task_for") and value.cache_info().currsize > 0
        if depth < 3 and isinstance(value, dict):
            return any(holds_data(v, depth + 1) for v in value.values())
        if depth < 3 and isinstance(value, tuple):
            return any(holds_data(v, depth + 1) for v in value)
        return False

    found = [f"{name}.{attr}" for name, module in list(sys.modules.items())
             if name.startswith(("evaluation.", "flows.")) and module is not None
             for attr, value in vars(module).items() if not inspect.ismodule(value) and holds_data(value)]
    assert found == []
    for step in declared.STEPS:  # and every step that takes the context declares it
        assert ("context" in inspect.signature(step.run).parameters) == ("context" in step.needs), step.key


def test_two_evaluations_interleaved_in_one_process_give_what_each_gives_alone(small, tmp_path):
    """Two evaluations in one process, their steps interleaved as a batch would run them,
    each give the results they give alone."""
    import json
    from dataclasses import replace as change

    from evaluation.pipeline.runner import evaluation_session

    other = generate(change(SOUTHAMPTON, people=5000, participants=150), tmp_path / "other", seed=9).out_dir
    settings = {name: StudySettings(data_dir=data, out_dir=tmp_path / name, bootstrap_resamples=100, name=name)
                for name, data in (("a", small), ("b", other))}
    alone = {name: json.dumps(run_evaluation(s), sort_keys=True) for name, s in settings.items()}
    first = [s for s in declared.STEPS if s.key in ("load", "validate", "cohorts", "before_after", "match")]
    rest = [s for s in declared.STEPS if s not in first]
    together = {}
    with evaluation_session(settings["a"]) as context_a:
        started = run_steps(settings["a"], steps=first, context=context_a)
        together["b"] = json.dumps(run_evaluation(settings["b"]), sort_keys=True)  # all of b in between
        values = dict(started)
        for step in rest:  # then the rest of a, with what its own steps left
            if step.when(settings["a"], values):
                values[step.key] = step.run(settings["a"], **{n: values.get(n) for n in step.needs})
        together["a"] = json.dumps(values["results"], sort_keys=True)
    assert together == alone


def test_every_table_a_step_reads_is_written_by_an_earlier_step():
    """Found (issue 36, 2): what a step reads and writes in the database was written only in
    docs/architecture.md, and nothing checked it."""
    written: set[str] = set()
    for step in declared.STEPS:
        assert set(step.reads) <= written, (step.key, sorted(set(step.reads) - written))
        assert not set(step.writes) & written, (step.key, "writes a table an earlier step wrote")
        written |= set(step.writes)


def test_a_run_creates_exactly_the_tables_each_step_declares(small, tmp_path):
    import duckdb

    from evaluation.files.workspace import make_work
    from evaluation.pipeline.context import RunContext

    settings = StudySettings(data_dir=small, out_dir=tmp_path / "o", bootstrap_resamples=100)
    make_work(settings.work_path)

    def tables() -> set[str]:
        if not settings.db_path.exists():
            return set()
        with duckdb.connect(str(settings.db_path), read_only=True) as con:
            return {row[0] for row in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}

    values = {"started": "2026-01-01T00:00:00+00:00", "context": RunContext()}
    ran = []
    for step in declared.STEPS:
        if step.key == "library" or not step.when(settings, values):
            continue
        before = tables()
        values[step.key] = step.run(settings, **{need: values.get(need) for need in step.needs})
        assert tables() - before == set(step.writes), step.key
        assert set(step.reads) <= before, step.key
        ran.append(step.key)
    assert "subgroups" in ran and "match" in ran


def test_the_architecture_doc_lists_the_tables_each_step_writes():
    """docs/architecture.md's step table is checked against the declarations."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([a-z_]+)` \|(.*)$", doc, re.M)}
    for step in declared.STEPS:
        assert step.key in rows, f"docs/architecture.md has no row for the step {step.key}"
        cells = rows[step.key].split("|")
        writes_cell = cells[3] if len(cells) > 3 else ""
        named = set(re.findall(r"`([a-z_]+)`", writes_cell))
        assert named == set(step.writes), (step.key, sorted(named), sorted(step.writes))


def test_importing_the_package_loads_no_data_stack():
    """Found (issue 36, 7): ``import evaluation`` imported the loader eagerly (polars,
    pyarrow; 0.9 s), so every ``reoffend`` command, --help included, paid for it."""
    import subprocess
    import sys

    probe = ("import sys, evaluation; "
             "print(sorted(m for m in ('polars', 'pyarrow', 'duckdb', 'evaluation.load.loader') if m in sys.modules)); "
             "from evaluation import load_data; print(load_data.__module__)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "evaluation.load.loader"


def test_the_end_of_the_run_is_done_once(small, tmp_path, monkeypatch):
    """Found (issue 36, 5): the partner view was computed up to 4 times, the whole partner
    report rendered only to read two files back for the library, the manifest written then
    read back. A partner run with a library makes the partner view once and renders one report."""
    from evaluation.library.update import update_library as real_update
    from evaluation.report import build, disclosure

    made, rendered = [], []
    real_view, real_build = disclosure.partner_results, build.build_outputs
    monkeypatch.setattr(disclosure, "partner_results", lambda *a, **k: made.append(1) or real_view(*a, **k))
    monkeypatch.setattr(build, "partner_results", disclosure.partner_results)
    monkeypatch.setattr(declared, "build_outputs", lambda *a, **k: rendered.append(1) or real_build(*a, **k))
    import evaluation.library.update as update

    monkeypatch.setattr(update, "partner_results", disclosure.partner_results)
    settings = StudySettings(data_dir=small, out_dir=tmp_path / "o", bootstrap_resamples=100, robustness=False,
                             audience="partner", council="X", programme_type="employment",
                             library=tmp_path / "lib" / "library.duckdb")
    run_evaluation(settings)
    assert made == [1] and rendered == [1] and real_update is update.update_library


def test_run_results_gives_what_run_evaluation_returns_and_writes_no_output(small, tmp_path):
    """run_results: the steps up to the assembled results, without the write and library steps."""
    from evaluation.pipeline.runner import run_results

    settings = StudySettings(data_dir=small, out_dir=tmp_path / "a", bootstrap_resamples=100, name="same")
    assert run_results(settings) == run_evaluation(settings.updated(out_dir=tmp_path / "b"))
    assert not (tmp_path / "a").exists() and (tmp_path / "b" / "results.json").is_file()
