"""results.json assembled in one place: a cohort too small to match carries every
matched-only key as null and says why."""

from __future__ import annotations

from dataclasses import replace

from evaluation.pipeline.assemble import MATCHED_ONLY
from evaluation.pipeline.runner import run_steps
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate


def test_too_small_to_match_gives_nulls_and_the_reason(tmp_path):
    data = tmp_path / "data"
    generate(replace(SOUTHAMPTON, people=2000, participants=3), data, seed=12)
    values = run_steps(StudySettings(data_dir=data, out_dir=tmp_path / "o", bootstrap_resamples=100,
                                     work_dir=tmp_path / "w"))
    results = values["results"]
    assert "match" not in values and results["matched"] is None
    assert all(results[key] is None for key in MATCHED_ONLY)
    assert "at least 10 are needed" in results["not_matched"]
    assert list(results)[:5] == ["schema_version", "study", "load", "cohort", "before_after"]


def test_every_number_in_the_stored_results_has_at_most_eight_significant_figures():
    """Found building the stored results: the overlap chart's bin edges went to results.json
    with every digit, and their last digits differ with the BLAS library's threads, so the
    same data gave different files on two machines (the README promises byte-identical)."""
    from evaluation.estimate.types import clean_number
    from tests.report import stored

    def floats(value, path=""):
        if isinstance(value, dict):
            for k, v in value.items():
                yield from floats(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from floats(v, f"{path}[{i}]")
        elif isinstance(value, float):
            yield path, value

    found = list(floats(stored.results()))
    assert len(found) > 500
    assert [(path, v) for path, v in found if clean_number(v) != v] == []


def test_the_matching_settings_are_recorded_once_in_the_study():
    """Found (issue 36, finding 5): matched.matching.settings repeated seven of study's keys."""
    from tests.report import stored

    results = stored.results()
    matching = results["matched"]["matching"]
    settings = {"caliper", "distance", "ratio", "replace", "order", "exact", "mahalanobis"}
    assert settings <= set(results["study"]) and "settings" not in matching and not settings & set(matching)
    assert results["study"]["caliper"] is None and matching["caliper_width"] is None  # the stored study has none
