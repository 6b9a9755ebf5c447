"""The prose of an evaluation (evaluation/report/wording.py), on the stored evaluation
(tests/report/stored.py) for both audiences: every surface gives the same numbers. A
partner view with the impact withheld is in tests/report/test_disclosure.py."""

from __future__ import annotations

from evaluation.report.disclosure import partner_results
from evaluation.report.wording import cli_lines, headline, headline_markdown, rate_ratio_pct
from tests.report import stored

KEY = b"a test key that is not a real one, 0123456789abcdef"


def test_the_headline_the_command_line_and_the_artifact_give_the_same_numbers():
    results = stored.results()
    for view in (results, partner_results(results, 5, key=KEY)[0]):
        effect, (lo, hi) = rate_ratio_pct(view["matched"]["rate_ratio"])
        words = f"{abs(effect):.0f}% {'fewer' if effect < 0 else 'more'} proven offences per day at risk"
        said, lines, markdown = headline(view), "\n".join(cli_lines(view)), headline_markdown(view)
        assert words in said and words in lines
        assert f"{lo:+.0f}% to {hi:+.0f}%" in said and f"{lo:+.0f}% to {hi:+.0f}%" in lines
        assert f"{view['matched']['rate_ratio']['estimate']:.2f} (95% CI" in markdown
        change = view["before_after"]["percent_change"]
        assert f"fell {abs(change):.0f}%" in said and f"({change:.1f}%" in markdown


def test_a_difference_that_rounds_to_zero_is_written_0_never_minus_0():
    """Found reading the stored evaluation's Prefect artifact: 'Estimated difference -0 points'."""
    from evaluation.report.build import build_outputs
    from evaluation.report.wording import signed, signed_pct

    assert [signed(-0.2), signed(0.4), signed(-0.004, 2), signed(-3.6), signed(2.04, 1)] == ["0", "0", "0.00", "-4", "+2.0"]
    assert signed_pct(-0.3) == "0%" and signed_pct(-12) == "-12%"
    results = stored.results()
    assert abs(results["matched"]["reoffending_rate"]["difference"]) < 0.005  # rounds to 0 points
    files = build_outputs(results, stored.manifest(), audience="analyst", threshold=5)
    for name in ("summary.md", "report.html"):
        assert "-0 points" not in files[name] and "+0 points" not in files[name], name
    assert "| 0 points |" in headline_markdown(results) and ">0 points (" in files["report.html"]


def test_when_the_falsification_test_fires_no_output_puts_the_difference_down_to_the_programme():
    # issue 39, finding 4: the headline said "a significant difference" beside the warning
    from evaluation.report.build import build_outputs

    results = stored.results()
    quiet = headline(results)
    assert "cannot be attributed" not in quiet and "cannot be attributed" not in " ".join(cli_lines(results))
    results["falsification"] = {**results["falsification"], "fired": True, "estimate": 1.6, "p_value": 0.001}
    partner, _ = partner_results(results, 5, key=b"f" * 32)
    for view in (results, partner):
        assert "cannot be attributed to the programme" in headline(view)
        impact = next(line for line in cli_lines(view) if line.startswith("Impact:"))
        assert "cannot be attributed to the programme" in impact
    outputs = build_outputs(results, stored.manifest(), audience="partner", threshold=5)
    assert "cannot be attributed to the programme" in outputs["summary.md"]
    assert "cannot be attributed to the programme" in outputs["report.html"]


def test_a_programme_cost_in_another_years_pounds_is_warned_about_in_every_output():
    # issue 39, finding 5: about 2010 prices set against 2015/16 unit costs, without a word
    from evaluation.report.build import build_outputs
    from evaluation.report.wording import value_for_money

    results = stored.results()
    year = results["costs"]["unit_costs"]["price_year"]
    assert results["costs"]["programme_cost"] and results["study"]["programme_cost_price_year"] is None

    def warnings(view):
        return [line for line in value_for_money(view) if line.startswith("Warning")]

    assert "price year is not given" in warnings(results)[0]
    results["study"]["programme_cost_price_year"] = year
    assert warnings(results) == [] and not any("WARNING" in line for line in cli_lines(results))
    results["study"]["programme_cost_price_year"] = "2009/10"
    (said,) = warnings(results)
    assert f"in 2009/10 prices and the cost of crime in {year} prices" in said
    assert any(line.startswith("WARNING: the programme cost is in 2009/10") for line in cli_lines(results))
    for audience in ("analyst", "partner"):
        outputs = build_outputs(results, stored.manifest(), audience=audience, threshold=5)
        assert "2009/10 prices" in outputs["report.html"] and "2009/10 prices" in outputs["summary.md"]


