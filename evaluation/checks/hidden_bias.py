"""Hidden bias: Rosenbaum bounds, how much hidden bias would explain a matched difference away.

The check (the step ``hidden_bias``, results.json's ``hidden_bias``) bounds the Wilcoxon
signed-rank test on the matched sets' differences in after-window offences, in the
direction of the estimate (``run_hidden_bias``).

Within a matched pair, suppose an unmeasured difference could make one person up to
Gamma times as likely (in odds) to take part as the other. Rosenbaum (2002,
Observational Studies, chapter 4) bounds the one-sided p-value of a signed-rank test
under every such assignment; at Gamma = 1 (no hidden bias) the bound is the usual
p-value. The reported Gamma is the smallest at which the upper bound exceeds 5%: a
study whose conclusion holds to Gamma = 2 would need a hidden factor doubling the odds
of taking part, and strongly related to reoffending, to be explained away.

- Wilcoxon's signed-rank statistic, large-sample normal approximation (Rosenbaum 2002,
  section 4.3.3; the approximation R's ``rbounds::psens`` and ``DOS2::senWilcox`` use):
  zero differences are dropped, tied absolute differences share average ranks (scipy's
  ``rankdata``), and with p+ = Gamma / (1 + Gamma) the statistic T (ranks of positive
  differences) has upper-bound mean p+ x sum(ranks) and variance
  p+ (1 - p+) x sum(ranks^2). At Gamma = 1 this is scipy's ``wilcoxon`` with the normal
  approximation and no continuity correction (tested).
- The sign test (exact binomial bound, section 4.3.2), for hand-worked checks.

scipy and statsmodels have no sensitivity analysis; the tests check this module against
scipy at Gamma = 1, against hand-worked cases, and the sign test against its closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from evaluation.estimate.impact import ImpactResult
from evaluation.estimate.significance import ALPHA
from evaluation.estimate.types import clean_number
from evaluation.match.sample import load_matched
from evaluation.settings.model import StudySettings

#: The largest Gamma searched; beyond it the conclusion is reported as "more than".
MAX_GAMMA = 50.0


def _nonzero(differences: np.ndarray) -> np.ndarray:
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d)]
    return d[d != 0]


def wilcoxon_upper_p(differences: np.ndarray, gamma: float) -> float:
    """Upper bound on the one-sided p-value of Wilcoxon's signed-rank test that the
    differences are centred above zero, under hidden bias of at most ``gamma``."""
    if gamma < 1:
        raise ValueError("gamma must be at least 1")
    d = _nonzero(differences)
    if d.size == 0:
        return 1.0
    ranks = stats.rankdata(np.abs(d))
    t = ranks[d > 0].sum()
    p_plus = gamma / (1.0 + gamma)
    mean = p_plus * ranks.sum()
    var = p_plus * (1.0 - p_plus) * np.square(ranks).sum()
    return float(stats.norm.sf((t - mean) / math.sqrt(var)))


def sign_test_upper_p(differences: np.ndarray, gamma: float) -> float:
    """Upper bound on the one-sided p-value of the sign test (exact binomial)."""
    if gamma < 1:
        raise ValueError("gamma must be at least 1")
    d = _nonzero(differences)
    if d.size == 0:
        return 1.0
    positive = int((d > 0).sum())
    return float(stats.binom.sf(positive - 1, d.size, gamma / (1.0 + gamma)))


_TESTS = {"wilcoxon": wilcoxon_upper_p, "sign": sign_test_upper_p}
_TEST_NAMES = {
    "wilcoxon": "Wilcoxon signed-rank test, normal approximation (Rosenbaum 2002, section 4.3.3)",
    "sign": "sign test, exact binomial bound (Rosenbaum 2002, section 4.3.2)",
}


@dataclass(frozen=True)
class RosenbaumBounds:
    """The sensitivity of a one-sided matched-pairs test to hidden bias.

    ``gamma`` is the smallest Gamma at which the upper-bound p-value exceeds ``alpha``;
    None when the test is not significant even with no hidden bias (Gamma = 1), and
    ``MAX_GAMMA`` with ``beyond_search`` when it stays significant throughout.
    """

    gamma: float | None
    p_value_no_bias: float
    pairs: int
    nonzero_pairs: int
    alpha: float
    test: str
    beyond_search: bool

    def to_dict(self) -> dict:
        return {
            "estimate": clean_number(self.gamma, 4),
            "p_value_no_hidden_bias": clean_number(self.p_value_no_bias),
            "pairs": self.pairs,
            "pairs_with_a_difference": self.nonzero_pairs,
            "alpha": self.alpha,
            "beyond_search": self.beyond_search,
            "test": _TEST_NAMES[self.test],
        }

    def summary(self) -> str:
        if self.gamma is None:
            return (f"Rosenbaum bounds: not significant at Gamma = 1 (p = {self.p_value_no_bias:.3g}); "
                    "no hidden bias is needed to explain the difference")
        more = "more than " if self.beyond_search else ""
        return (f"Rosenbaum bounds: significant at {self.alpha:.0%} until Gamma = {more}{self.gamma:.2f} "
                f"[{_TEST_NAMES[self.test]}]")


def rosenbaum_bounds(differences: np.ndarray, *, test: str = "wilcoxon", alpha: float = ALPHA) -> RosenbaumBounds:
    """Smallest Gamma at which the one-sided test that ``differences`` (treated minus
    control in the direction of the claimed effect) are positive stops being significant."""
    if test not in _TESTS:
        raise ValueError(f"test must be one of {', '.join(_TESTS)}")
    upper = _TESTS[test]
    d = np.asarray(differences, dtype=float)
    p1 = upper(d, 1.0)
    nonzero = int(_nonzero(d).size)
    if p1 > alpha:
        return RosenbaumBounds(None, p1, d.size, nonzero, alpha, test, False)
    if upper(d, MAX_GAMMA) <= alpha:
        return RosenbaumBounds(MAX_GAMMA, p1, d.size, nonzero, alpha, test, True)
    gamma = optimize.brentq(lambda g: upper(d, g) - alpha, 1.0, MAX_GAMMA, xtol=1e-6)
    return RosenbaumBounds(float(gamma), p1, d.size, nonzero, alpha, test, False)


def plain_reading(bounds: RosenbaumBounds) -> str:
    """One line for a report."""
    if bounds.gamma is None:
        return ("Rosenbaum bounds do not apply: the matched-pairs test is not significant even assuming no "
                "hidden bias.")
    more = "more than " if bounds.beyond_search else ""
    return (f"The difference stays statistically significant unless an unmeasured factor made participants "
            f"{more}{bounds.gamma:.2f} times as likely (in odds) to take part as their matched comparisons"
            + ("; a small bias would be enough, so treat the finding with caution." if bounds.gamma < 1.5 else "."))


OUTCOME = ("offences in the after window: the participant against the mean of their matched comparisons, a "
           "comparison's offences after its own later start divided by the estimated rate ratio, as in the headline")


@dataclass(frozen=True)
class HiddenBias:
    bounds: RosenbaumBounds
    fewer: bool  # the estimate is a fall, so the bounds test "fewer offences"

    def to_dict(self) -> dict:
        return {**self.bounds.to_dict(), "direction": "fewer offences" if self.fewer else "more offences",
                "outcome": OUTCOME, "reading": plain_reading(self.bounds)}


def set_differences(settings: StudySettings, direction: float, context=None) -> np.ndarray:
    """Per matched set: (comparisons' weighted mean minus participant's) after-window offences,
    times ``direction`` (+1 when the estimate is a fall, -1 when a rise)."""
    data, _ = load_matched(settings, context)
    t = data.treat == 1
    sets, index = np.unique(data.subclass, return_inverse=True)
    offences = data.offences_after[~t].astype(float)
    fit = data.structural
    if fit is not None and fit.psi is not None:  # the comparisons' untreated offences, as the headline counts them
        on = data.offences_after_start[~t].astype(float)
        offences = offences - on + on / fit.psi
    comparison = np.bincount(index[~t], weights=data.weight[~t] * offences, minlength=sets.size)
    participant = np.bincount(index[t], weights=data.offences_after[t].astype(float), minlength=sets.size)
    return direction * (comparison - participant)


def run_hidden_bias(settings: StudySettings, estimate: ImpactResult, context=None) -> HiddenBias:
    fewer = estimate.rate_ratio.estimate is None or estimate.rate_ratio.estimate <= 1
    return HiddenBias(rosenbaum_bounds(set_differences(settings, 1.0 if fewer else -1.0, context)), fewer)
