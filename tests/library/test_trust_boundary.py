"""The evidence library is a trust boundary (issue 35, finding 1): councils share it, so
every folder added is hostile ground. Each finding of the review is a test here, and a
fuzz test mutates a real partner output a hundred ways: each mutation is refused in one
line or pooled correctly, and the site builds after every step. The checks are
evaluation/library/schema.py's, reached as a library reaches them, through store.add_outputs."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from evaluation.errors import LibraryError
from evaluation.library.site import build_site
from evaluation.library.store import add_outputs, read_library, remove_evaluations
from evaluation.pipeline.runner import run_evaluation
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    """A partner output and an analyst output of the same small evaluation, and a
    person-level database made by the loader."""
    data = tmp_path_factory.mktemp("trust") / "data"
    generate(replace(SOUTHAMPTON, people=6000, participants=200), data, seed=35)
    made = {}
    for audience in ("partner", "analyst"):
        out = tmp_path_factory.mktemp(audience) / "out"
        run_evaluation(StudySettings(data_dir=data, out_dir=out, audience=audience, bootstrap_resamples=200,
                                     name="pilot", council="Testshire", programme_type="employment",
                                     robustness=False))
        made[audience] = out
    from evaluation.load.loader import load_data

    made["people_db"] = load_data(data, tmp_path_factory.mktemp("db") / "records.duckdb").db_path
    return made


def edited(source: Path, to: Path, results=None, manifest=None) -> Path:
    """A copy of an output folder with results.json and/or manifest.json changed."""
    shutil.copytree(source, to)
    for name, change in (("results.json", results), ("manifest.json", manifest)):
        if change:
            value = json.loads((to / name).read_text())
            change(value)
            (to / name).write_text(json.dumps(value))
    return to


def refused(library: Path, folder: Path, match: str) -> None:
    with pytest.raises(LibraryError, match=match) as caught:
        add_outputs(library, [folder])
    assert "\n" not in str(caught.value)  # one line


def test_an_analyst_output_with_its_audience_edited_is_refused(outputs, tmp_path):
    def partner(value):
        value["audience"] = "partner"

    forged = edited(outputs["analyst"], tmp_path / "forged", results=partner, manifest=partner)
    refused(tmp_path / "lib.duckdb", forged, "suppression: field required|not something a partner output holds")
    assert not (tmp_path / "lib.duckdb").exists()


@pytest.mark.parametrize("what, change, match", [
    ("3 analysed participants", lambda r: r["cohort"].update(participants=3), "not a count rounded"),
    ("2 offences", lambda r: r["before_after"]["by_category"][0].update(offences_after=2), "not a count rounded"),
    ("exact dates", lambda r: r["cohort"].update(index_dates=["2006-04-03", "2007-01-02"]), "index_dates"),
    ("a day in a table", lambda r: r["before_after"].update(note="started 2006-04-03"), "exact date"),
    ("rounded to base 2", lambda r: r["suppression"].update(base=2), "suppression.base"),
    ("the old suppression", lambda r: r.update(suppression={"threshold": 2, "small": "<2"}), "suppression"),
    ("a cut-off in 9999", lambda r: r["cohort"].update(data_cutoff="9999-12"), "in the future"),
    ("no cohort", lambda r: r.pop("cohort"), "cohort"),
    ("an interval from 1e-305 to 1e300", lambda r: r["matched"]["rate_ratio"].update(ci95=[1e-305, 1e300]), "ci95"),
    ("a p-value of -7", lambda r: r["matched"]["rate_ratio"].update(p_value=-7), "p_value"),
    ("a dict as programme type", lambda r: r["study"].update(programme_type={"a": 1}), "programme_type"),
    ("a list as council", lambda r: r["study"].update(council=["x"]), "council"),
    ("a 400-digit estimate", lambda r: r["matched"]["rate_ratio"].update(estimate=10 ** 400), "estimate"),
    ("a 5,000-character name", lambda r: r["study"].update(name="x" * 5000), "name"),
    ("survival curves", lambda r: r["matched"]["time_to_first_reoffence"].update(curves={}), "curves"),
])
def test_an_edited_partner_output_is_refused(outputs, tmp_path, what, change, match):
    forged = edited(outputs["partner"], tmp_path / "forged", results=change)
    refused(tmp_path / "lib.duckdb", forged, match)


def test_a_manifest_with_hashes_or_paths_is_refused(outputs, tmp_path):
    def hashes(m):
        m["inputs"][0]["sha256"] = "0" * 64

    refused(tmp_path / "lib.duckdb", edited(outputs["partner"], tmp_path / "a", manifest=hashes), "sha256|inputs")

    def path(m):
        m["data_dir"] = "/srv/police/extract"

    refused(tmp_path / "lib.duckdb", edited(outputs["partner"], tmp_path / "b", manifest=path), "data_dir")


def test_a_results_file_that_is_a_link_to_dev_zero_is_refused(outputs, tmp_path):
    folder = edited(outputs["partner"], tmp_path / "zero")
    (folder / "results.json").unlink()
    (folder / "results.json").symlink_to("/dev/zero")
    refused(tmp_path / "lib.duckdb", folder, "link")
    big = edited(outputs["partner"], tmp_path / "big")
    (big / "manifest.json").write_text(" " * (5 * 1024 * 1024) + "{}")
    refused(tmp_path / "lib.duckdb", big, "larger than")


def test_a_person_level_database_is_never_taken_for_a_library(outputs, tmp_path):
    db = tmp_path / "records.duckdb"
    shutil.copy(outputs["people_db"], db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    refused(db, outputs["partner"], "not a library file")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_adds_are_all_or_nothing_and_a_row_can_be_removed(outputs, tmp_path):
    library = tmp_path / "lib.duckdb"
    other = edited(outputs["partner"], tmp_path / "other", results=lambda r: r["study"].update(name="second"))
    bad = edited(outputs["partner"], tmp_path / "bad", results=lambda r: r["cohort"].update(participants=3))
    with pytest.raises(LibraryError):
        add_outputs(library, [outputs["partner"], other, bad])
    assert not library.exists() or read_library(library) == []
    add_outputs(library, [outputs["partner"], other])
    assert len(read_library(library)) == 2
    # private (issue 35, 4: library files were 0644 and their folders 0755)
    import stat

    assert stat.S_IMODE(library.stat().st_mode) == 0o600 and stat.S_IMODE(library.parent.stat().st_mode) == 0o700
    assert remove_evaluations(library, council="Testshire", name="second") == 1
    assert [e.name for e in read_library(library)] == ["pilot"]
    build_site(library, tmp_path / "site")


def test_two_identical_estimates_have_no_heterogeneity(outputs, tmp_path):
    from evaluation.library.pooling import pool

    library = tmp_path / "lib.duckdb"
    twin = edited(outputs["partner"], tmp_path / "twin", results=lambda r: r["study"].update(council="Otherton"))
    add_outputs(library, [outputs["partner"], twin])
    pooled = pool("employment", read_library(library))
    assert pooled.k == 2 and pooled.i2 == 0.0  # found: 112589990684262496%


# --- fuzz --------------------------------------------------------------------------------------

def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


REPLACEMENTS = [None, True, -1, 0, 3, 7, 10 ** 30, -1e308, 1e-320, 0.5, "", "x" * 10_000, "~", "<5", "2006-04-03",
                "9999-12", [], {}, [1, 2, 3], {"a": {"b": 1}}, "$\\foo{$", "=cmd|' /C calc'!A0"]


def mutate(rng: random.Random, results: dict, manifest: dict) -> tuple[dict, dict]:
    results, manifest = copy.deepcopy(results), copy.deepcopy(manifest)
    target = rng.choice([results, results, results, manifest])
    kind = rng.random()
    if kind < 0.08:
        target["audience"] = rng.choice(["analyst", "partner", None])
    elif kind < 0.14:
        results["suppression"]["base"] = rng.choice([1, 2, 3, 5, 10, "5", None])
    else:
        paths = [p for p in _paths(target) if p]
        path = rng.choice(paths)
        parent = target
        for step in path[:-1]:
            parent = parent[step]
        if rng.random() < 0.2 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = rng.choice(REPLACEMENTS)
    return results, manifest


def test_fuzz_each_mutation_is_refused_in_one_line_or_pooled_and_the_site_always_builds(outputs, tmp_path):
    rng = random.Random(35)
    results = json.loads((outputs["partner"] / "results.json").read_text())
    manifest = json.loads((outputs["partner"] / "manifest.json").read_text())
    library = tmp_path / "lib.duckdb"
    add_outputs(library, [outputs["partner"]])
    accepted = refusals = 0
    for i in range(120):
        r, m = mutate(rng, results, manifest)
        r.setdefault("study", {})
        if isinstance(r["study"], dict):
            r["study"]["name"] = f"fuzz{i}"  # each its own evaluation, so that none replaces another
        folder = tmp_path / f"f{i}"
        folder.mkdir()
        (folder / "results.json").write_text(json.dumps(r))
        (folder / "manifest.json").write_text(json.dumps(m))
        try:
            add_outputs(library, [folder])
            accepted += 1
            held = next(e for e in read_library(library) if e.name == f"fuzz{i}")
            base = r["suppression"]["base"]
            assert held.participants is None or held.participants % base == 0
            assert held.rate_ratio is None or held.ci_low <= held.rate_ratio <= held.ci_high
            assert held.data_cutoff is None or held.data_cutoff[:7] <= dt.date.today().strftime("%Y-%m")
        except LibraryError as exc:
            assert "\n" not in str(exc) and len(str(exc)) < 600, str(exc)[:300]
            refusals += 1
        shutil.rmtree(folder)
        if i % 20 == 19:  # the site builds after every twentieth step (each build takes ~0.3 s)
            site, pooled = build_site(library, tmp_path / "site")
            shown = json.loads((site / "library.json").read_text())
            assert all(isinstance(e["participants"], (int, type(None))) for e in shown["evaluations"])
            for result in pooled:
                assert result.i2 is None or 0 <= result.i2 <= 1
                assert result.rate_ratio is None or 1e-6 < result.rate_ratio < 1e6
    assert accepted > 10 and refusals > 30, (accepted, refusals)  # both outcomes are exercised


def test_the_library_table_is_made_with_store_columns_in_order_and_read_back_whole():
    """Every query of the library lives in sql/library/ (issue 36, finding 4); the table
    is made with store.COLUMNS, in order, and the one place that lists them is there (the
    insert binds a row by name, the read takes the table's columns as they are)."""
    from evaluation.db.connection import connect
    from evaluation.db.queries import run_sql
    from evaluation.library.store import COLUMNS

    con = connect(None)
    try:
        run_sql(con, "library/evaluations_table")
        assert tuple(r[0] for r in run_sql(con, "library/evaluations_columns").fetchall()) == COLUMNS
    finally:
        con.close()
