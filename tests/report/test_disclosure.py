"""The partner view's thresholds at their edges (report/disclosure.py): each is kept on
one side and withheld on the other, so that a threshold moved by one (``<`` for ``<=``,
issue 36, finding 6) fails here. On the stored evaluation (tests/report/stored.py), with
one count changed."""

from __future__ import annotations

import pytest

from evaluation.report.disclosure import MIN_PARTNER_MATCHED, MIN_PARTNER_SMD, partner_results
from evaluation.report.wording import cli_lines, headline_markdown
from tests.report import stored

KEY = b"a test key that is not a real one, 0123456789abcdef"
BASE = 5


def view(results: dict) -> dict:
    return partner_results(results, BASE, key=KEY)[0]


@pytest.mark.parametrize(("matched", "shown"), [(MIN_PARTNER_MATCHED, True), (MIN_PARTNER_MATCHED - 1, False)])
def test_the_comparison_is_shown_from_the_minimum_number_matched(matched, shown):
    results = stored.results()
    results["matched"]["matching"]["counts"]["matched"] = matched
    partner = view(results)
    assert (partner["matched"] is not None) is shown
    if not shown:  # withheld, and every surface says why
        assert partner["withheld"] and partner["withheld"][0] in cli_lines(partner)
        assert "Withheld" in headline_markdown(partner)
        assert not any("not an impact estimate" in line for line in cli_lines(partner))


@pytest.mark.parametrize(("analysed", "shown"), [(MIN_PARTNER_SMD, True), (MIN_PARTNER_SMD - BASE, False)])
def test_standardised_differences_are_shown_from_the_minimum_cohort(analysed, shown):
    results = stored.results()
    results["cohort"]["participants"] = analysed  # a multiple of the base: rounding keeps it
    balance = view(results)["matched"]["matching"]["balance"]
    assert (balance["max_abs_smd_after"] is not None) is shown
    assert all((row["smd_after"] is not None) is shown for row in balance["covariates"] if row.get("smd_after") is not None
               or not shown)


@pytest.mark.parametrize(("participants", "estimated"), [(2 * BASE, True), (BASE, False)])
def test_a_subgroup_is_estimated_from_twice_the_base(participants, estimated):
    results = stored.results()
    row = next(r for r in results["subgroups"] if r["estimate"] is not None)
    row["participants"] = participants  # multiples of the base: rounding keeps them
    shown = next(r for r in view(results)["subgroups"] if (r["dimension"], r["group"]) == (row["dimension"], row["group"]))
    assert shown["participants"] == participants
    assert (shown["estimate"] is not None) is estimated


def test_the_loads_warnings_reach_partners_only_as_the_rounded_counts_give_them():
    """Found in review: the load's warnings went to partners as the analyst has them, with the
    exact share rejected and, since this stop's reasons by kind, exact row counts by reason
    ("sex '...' is not one of M, F, U (3 rows)")."""
    results = stored.results()
    people = results["load"]["tables"]["people"]
    people.update(read=40, loaded=37, rejected=3)
    results["load"]["warnings"] = ["people: 8% of the rows read were rejected (over 5%), most for: sex '...' is "
                                   "not one of M, F, U (3 rows); rerun with --keep-work"]
    partner = view(results)
    shown = partner["load"]["tables"]["people"]
    assert "3 rows" not in str(partner) and "8%" not in str(partner["load"]["warnings"])
    expected = [f"people: {shown['rejected'] / shown['read']:.0%} of the rows read were rejected (over 5%); "
                "the analyst has the reasons"] if shown["rejected"] / shown["read"] > 0.05 else []
    assert [w for w in partner["load"]["warnings"] if w.startswith("people")] == expected
