"""The one significance level and the result types every step serialises with."""

from __future__ import annotations

import json
import math

from evaluation.estimate.significance import ALPHA, CONFIDENCE, significant
from evaluation.estimate.types import Estimate, clean_number, finite


def test_significance_is_two_sided_five_percent_inclusive():
    assert (ALPHA, CONFIDENCE) == (0.05, 0.95)
    assert significant(0.05) and significant(1e-300)
    assert not significant(0.0500001) and not significant(None)


def test_an_estimate_serialises_in_one_way_with_optional_parts():
    e = Estimate(0.9313269123, (0.768, 1.129), 0.4692599412, "Poisson GLM")
    assert e.to_dict() == {"estimate": 0.93132691, "ci95": [0.768, 1.129], "p_value": 0.46925994, "method": "Poisson GLM"}
    assert e.to_dict(with_method=False) == {"estimate": 0.93132691, "ci95": [0.768, 1.129], "p_value": 0.46925994}
    assert e.to_dict(with_method=False, with_p_value=False) == {"estimate": 0.93132691, "ci95": [0.768, 1.129]}
    assert not e.significant


def test_non_finite_numbers_become_null():
    assert clean_number(math.nan) is None and clean_number(math.inf) is None and clean_number(1e-12) == 1e-12
    assert json.dumps(finite({"a": [math.nan, 1.0], "b": -math.inf}), allow_nan=False) == '{"a": [null, 1.0], "b": null}'
