"""The Southampton scenario reproduces the published before/after counts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from evaluation.pipeline.runner import run_results
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate

PUBLISHED_BEFORE, PUBLISHED_AFTER, PUBLISHED_HIGH_RISK = 1863, 664, 115


def test_default_draw_matches_the_published_counts(southampton, tmp_path):
    results = run_results(StudySettings(data_dir=southampton, out_dir=tmp_path / "out", bootstrap_resamples=500))
    ba = results["before_after"]
    assert results["cohort"]["participants"] == 588
    assert results["cohort"]["excluded"] == {}
    assert ba["offences_before"] == pytest.approx(PUBLISHED_BEFORE, rel=0.03)
    assert ba["offences_after"] == pytest.approx(PUBLISHED_AFTER, rel=0.03)
    assert ba["high_risk"]["people"] == pytest.approx(PUBLISHED_HIGH_RISK, rel=0.1)
    assert 0 < ba["high_risk"]["not_reoffended"] < ba["high_risk"]["people"]
    rr = ba["rate_ratio"]
    assert rr["ci95"][0] < rr["estimate"] < rr["ci95"][1] < 1 and rr["p_value"] < 0.001
    assert ba["percent_change_ci95"][0] < ba["percent_change"] < ba["percent_change_ci95"][1]


@pytest.mark.slow
def test_calibration_holds_in_expectation_over_seeds(tmp_path):
    """The scenario is calibrated in expectation, not only for its default draw."""
    befores, afters = [], []
    for seed in range(2008, 2020):  # the seeds docs/methodology.md quotes
        data = tmp_path / f"d{seed}"
        generate(SOUTHAMPTON, data, seed=seed)
        res = run_results(StudySettings(data_dir=data, out_dir=tmp_path / f"o{seed}", bootstrap_resamples=100,
                                        robustness=False))  # only the counts are checked here: no output files
        befores.append(res["before_after"]["offences_before"])
        afters.append(res["before_after"]["offences_after"])
    assert sum(befores) / len(befores) == pytest.approx(PUBLISHED_BEFORE, rel=0.03)
    assert sum(afters) / len(afters) == pytest.approx(PUBLISHED_AFTER, rel=0.03)


def test_no_effect_still_shows_a_large_naive_fall(tmp_path):
    """Regression to the mean: with no programme effect, participants still offend far less after."""
    data = tmp_path / "null"
    generate(replace(SOUTHAMPTON, effect=0.0), data)
    ba = run_results(StudySettings(data_dir=data, out_dir=tmp_path / "o", bootstrap_resamples=200,
                                   robustness=False))["before_after"]
    assert ba["percent_change"] < -50
    assert ba["rate_ratio"]["ci95"][1] < 0.6
