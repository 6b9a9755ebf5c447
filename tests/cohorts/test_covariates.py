"""Covariates the data cannot support are dropped, with their names."""

from __future__ import annotations

import polars as pl

from evaluation.cohorts.covariates import usable_covariates


def test_constant_and_missing_covariates_are_dropped():
    frame = pl.DataFrame({"a": [1, 2, 3], "b": [5, 5, 5], "c": [None, None, None], "d": [1, None, 1]})
    assert usable_covariates(frame, ("a", "b", "c", "d")) == (["a"], ["b", "c", "d"])


def test_the_constant_check_by_minimum_and_maximum_keeps_its_meaning():
    """Issue 16: numbers are tested by min == max instead of counting distinct values; a
    NaN, a flag and a text column still count as before (NaN is a value of its own)."""
    frame = pl.DataFrame({"nan": [1.0, float("nan"), 1.0], "ones": [1.0, 1.0, None], "flag": [True, True, False],
                          "text": ["x", "x", None], "two": [0.0, 1e-300, 0.0]})
    assert usable_covariates(frame, tuple(frame.columns)) == (["nan", "flag", "two"], ["ones", "text"])


def test_age_enters_the_propensity_model_with_the_bands_referral_rules_use():
    """Referral that steps at 25 cannot be followed by age and its square: participants were
    left over-represented at 21-24 after matching, and the falsification test drifted."""
    import numpy as np
    import polars as pl

    from evaluation.cohorts.covariates import design_matrix

    frame = pl.DataFrame({"age_at_index": [16, 19, 22, 24, 26, 40]})
    x, labels = design_matrix(frame, ["age_at_index"])
    assert labels == ["age_at_index", "age_at_index_squared", "age_at_index_under_18", "age_at_index_under_21",
                      "age_at_index_under_25"]
    assert x[:, 4].tolist() == [1, 1, 1, 1, 0, 0]
    # a band everybody is in (or nobody) is left out rather than made a constant column
    _, labels = design_matrix(pl.DataFrame({"age_at_index": [30, 35, 40]}), ["age_at_index"])
    assert labels == ["age_at_index", "age_at_index_squared"]
    assert np.isfinite(x).all()
