"""The robustness and value-for-money checks in a whole evaluation, on generated data.

The falsification test compares offending in the two years before the selection year,
matched without any count of them. It must stay quiet when referral depends on the
recorded history (the Southampton scenario's referral after a busy year, where the old
placebo, whose window was the selection year itself, fired on every run) and fire when an
unrecorded trait both raises referral and lowers offending."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from evaluation.pipeline.runner import run_evaluation, run_results
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate
from synthetic_data.generator import UnrecordedTrait


def covers(interval, value):
    return interval[0] <= value <= interval[1]


@pytest.fixture(scope="module")
def demo_results(southampton, tmp_path_factory):
    out = tmp_path_factory.mktemp("checks") / "out"
    return run_results(StudySettings(data_dir=southampton, out_dir=out, bootstrap_resamples=500,
                                     programme_cost_per_participant=940))


def test_falsification_is_quiet_when_referral_follows_the_records(demo_results, southampton):
    check = demo_results["falsification"]
    assert check["fired"] is False and check["p_value"] > 0.05
    assert covers(check["ci95"], 1.0) and "offended at a rate similar" in check["reading"]
    assert check["control_days"] == 730 and "prior_offences_366_730" not in check["matched_on"]
    # and the main estimate covers the truth on this draw's participants (truth.json)
    truth = json.loads((southampton / "truth.json").read_text())["rate_ratio"]
    assert covers(demo_results["matched"]["rate_ratio"]["ci95"], truth)


def test_falsification_fires_when_an_unrecorded_trait_drives_referral(tmp_path):
    """Motivation, say: 30% of people are referred 8 times as readily and offend 60% less,
    and no record shows it. Participants then offended less before selection too."""
    scenario = replace(SOUTHAMPTON, people=40_000, participants=1_500,
                       trait=UnrecordedTrait(share=0.3, referral_multiplier=8.0, offending_multiplier=0.4))
    generate(scenario, tmp_path / "data", seed=1)
    results = run_evaluation(StudySettings(data_dir=tmp_path / "data", out_dir=tmp_path / "out",
                                           bootstrap_resamples=100))
    check = results["falsification"]
    assert check["fired"] is True and check["estimate"] < 1 and check["ci95"][1] < 1
    assert "may overstate the programme's effect" in check["reading"]
    assert results["evidence"]["maryland"]["level"] <= 2
    assert any("falsification test finds" in r for r in results["evidence"]["reasons"])
    assert "Falsification test:" in (tmp_path / "out" / "summary.md").read_text()


def test_costs_agree_with_the_matched_frequency_difference(demo_results):
    m, costs = demo_results["matched"], demo_results["costs"]
    expected = -m["frequency"]["difference"] * m["treated"]  # (comparison - participant) per person x people
    assert costs["offences_avoided"]["estimate"] == pytest.approx(expected, rel=1e-6)  # 8 significant figures
    assert sum(costs["offences_avoided_by_category"].values()) == pytest.approx(expected, rel=1e-6)
    lo, hi = costs["savings"]["ci95"]
    assert lo <= costs["savings"]["estimate"] <= hi
    assert costs["programme_cost"] == 940 * m["treated"]
    assert costs["net_benefit"]["estimate"] == pytest.approx(costs["savings"]["estimate"] - costs["programme_cost"])
    assert costs["savings_interval_includes_zero"] == (lo <= 0 <= hi)


def test_sensitivity_table_covers_the_alternatives(demo_results):
    rows = demo_results["sensitivity"]
    assert rows[0]["setting"].startswith("as analysed")
    assert rows[0]["estimate"] == demo_results["matched"]["rate_ratio"]["estimate"]
    settings = [r["setting"] for r in rows]
    for expected in ("caliper 0.1 SD", "caliper 0.5 SD", "3 comparisons per participant", "without replacement",
                     "without the prior-offence detail"):
        assert expected in settings
    for row in rows:
        assert set(row) >= {"setting", "estimate", "ci95"}
        assert row["ci95"][0] <= row["estimate"] <= row["ci95"][1]


def test_rosenbaum_and_subgroups_in_results(demo_results):
    bounds = demo_results["hidden_bias"]
    assert set(bounds) >= {"estimate", "p_value_no_hidden_bias", "reading"}
    # gamma is reported exactly when the sets' differences are significant without hidden bias
    if bounds["p_value_no_hidden_bias"] > 0.05:
        assert bounds["estimate"] is None
    else:
        assert bounds["estimate"] >= 1
    subgroups = demo_results["subgroups"]
    dimensions = {r["dimension"] for r in subgroups}
    assert dimensions == {"programme", "MAPPA/PPO", "sex", "age band"}
    for dimension in dimensions:
        assert sum(r["participants"] for r in subgroups if r["dimension"] == dimension) == demo_results["matched"]["treated"]
    assert {r["group"] for r in subgroups if r["dimension"] == "programme"} == set(demo_results["cohort"]["programmes"])
    for r in subgroups:
        if r["estimate"] is not None:
            assert r["p_value_holm"] >= r["p_value"]
        else:
            assert r["note"]


def test_report_shows_the_checks(demo_results, southampton, tmp_path_factory):
    out = tmp_path_factory.mktemp("checks-report")
    results = run_evaluation(StudySettings(data_dir=southampton, out_dir=out / "o", bootstrap_resamples=200,
                                           programme_cost_total=552_720, robustness=False))
    assert results["sensitivity"] is None and results["falsification"] is None and results["subgroups"] is None
    assert results["costs"]["programme_cost"] == pytest.approx(940 * results["matched"]["treated"])
    html = (out / "o" / "report.html").read_text()
    assert "Is it worth the money?" in html and "benefit-cost ratio" in html
    summary = (out / "o" / "summary.md").read_text()
    # said exactly when the savings interval includes zero
    said = "cannot show that the programme saved any money" in summary
    savings = results["costs"]["savings"]["ci95"]
    assert said == (savings[0] <= 0 <= savings[1]) == results["costs"]["savings_interval_includes_zero"]


def test_partner_costs_do_not_reveal_a_small_matched_count(demo_results):
    import copy

    from evaluation.report.build import value_for_money
    from evaluation.report.disclosure import partner_results

    results = copy.deepcopy(demo_results)
    counts = results["matched"]["matching"]["counts"]
    counts["no_match_within_caliper"] += counts["matched"] - 3  # pretend only 3 were matched
    counts["matched"] = results["matched"]["treated"] = 3
    view, _ = partner_results(results, 5)
    # a comparison of 3 people says something about each of them: it and the costs built on it
    # are withheld whole, and the message tells the analyst what to change
    assert view["matched"] is None and view["costs"] is None
    assert value_for_money(view) == [] and any("evaluate more participants" in w for w in view["withheld"])
    # when it is shown, the programme's cost is the cost per participant times the rounded
    # matched count (940 x the exact count would give the count away)
    shown = partner_results(demo_results, 5)[0]
    assert shown["costs"]["programme_cost"] == 940 * shown["matched"]["treated"]
    assert shown["matched"]["treated"] % 5 == 0


def test_one_unmatched_participant_no_longer_withholds_the_partner_comparison(demo_results):
    """Found (issue 34, 3): the demo has one participant with no comparison within the
    caliper, and the partner view withheld the matched comparison and every check built on
    it, because 588 - 587 would give that 1 away. With every count rounded, the 1 is shown
    as a multiple of 5 and the answer is kept, with its checks and its evidence rating."""
    from evaluation.report.disclosure import partner_results

    counts = demo_results["matched"]["matching"]["counts"]
    assert counts["treated"] - counts["matched"] == counts["no_match_within_caliper"] == 1
    view, _ = partner_results(demo_results, 5)
    assert view["withheld"] == []
    assert view["matched"]["rate_ratio"]["estimate"] is not None
    assert view["falsification"]["estimate"] is not None and view["subgroups"] and view["sensitivity"]
    shown = view["matched"]["matching"]["counts"]
    assert shown["no_match_within_caliper"] in (0, 5)  # 1, rounded
    assert shown["treated"] == shown["matched"] + shown["no_match_within_caliper"] + shown["outside_common_support"]
    assert shown["treated"] == view["cohort"]["participants"]  # the same count shows the same number
    assert view["evidence"] == demo_results["evidence"]  # level 3, with its reasons


def test_a_partner_view_rates_only_what_it_shows(demo_results):
    """Found (issue 34, 4): a partner view that withheld the comparison still said "Maryland
    level 3" beside a before/after comparison the same page calls level 1."""
    import copy

    from evaluation.report.disclosure import partner_results

    results = copy.deepcopy(demo_results)
    counts = results["matched"]["matching"]["counts"]
    counts["no_match_within_caliper"] += counts["matched"] - 12
    counts["matched"] = results["matched"]["treated"] = 12
    view, _ = partner_results(results, 5)
    assert view["matched"] is None
    assert view["evidence"]["maryland"]["level"] == view["before_after"]["maryland_level"] == 1


