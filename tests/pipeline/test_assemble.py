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
