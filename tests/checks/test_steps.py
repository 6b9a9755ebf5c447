"""The robustness and value-for-money checks in a whole evaluation, on generated data.

The placebo test moves every index date back by the after window. Its estimate should be
null when who is referred depends only on what was known before that earlier date, and it
should flag selection when referral depends on offending inside the placebo window, as the
Southampton scenario's referral after a busy year does."""

from __future__ import annotations

from dataclasses import replace

import pytest

from evaluation.pipeline.runner import run_evaluation
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate
from synthetic_data.generator import ReferralModel


def covers(interval, value):
    return interval[0] <= value <= interval[1]


@pytest.fixture(scope="module")
def demo_results(southampton, tmp_path_factory):
    out = tmp_path_factory.mktemp("checks") / "out"
    return run_evaluation(StudySettings(data_dir=southampton, out_dir=out, bootstrap_resamples=500,
                                        programme_cost_per_participant=940))


def test_placebo_is_null_on_data_with_a_real_effect(tmp_path):
    """Effect 0.25 (true rate ratio about 0.75); referral depends on age, MAPPA/PPO and the
    conviction itself but not on the count of convictions in the year before."""
    scenario = replace(SOUTHAMPTON, effect=0.25, referral=replace(ReferralModel(), prior_year_power=0.0))
    truth = generate(scenario, tmp_path / "data", seed=7).truth
    results = run_evaluation(StudySettings(data_dir=tmp_path / "data", out_dir=tmp_path / "out",
                                           bootstrap_resamples=200))
    main, placebo = results["matched"]["rate_ratio"], results["placebo"]
    assert covers(main["ci95"], truth["rate_ratio"]) and main["ci95"][1] < 1  # the real effect is found
    assert placebo["index_shift_days"] == -365
    assert covers(placebo["ci95"], 1.0) and placebo["p_value"] > 0.05  # and the placebo shows nothing
    assert 0.85 < placebo["estimate"] < 1.15
    assert "supports the comparison group" in placebo["reading"]


def test_placebo_flags_referral_on_offending_in_the_placebo_window(demo_results):
    placebo = demo_results["placebo"]
    assert placebo["ci95"][0] > 1.0  # participants offended more in the year that got them referred
    assert "selected on something their earlier history does not show" in placebo["reading"]
    # and the main estimate, which matches on that year, still covers the truth (0.896 for this draw)
    assert covers(demo_results["matched"]["rate_ratio"]["ci95"], 0.896)


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
    for expected in ("caliper 0.1 SD", "caliper 0.5 SD", "3 comparisons per participant", "with replacement",
                     "without the prior-offence detail"):
        assert expected in settings
    for row in rows:
        assert set(row) >= {"setting", "estimate", "ci95"}
        assert row["ci95"][0] <= row["estimate"] <= row["ci95"][1]


def test_rosenbaum_and_subgroups_in_results(demo_results):
    bounds = demo_results["rosenbaum_gamma"]
    assert set(bounds) >= {"estimate", "p_value_no_hidden_bias", "reading"}
    # the main estimate is not significant for this draw, so no hidden bias is needed to explain it
    assert bounds["estimate"] is None and bounds["p_value_no_hidden_bias"] > 0.05
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
    assert results["sensitivity"] is None and results["placebo"] is None and results["subgroups"] is None
    assert results["costs"]["programme_cost"] == pytest.approx(940 * results["matched"]["treated"])
    html = (out / "o" / "report.html").read_text()
    assert "Is it worth the money?" in html and "benefit-cost ratio" in html
    summary = (out / "o" / "summary.md").read_text()
    assert "cannot show that the programme saved any money" in summary  # the savings interval includes zero


def test_partner_costs_do_not_reveal_a_small_matched_count(demo_results):
    import copy

    from evaluation.report.disclosure import partner_results
    from evaluation.report.build import value_for_money

    results = copy.deepcopy(demo_results)
    counts = results["matched"]["matching"]["counts"]
    counts["no_match_within_caliper"] += counts["matched"] - 3  # pretend only 3 were matched
    counts["matched"] = results["matched"]["treated"] = 3
    view, _ = partner_results(results, 5)
    # 940 per participant is in the settings, so the total cost would give the count away: with
    # a hidden matched count the impact section and the costs built on it are withheld whole
    assert view["matched"] is None and view["costs"] is None
    assert value_for_money(view) == [] and any("withheld" in w for w in view["withheld"])
    assert partner_results(demo_results, 5)[0]["costs"]["programme_cost"] == 940 * demo_results["matched"]["treated"]


def test_evidence_rating_reads_the_placebo(demo_results):
    from evaluation.report.evidence import rate_evidence

    assert any("already differed before the programme" in r for r in demo_results["evidence"]["reasons"])
    null = {**demo_results, "placebo": {**demo_results["placebo"], "estimate": 1.0, "ci95": [0.9, 1.1]}}
    assert any("shows no difference" in r for r in rate_evidence(null).reasons)
    assert rate_evidence(null).maryland_level == rate_evidence(demo_results).maryland_level == 3


def test_placebo_that_cannot_run_says_why(southampton, tmp_path):
    """A before window so long that, a year earlier, nobody's fits in the data: the main
    evaluation runs on the latest participants and the placebo says why it could not."""
    results = run_evaluation(StudySettings(data_dir=southampton, out_dir=tmp_path / "o", before_days=2700,
                                           bootstrap_resamples=200))
    assert results["matched"]["treated"] > 0
    placebo = results["placebo"]
    assert placebo["estimate"] is None and "before window starts before the data begin" in placebo["note"]
    assert "Placebo test: not run (" in (tmp_path / "o" / "summary.md").read_text()
