"""The model's own estimate of its recall: the Fellegi-Sunter model read as a model of how
the same person's two records compare.

Among true matches, a comparison (say date of birth) falls in a level with probability m
(exact 0.94, day and month swapped 0.02, ...), or is null when either record lacks the value
(as often as the two files lack it). Each level adds log2(m / u) to the match weight. So the
share of true matches whose weight reaches the threshold is a sum over every combination of
levels of the product of their probabilities: the model's recall at that threshold. It sees
the true links no blocking rule would pair, which the candidate pairs cannot show, and it
is as right as the model's m probabilities and its assumption that comparisons are
independent given a match; the tests hold it to the generator's true links.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np


def model_recall(levels: Iterable[Mapping], prior: float, null_shares: Mapping[str, float], threshold: float) -> float:
    """P(match weight >= the threshold's | a true match). ``levels``: dicts with comparison,
    m and u (null levels left out); ``null_shares``: per comparison, the share of pairs in
    which either record lacks the value."""
    by_comparison: dict[str, list[tuple[float, float]]] = {}
    for level in levels:
        by_comparison.setdefault(level["comparison"], []).append((level["m"] or 0.0, level["u"] or 0.0))
    # the weight distribution among true matches, as (probability, weight) arrays, one comparison at a time
    prob, weight = np.array([1.0]), np.array([math.log2(prior / (1 - prior))])
    for comparison, pairs in by_comparison.items():
        m = np.array([p for p, _ in pairs])
        u = np.array([q for _, q in pairs])
        usable = (m > 0) & (u > 0)
        null = float(null_shares.get(comparison, 0.0))
        level_prob = np.concatenate([[null], (1 - null) * m[usable] / m[usable].sum()])
        level_weight = np.concatenate([[0.0], np.log2(m[usable] / u[usable])])
        prob = np.outer(prob, level_prob).ravel()
        weight = np.add.outer(weight, level_weight).ravel()
    return float(prob[weight >= math.log2(threshold / (1 - threshold))].sum())
