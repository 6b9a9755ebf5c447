"""Pooling evaluations of one programme type: a random-effects meta-analysis of the rate
ratio on the log scale (statsmodels' ``combine_effects`` with the Paule-Mandel
between-study variance, which Veroniki et al. 2016 recommend over DerSimonian-Laird; and
statsmodels' DerSimonian-Laird, ``method_re="chi2"``, does not truncate a negative estimate
at zero), with I² (truncated at zero, as Higgins and Thompson 2002 define it), the
prediction interval for a new setting (Higgins, Thompson and Spiegelhalter 2009) and the
library's evidence rating.

The evidence rating of a pooled result (documented in docs/methodology.md):

- **strong**: at least three studies at Maryland level 3 or above, none whose falsification
  test fired, a pooled interval that excludes no effect, and a prediction interval on the
  same side of 1;
- **moderate**: at least two studies at level 3 or above and a pooled interval that excludes
  no effect;
- **emerging**: a pooled interval that excludes no effect, from weaker or fewer studies;
- **inconclusive**: two or more studies whose pooled interval includes no effect;
- **insufficient**: fewer than two studies with an estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from evaluation.library.store import Evaluation

#: The between-study variance estimator (statsmodels' name for Paule-Mandel).
METHOD_RE = "iterated"
ALPHA = 0.05
#: A funnel plot is drawn from this many studies (fewer cannot show asymmetry).
FUNNEL_FROM = 10


@dataclass(frozen=True)
class PooledResult:
    """A random-effects pooled rate ratio for one programme type.

    Attributes
    ----------
    programme_type : the tag pooled on.
    studies : the pooled evaluations (current versions with an estimate), in order.
    rate_ratio, ci95 : the pooled rate ratio and its 95% interval (random effects).
    prediction95 : where a new setting's rate ratio would lie (None with fewer than 3 studies).
    tau2 : between-study variance of the log rate ratio; i2 : share of the variation that
        is between studies; q, q_p_value : Cochran's Q and its p-value.
    weights : each study's random-effects weight (sums to 1).
    participants : matched participants across the pooled studies.
    rating, rating_reason : the library's evidence rating (see the module's rules).
    flags : pairs of studies that may share comparison people or overlap in time.
    """

    programme_type: str
    studies: tuple[Evaluation, ...]
    rate_ratio: float | None
    ci95: tuple[float, float] | None
    prediction95: tuple[float, float] | None
    tau2: float | None
    i2: float | None
    q: float | None
    q_p_value: float | None
    weights: tuple[float, ...]
    participants: int
    rating: str
    rating_reason: str
    flags: tuple[str, ...] = field(default=())

    @property
    def k(self) -> int:
        return len(self.studies)

    @property
    def funnel(self) -> bool:
        return self.k >= FUNNEL_FROM

    def summary(self) -> str:
        if self.k < 2:
            return (f"{self.programme_type}: {self.k} evaluation with an estimate; nothing to pool yet "
                    f"(evidence: {self.rating})")
        lo, hi = self.ci95
        text = (f"{self.programme_type}: {self.k} studies, {self.participants:,} participants; pooled rate ratio "
                f"{self.rate_ratio:.2f} (95% CI {lo:.2f} to {hi:.2f})")
        if self.prediction95:
            text += f", prediction interval {self.prediction95[0]:.2f} to {self.prediction95[1]:.2f}"
        return text + f"; tau² {self.tau2:.3f}, I² {100 * self.i2:.0f}%; evidence: {self.rating}"

    def to_dict(self) -> dict:
        return {
            "programme_type": self.programme_type, "studies": self.k, "participants": self.participants,
            "rate_ratio": self.rate_ratio, "ci95": list(self.ci95) if self.ci95 else None,
            "prediction95": list(self.prediction95) if self.prediction95 else None, "tau2": self.tau2,
            "i2": self.i2, "q": self.q, "q_p_value": self.q_p_value, "rating": self.rating,
            "rating_reason": self.rating_reason, "flags": list(self.flags),
            "method": "random-effects meta-analysis of log rate ratios (statsmodels combine_effects, "
                      "Paule-Mandel tau²); prediction interval with t(k-2) (Higgins et al. 2009)",
        }


def _months_overlap(a: Evaluation, b: Evaluation) -> bool:
    if not (a.index_from and a.index_to and b.index_from and b.index_to):
        return False
    return a.index_from[:7] <= b.index_to[:7] and b.index_from[:7] <= a.index_to[:7]


def overlap_flags(studies: list[Evaluation]) -> tuple[str, ...]:
    """Studies the pooling treats as independent but may not be, in groups (each study named
    at most once per kind, so the list grows with the studies, not with their pairs): those
    of one council (their comparison groups may share people), and those whose participants
    started in periods overlapping another's of a different council (common trends)."""
    flags = []
    councils: dict[str, list[Evaluation]] = {}
    for s in studies:
        if s.council and s.council.strip():
            councils.setdefault(s.council.strip().lower(), []).append(s)
    for group in councils.values():
        if len(group) > 1:
            flags.append(f"{', '.join(s.label for s in group)}: same council, so their comparison groups may "
                         "share people")
    # every pair is compared (2,000 studies: about 2 million comparisons, a second or two),
    # but each study is named once, so the text grows with the studies, not their pairs
    overlapping = set()
    for a, b in combinations(studies, 2):
        if (a.council or "").strip().lower() != (b.council or "").strip().lower() or not a.council:
            if _months_overlap(a, b):
                overlapping.update((id(a), id(b)))
    named = [s.label for s in studies if id(s) in overlapping]
    if len(named) > 1:
        flags.append(f"{', '.join(named)}: their participants started in overlapping periods")
    return tuple(flags)


