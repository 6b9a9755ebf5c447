"""E-values and power against hand-worked examples from the literature."""

from __future__ import annotations

import math

import pytest

from evaluation.checks.e_value_power import (
    e_value,
    e_value_for_interval,
    minimum_detectable_difference,
    participants_needed,
)


def test_e_value_vanderweele_ding_example():
    # VanderWeele and Ding (2017), Ann Intern Med: RR 3.9 (95% CI 1.8 to 8.7) -> E-values 7.26 and 3.0
    point, limit = e_value_for_interval(3.9, (1.8, 8.7))
    assert point == pytest.approx(7.26, abs=0.01)
    assert limit == pytest.approx(3.0, abs=0.01)


def test_e_value_protective_ratio_is_inverted():
    # RR 0.5: invert to 2, E = 2 + sqrt(2) = 3.41
    assert e_value(0.5) == pytest.approx(2 + math.sqrt(2))
    assert e_value_for_interval(0.8, (0.6, 1.05))[1] == 1.0  # interval covers 1
    assert e_value(1.0) == 1.0


def test_minimum_detectable_difference_round_trips_with_participants_needed():
    # the smallest detectable fall from 45% with 500 per group; then that fall needs ~500 per group
    mdd = minimum_detectable_difference(500, 500, 0.45)
    assert 0.07 < mdd < 0.10
    needed = participants_needed(0.45 - mdd, 0.45)
    assert needed == pytest.approx(500, abs=2)


def test_participants_needed_hand_case():
    # Cohen's h for 0.30 vs 0.40 = 2 asin(sqrt .4) - 2 asin(sqrt .3) = 0.2102. With n in each group the
    # difference of arcsine-transformed proportions has variance 2/n, so n = 2 ((1.96 + 0.8416) / h)^2 = 356
    h = 2 * math.asin(math.sqrt(0.4)) - 2 * math.asin(math.sqrt(0.3))
    expected = math.ceil(2 * ((1.959964 + 0.841621) / h) ** 2)
    assert expected == 356
    assert participants_needed(0.30, 0.40) == expected





def test_power_for_the_headline_is_for_its_own_test_hand_worked():
    """A rate ratio of 0.8 with SE(log) 0.1: detectable at 80% power is
    exp(-(1.95996 + 0.84162) x 0.1) = 0.75566, and the power against a 20% fall is
    Phi(|log 0.8| / 0.1 - 1.95996) + Phi(-|log 0.8| / 0.1 - 1.95996) = 0.6070."""
    import math

    from evaluation.checks.e_value_power import rate_ratio_power, robustness_summary

    z = 1.959963984540054
    ci = (0.8 * math.exp(-z * 0.1), 0.8 * math.exp(z * 0.1))
    power = rate_ratio_power(0.8, ci)
    assert power["standard_error_log_rate_ratio"] == pytest.approx(0.1)
    assert power["minimum_detectable_rate_ratio"] == pytest.approx(0.755664, abs=1e-5)
    assert power["power_for_reduction"]["20%"] == pytest.approx(0.60700, abs=1e-4)
    assert "Wald test of the headline rate ratio" in power["test"]
    matched = {"rate_ratio": {"estimate": 0.8, "ci95": list(ci)}, "treated": 500, "comparison": 500,
               "reoffending_rate": {"treated": 0.3, "comparison": 0.35, "p_value": 0.09}}
    summary = robustness_summary(matched)["power"]
    assert summary["rate_ratio"]["minimum_detectable_rate_ratio"] == power["minimum_detectable_rate_ratio"]
    # the Justice Data Lab's figure stays, labelled with its own test
    assert "two-sample test of proportions" in summary["reoffending_rate_test"]
    assert "For the headline rate ratio as estimated" in summary["reading"]


def test_power_of_a_rate_ratio_that_is_not_estimable_is_said_so():
    from evaluation.checks.e_value_power import robustness_summary

    out = robustness_summary({"rate_ratio": {"estimate": None, "ci95": [None, None]}})
    assert out["power"]["rate_ratio"] is None and "not estimable" in out["power"]["reading"]
