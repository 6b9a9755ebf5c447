"""The model's recall at a threshold, worked by hand, and against simulated true matches."""

from __future__ import annotations

import math

import numpy as np

from evaluation.link.accuracy import model_recall


def _level(comparison, m, u):
    return {"comparison": comparison, "m": m, "u": u}


def test_one_comparison_by_hand():
    # prior 1/2: weight log2(0.9/0.01) = 6.49 for agreement, log2(0.1/0.99) = -3.31 otherwise;
    # a probability of 0.9 needs a weight of log2(9) = 3.17: only agreement reaches it
    levels = [_level("name", 0.9, 0.01), _level("name", 0.1, 0.99)]
    assert math.isclose(model_recall(levels, 0.5, {}, 0.9), 0.9)
    # a fifth of pairs lack the value: weight 0, below 3.17
    assert math.isclose(model_recall(levels, 0.5, {"name": 0.2}, 0.9), 0.72)
    # a threshold of 0.5 needs weight 0: the nulls now pass too
    assert math.isclose(model_recall(levels, 0.5, {"name": 0.2}, 0.5), 0.92)


def test_two_comparisons_by_hand():
    # prior 0.01: weights start at log2(1/99) = -6.63; threshold 0.9 needs 3.17, so 9.80 more
    levels = [_level("a", 0.8, 0.01), _level("a", 0.2, 0.99),     # +6.32 or -2.31
              _level("b", 0.9, 0.05), _level("b", 0.1, 0.95)]     # +4.17 or -3.25
    # only both agreeing (10.49) reaches 9.80
    assert math.isclose(model_recall(levels, 0.01, {}, 0.9), 0.8 * 0.9)


def test_agrees_with_simulated_true_matches():
    rng = np.random.default_rng(4)
    m = {"a": [0.7, 0.2, 0.1], "b": [0.85, 0.1, 0.05], "c": [0.6, 0.4]}
    u = {"a": [0.01, 0.05, 0.94], "b": [0.001, 0.01, 0.989], "c": [0.3, 0.7]}
    nulls = {"a": 0.1, "b": 0.05, "c": 0.3}
    levels = [_level(c, mm, uu) for c in m for mm, uu in zip(m[c], u[c])]
    prior, threshold = 1e-4, 0.9
    n = 200_000
    weight = np.full(n, math.log2(prior / (1 - prior)))
    for c in m:
        level = rng.choice(len(m[c]), size=n, p=m[c])
        w = np.log2(np.array(m[c]) / np.array(u[c]))[level]
        weight += np.where(rng.random(n) < nulls[c], 0.0, w)
    simulated = float((weight >= math.log2(threshold / (1 - threshold))).mean())
    assert abs(model_recall(levels, prior, nulls, threshold) - simulated) < 0.005