def rate(studies: list[Evaluation], ci: tuple[float, float] | None,
         prediction: tuple[float, float] | None) -> tuple[str, str]:
    """The library's evidence rating of a pooled result and why (the module's rules)."""
    if len(studies) < 2 or ci is None:
        return "insufficient", "fewer than two studies with an estimate"
    strong_design = [s for s in studies if (s.maryland or 0) >= 3]
    fired = [s for s in studies if s.falsification_fired]
    excludes = ci[1] < 1 or ci[0] > 1
    if not excludes:
        return "inconclusive", f"{len(studies)} studies; the pooled interval includes no effect"
    direction = "fewer reoffences among participants" if ci[1] < 1 else "more reoffences among participants"
    if len(strong_design) >= 3 and not fired and prediction is not None and (
            prediction[1] < 1 if ci[1] < 1 else prediction[0] > 1):
        return "strong", (f"{direction}: {len(strong_design)} studies at Maryland level 3 or above, no falsification "
                          "test fired, and the prediction interval is on the same side of no effect")
    if len(strong_design) >= 2:
        return "moderate", (f"{direction}: {len(strong_design)} studies at Maryland level 3 or above; the pooled "
                            "interval excludes no effect")
    return "emerging", (f"{direction}: the pooled interval excludes no effect, but only {len(strong_design)} of "
                        f"{len(studies)} studies are at Maryland level 3 or above")


def pool(programme_type: str, evaluations: list[Evaluation]) -> PooledResult:
    """Pool the current, estimable evaluations of one programme type."""
    studies = [e for e in evaluations if e.is_current and e.estimable]
    participants = sum(e.participants or 0 for e in studies)
    flags = overlap_flags(studies)
    if len(studies) < 2:
        rating, reason = rate(studies, None, None)
        single = studies[0] if studies else None
        return PooledResult(programme_type, tuple(studies), single.rate_ratio if single else None,
                            (single.ci_low, single.ci_high) if single else None, None, None, None, None, None,
                            (1.0,) * len(studies), participants, rating, reason, flags)
    effect = np.array([e.log_rate_ratio for e in studies])
    variance = np.array([e.se_log_rate_ratio ** 2 for e in studies])
    with np.errstate(divide="ignore", invalid="ignore"):  # identical effects: Q = 0, I² undefined (0)
        res = combine_effects(effect, variance, method_re=METHOD_RE, alpha=ALPHA)
    mu, se = float(res.mean_effect_re), float(res.sd_eff_w_re)
    lo, hi = res.conf_int(alpha=ALPHA)[1]
    tau2 = float(res.tau2)
    prediction = None
    k = len(studies)
    if k >= 3:
        half = stats.t.ppf(1 - ALPHA / 2, k - 2) * math.sqrt(tau2 + se ** 2)
        prediction = (math.exp(mu - half), math.exp(mu + half))
    ci = (math.exp(float(lo)), math.exp(float(hi)))
    q = float(res.q)
    rating, reason = rate(studies, ci, prediction)
    # Higgins and Thompson's I²: (Q - df) / Q when Q exceeds its degrees of freedom, else 0.
    # (statsmodels' res.i2 divides by a Q that is a rounding error for identical estimates:
    # two equal studies gave I² = 112589990684262496%.)
    i2 = (q - (k - 1)) / q if q > k - 1 else 0.0
    return PooledResult(programme_type, tuple(studies), math.exp(mu), ci, prediction, tau2, i2, q,
                        float(stats.chi2.sf(q, k - 1)), tuple(float(w) for w in res.weights_rel_re), participants,
                        rating, reason, flags)


def pool_library(evaluations: list[Evaluation]) -> list[PooledResult]:
    """One pooled result per programme type (untagged evaluations are not pooled)."""
    types = sorted({e.programme_type for e in evaluations if e.programme_type})
    return [pool(t, [e for e in evaluations if e.programme_type == t]) for t in types]
