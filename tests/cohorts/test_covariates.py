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
