"""Known-truth tests with the project's generator: the matched estimate recovers the effect
the generator put in, and shows nothing when there is none, while the naive before/after
comparison shows a large fall either way."""

from __future__ import annotations

from dataclasses import replace

from evaluation.pipeline.runner import run_results
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate


def evaluate(tmp_path, effect, seed, robustness=True):
    data = tmp_path / f"data-{effect}-{seed}"
    truth = generate(replace(SOUTHAMPTON, effect=effect), data, seed=seed).truth
    results = run_results(  # the results only: no output files
        StudySettings(data_dir=data, out_dir=tmp_path / f"out-{effect}-{seed}", bootstrap_resamples=200,
                      robustness=robustness)
    )
    return results, truth


def covers(interval, value):
    return interval[0] <= value <= interval[1]


def test_no_effect_matched_ci_covers_no_effect_while_naive_falls(tmp_path):
    results, truth = evaluate(tmp_path, 0.0, seed=101)
    m = results["matched"]
    assert truth["rate_ratio"] == 1.0
    assert results["before_after"]["percent_change"] < -50  # regression to the mean alone
    assert covers(m["rate_ratio"]["ci95"], 1.0)
    assert covers(m["frequency"]["ci95"], 0.0)
    assert covers(m["reoffending_rate"]["ci95"], 0.0)
    # matching removes most of the imbalance; with 588 participants each SMD after matching
    # varies by about 0.06 from draw to draw, so one of 16 covariates crosses the 0.1 flag on
    # some draws (0.112 on this one, on the offences more than two years before), and the
    # report flags it then
    assert m["balance"]["max_abs_smd_after"] < 0.15
    assert m["balance"]["max_abs_smd_after"] <= 0.1 or m["balance"]["imbalanced_after"]
    # the comparison group's own fall shows how much of the naive fall was regression to the mean
    assert m["comparison_percent_change"] < -45


def test_real_effect_matched_ci_covers_the_truth(tmp_path):
    results, truth = evaluate(tmp_path, 0.25, seed=201)
    m = results["matched"]
    assert covers(m["rate_ratio"]["ci95"], truth["rate_ratio"])
    assert covers(m["frequency"]["ci95"], truth["frequency_difference"])
    assert covers(m["reoffending_rate"]["ci95"], truth["reoffending_rate_difference"])
    # it points the right way (whether one 588-person draw detects a 25% fall is a matter of
    # power, about 80% here: the power section reports it, and test_calibration.py tests the
    # intervals over many draws)
    assert m["rate_ratio"]["estimate"] < 1.0
