"""The placebo's reading is true in both directions; hidden bias tests the estimate's direction."""

from __future__ import annotations

import numpy as np

from evaluation.checks.hidden_bias import HiddenBias
from evaluation.checks.placebo import PlaceboResult, placebo_reading
from evaluation.checks.rosenbaum import rosenbaum_bounds


def test_placebo_reading_follows_its_interval():
    assert "similar to comparisons" in placebo_reading(1.02, (0.9, 1.15), 365)
    assert "offended more than" in placebo_reading(1.33, (1.23, 1.45), 365)
    assert "offended less than" in placebo_reading(0.7, (0.6, 0.8), 200) and "200 days" in placebo_reading(0.7, (0.6, 0.8), 200)


def test_a_placebo_that_could_not_run_says_why():
    out = PlaceboResult(-365, note="not run (the earlier windows fall outside the data)").to_dict()
    assert out == {"estimate": None, "ci95": None, "p_value": None,
                   "note": "not run (the earlier windows fall outside the data)", "index_shift_days": -365}


def test_hidden_bias_names_its_direction():
    differences = np.r_[np.full(40, 1.0), np.full(10, -1.0)]
    bounds = rosenbaum_bounds(differences)
    assert HiddenBias(bounds, fewer=True).to_dict()["direction"] == "fewer offences"
    assert HiddenBias(bounds, fewer=False).to_dict()["direction"] == "more offences"
    assert HiddenBias(bounds, fewer=True).to_dict()["estimate"] > 1  # a strong effect survives some hidden bias
