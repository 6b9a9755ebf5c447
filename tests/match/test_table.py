"""reoffend match's library function on a user's own table."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from evaluation.match.table import match_table


def test_match_table_reports_balance_and_a_json_safe_result(tmp_path):
    rng = np.random.default_rng(1)
    n = 400
    x = rng.normal(size=n)
    treat = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    y = 2.0 * treat + x + rng.normal(size=n)
    pl.DataFrame({"treat": treat, "x": x, "y": y}).write_csv(tmp_path / "t.csv")
    result = match_table(tmp_path / "t.csv", treatment="treat", covariates=["x"], outcome="y", caliper=None)
    out = json.loads(result.to_json())
    assert out["treated"] == int(treat.sum()) and out["rows_dropped_for_missing_values"] == 0
    # x raises both treatment and y: the naive difference is biased up, the matched one is not
    assert abs(out["effect"]["estimate"] - 2.0) < 0.3 and out["naive_difference"] > 2.3
    assert "matched difference in y" in result.summary()
