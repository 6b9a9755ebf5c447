"""Calibration over seeds on the project's known-truth data (slow; runs in CI).

The audit's setting: selection into the programme on the recorded history only, about
1,500 participants among 40,000 people. Each run goes through load, cohorts and match as
the pipeline does, then the headline (comparisons censored at the referral decision that
led to a start, reweighted for it) and the falsification test.

What the audit found, and this guards against: with a true 30% fall, only 6 of 10 of the
old (uncensored) intervals covered the truth, its mean was 0.752 against 0.697; the old
placebo fired on every null run. What this does not yet meet (issue 15 stays open): with
common referral (5,000 participants) the censoring weights lose positivity, because the
heaviest offenders are referred almost surely and too few like them remain uncensored to
stand in for them; that case is an expected failure below.
"""

from __future__ import annotations

import dataclasses
import statistics

import pytest

from evaluation.checks.falsification import run_falsification
from evaluation.estimate.impact import estimate_impact
from evaluation.match.sample import forget_matched, load_matched
from evaluation.pipeline import steps
from evaluation.pipeline.runner import run_steps
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, UnrecordedTrait, generate

pytestmark = pytest.mark.slow

SEEDS = range(1, 11)
TRAIT = UnrecordedTrait(share=0.3, referral_multiplier=12.0, offending_multiplier=0.3)


def run(tmp_path, *, effect, seed, participants=1_500, trait=None):
    scenario = dataclasses.replace(SOUTHAMPTON, people=40_000, participants=participants, effect=effect, trait=trait)
    folder = tmp_path / f"{effect}-{participants}-{seed}-{trait is not None}"
    truth = generate(scenario, folder / "data", seed=seed).truth
    settings = StudySettings(data_dir=folder / "data", out_dir=folder / "out", work_dir=folder / "work",
                             robustness=False, seed=seed)
    run_steps(settings, steps=[s for s in steps.STEPS if s.key in ("load", "validate", "cohorts", "match")])
    data, contaminated = load_matched(settings)
    impact = estimate_impact(data, contaminated_comparisons=contaminated)
    check = run_falsification(settings)
    forget_matched()
    return truth["rate_ratio"], impact, check


def covers(estimate, value):
    return estimate.ci95[0] <= value <= estimate.ci95[1]


@pytest.fixture(scope="module")
def default_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("calibration")
    return {effect: [run(tmp, effect=effect, seed=seed) for seed in SEEDS] for effect in (0.3, 0.0)}


@pytest.mark.parametrize("effect", [0.3, 0.0])
def test_headline_intervals_cover_the_truth(default_runs, effect):
    runs = default_runs[effect]
    hits = sum(covers(impact.rate_ratio, truth) for truth, impact, _ in runs)
    assert hits >= 9, f"coverage {hits}/{len(runs)}"


def test_censoring_removes_most_of_the_contamination_bias(default_runs):
    runs = default_runs[0.3]
    corrected = statistics.mean(impact.rate_ratio.estimate - truth for truth, impact, _ in runs)
    uncorrected = statistics.mean(impact.uncorrected.rate_ratio.estimate - truth for truth, impact, _ in runs)
    assert uncorrected > 0.04  # the finding: the uncensored comparison understates a real fall
    assert abs(corrected) < 0.02, f"mean bias {corrected:+.3f} (uncorrected {uncorrected:+.3f})"


def test_no_effect_is_not_biased(default_runs):
    bias = statistics.mean(impact.rate_ratio.estimate - truth for truth, impact, _ in default_runs[0.0])
    assert abs(bias) < 0.02, f"mean bias {bias:+.3f}"


def test_falsification_is_quiet_when_selection_is_on_the_records(default_runs):
    checks = [check for _, _, check in default_runs[0.0]]  # its data do not depend on the effect
    quiet = sum(check.estimate.p_value > 0.05 for check in checks)
    assert quiet >= 9, f"quiet in {quiet}/{len(checks)}"


def test_falsification_fires_when_an_unrecorded_trait_drives_selection(tmp_path):
    runs = [run(tmp_path, effect=0.0, seed=seed, trait=TRAIT) for seed in SEEDS]
    bias = statistics.mean(impact.rate_ratio.estimate - truth for truth, impact, _ in runs)
    assert bias <= -0.08, f"the trait biases the headline by {bias:+.3f}"  # it flatters the programme
    fired = sum(check.fired and check.estimate.estimate < 1 for _, _, check in runs)
    assert fired >= 8, f"fired in {fired}/{len(runs)}"


@pytest.mark.xfail(strict=True, reason="common referral: the censoring weights lose positivity (issue 15 open)")
def test_common_referral_intervals_cover_the_truth(tmp_path):
    runs = [run(tmp_path, effect=0.3, seed=seed, participants=5_000) for seed in (1, 2, 3)]
    assert sum(covers(impact.rate_ratio, truth) for truth, impact, _ in runs) == 3