def test_evidence_rating_reads_the_falsification(demo_results):
    from evaluation.report.evidence import rate_evidence

    assert any("shows no difference" in r for r in demo_results["evidence"]["reasons"])
    fired = {**demo_results, "falsification": {**demo_results["falsification"], "fired": True}}
    assert any("falsification test finds" in r for r in rate_evidence(fired).reasons)
    assert rate_evidence(fired).maryland_level <= 2


def test_falsification_that_cannot_run_says_why(southampton, tmp_path):
    """A before window so long that nobody has two more years of records before it: the
    main evaluation runs on the latest participants and the check says why it could not."""
    results = run_evaluation(StudySettings(data_dir=southampton, out_dir=tmp_path / "o", before_days=2700,
                                           bootstrap_resamples=200))
    assert results["matched"]["treated"] > 0
    check = results["falsification"]
    assert check["estimate"] is None and "year of records before their before window" in check["note"]
    assert "Falsification test: too few" in (tmp_path / "o" / "summary.md").read_text()


def test_the_falsification_reading_is_true_both_ways():
    from evaluation.checks.falsification import FalsificationResult, falsification_reading
    from evaluation.estimate.types import Estimate

    quiet = falsification_reading(Estimate(1.02, (0.9, 1.15), 0.7, "m"))
    fewer = falsification_reading(Estimate(0.8, (0.7, 0.9), 0.001, "m"))
    more = falsification_reading(Estimate(1.3, (1.1, 1.5), 0.002, "m"))
    assert "offended at a rate similar" in quiet and "does not rule out" in quiet
    assert "offended less" in fewer and "overstate" in fewer
    assert "offended more" in more and "understate" in more
    out = FalsificationResult(730, note="not run (nobody matched)").to_dict()
    assert out["estimate"] is None and out["note"] == "not run (nobody matched)" and out["control_days"] == 730


def test_the_demo_propensity_model_converges(demo_results):
    """With referral dates no participant's triggering event is a release, and the releases
    in the pool separated the groups: the model ran to Newton's iteration limit and was
    recorded as not converged (the report did not say so). Releases now leave the fit."""
    model = demo_results["matched"]["matching"]["propensity_model"]
    assert model["converged"] is True
    assert "index_after_release" not in model["coefficients"]