def test_a_small_programmes_headline_is_labelled_exploratory_in_every_output():
    # issue 39, finding 3: programmes of 57-92 gave false "harmful" findings, flagged by nothing
    from evaluation.estimate.impact import EXPLORATORY_UP_TO
    from evaluation.report.build import build_outputs

    results = stored.results()
    assert "xploratory" not in headline(results) + " ".join(cli_lines(results))
    assert results["matched"]["exploratory"] is False and results["matched"]["treated"] > EXPLORATORY_UP_TO
    results["matched"]["exploratory"] = True  # as estimate_impact says of EXPLORATORY_UP_TO or fewer
    assert headline(results).startswith(f"Exploratory, with {EXPLORATORY_UP_TO} or fewer participants matched")
    assert next(line for line in cli_lines(results) if line.startswith("Impact:")).startswith("Impact: exploratory")
    partner, _ = partner_results(results, 5, key=b"e" * 32)
    assert headline(partner).startswith("Exploratory")
    for audience in ("analyst", "partner"):
        outputs = build_outputs(results, stored.manifest(), audience=audience, threshold=5)
        assert "Exploratory, with 100 or fewer" in outputs["report.html"]
        assert "Exploratory, with 100 or fewer" in outputs["summary.md"]



def test_the_exploratory_label_comes_from_the_exact_number_matched():
    # "at 60-100 participants ... labelled exploratory in every such case": 100 matched included
    # (found: a programme of exactly 100, all matched, was not labelled)
    from evaluation.estimate.impact import EXPLORATORY_UP_TO, ImpactResult

    assert EXPLORATORY_UP_TO == 100
    for treated, expected in ((60, True), (99, True), (100, True), (101, False)):
        assert ImpactResult.exploratory.fget(type("R", (), {"treated": treated})()) is expected, treated


def test_savings_that_exclude_zero_beside_a_rate_ratio_that_includes_one_are_explained():
    # issue 39, finding 5: the demo reported £420,470 saved (CI £55,323 to £786,744) beside a rate
    # ratio whose interval included no change, with the explanation only in the README
    from evaluation.report.build import build_outputs
    from evaluation.report.wording import value_for_money

    results = stored.results()
    low, high = results["matched"]["rate_ratio"]["ci95"]
    assert low < 1 < high and not results["costs"]["savings_interval_includes_zero"]
    assert any("Trust the headline" in line for line in value_for_money(results))
    for audience in ("analyst", "partner"):
        assert "Trust the headline" in build_outputs(results, stored.manifest(), audience=audience,
                                                     threshold=5)["report.html"]
    results["matched"]["rate_ratio"]["ci95"] = [0.7, 0.95]
    assert not any("Trust the headline" in line for line in value_for_money(results))


def test_the_warnings_section_does_not_repeat_the_ratings_reasons():
    # issue 39, finding 6: summary.md's Warnings repeated the rating's poor-balance and size bullets
    from evaluation.report.build import build_outputs
    from evaluation.report.evidence import rate_evidence

    results = stored.results()
    m = results["matched"]
    m["treated"] = 50
    m["warnings"] = ["fewer than 60 matched participants (the Justice Data Lab's minimum): estimates this small are "
                     "very uncertain",
                     "POOR BALANCE after matching: prior offences (|SMD| 0.15); the comparison group is not similar "
                     "enough, and the estimate may be biased",
                     "a warning the rating does not give"]
    m["balance"].update(imbalanced_after=["prior_offences_365"], imbalance="prior offences (|SMD| 0.15)")
    results["evidence"] = rate_evidence(results).to_dict()
    summary = build_outputs(results, stored.manifest(), audience="analyst", threshold=5)["summary.md"]
    section = summary[summary.index("## Warnings"):]
    assert "POOR BALANCE" not in section and "fewer than 60" not in section
    assert "a warning the rating does not give" in section
    assert "balance after matching is poor" in summary and "minimum of 60" in summary  # said once, in the rating


def test_without_referral_dates_the_report_says_the_referral_window_it_used():
    # issue 39, finding 1: the report said only that the programme may look better than it is
    from evaluation.report.build import build_outputs

    results = stored.results()
    results["cohort"]["record_measured_at"] = "start date"
    results["study"]["referral_window_days"] = 21
    for audience in ("analyst", "partner"):
        page = build_outputs(results, stored.manifest(), audience=audience, threshold=5)["report.html"]
        assert "none of a participant's own events in the 21 days before their start is used as a comparison" in page
