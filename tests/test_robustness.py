"""E-values and power against hand-worked examples from the literature."""

from __future__ import annotations

import math

import pytest

from evaluation.robustness import (
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
