"""Covariates the data cannot support are dropped, with their names."""

from __future__ import annotations

import polars as pl

from evaluation.cohorts.covariates import usable_covariates


def test_constant_and_missing_covariates_are_dropped():
    frame = pl.DataFrame({"a": [1, 2, 3], "b": [5, 5, 5], "c": [None, None, None], "d": [1, None, 1]})
    assert usable_covariates(frame, ("a", "b", "c", "d")) == (["a"], ["b", "c", "d"])
