"""How robust is an estimate: sensitivity to unmeasured confounding, and statistical power.

- **E-value** (VanderWeele and Ding, 2017): the minimum strength of association, on the
  risk-ratio scale, that an unmeasured confounder would need with both the programme and
  reoffending to explain away the observed rate ratio (and to move its confidence
  interval to include 1). For a ratio RR >= 1, E = RR + sqrt(RR x (RR - 1)); a ratio
  below 1 is inverted first.
- **Power for the headline** (statsmodels' normal power): for the rate ratio as it was
  estimated, a Wald test on the log scale with the estimate's own standard error (the
  structural estimate; sandwich SE clustered on matched set and person, delta method, read
  back from its interval): the smallest reduction detectable with 80% power at 5% significance, and the
  power to detect falls of 10%, 20% and 30%.
- **Power for the reoffending rate** (statsmodels): the smallest difference in the one-year
  reoffending rate the cohort could detect, by a two-sample test of proportions, and the
  number of participants needed to detect the observed difference (the Justice Data Lab's
  figure). It belongs to that test, not to the headline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats
from statsmodels.stats.power import NormalIndPower, normal_power
from statsmodels.stats.proportion import proportion_effectsize

from evaluation.estimate.significance import ALPHA, significant
from evaluation.estimate.types import clean_number


def e_value(ratio: float) -> float:
    """E-value for a risk or rate ratio (VanderWeele and Ding, 2017)."""
    if ratio <= 0 or math.isnan(ratio):
        raise ValueError("a ratio must be positive")
    rr = ratio if ratio >= 1 else 1.0 / ratio
    return rr + math.sqrt(rr * (rr - 1.0))


def e_value_for_interval(estimate: float, ci: tuple[float, float]) -> tuple[float, float]:
    """E-values for the estimate and for the interval limit closest to 1 (1 if it covers 1)."""
    lo, hi = ci
    if lo <= 1.0 <= hi:
        limit = 1.0
    else:
        limit = lo if estimate > 1 else hi
    return e_value(estimate), e_value(limit)


def minimum_detectable_difference(n_treated: int, n_comparison: int, baseline_rate: float,
                                  *, alpha: float = ALPHA, power: float = 0.8) -> float | None:
    """Smallest reduction in the reoffending rate (in proportion points) detectable from the
    comparison group's rate, two-sided, by Cohen's h and statsmodels' normal power."""
    if n_treated < 2 or n_comparison < 2 or not 0 < baseline_rate < 1:
        return None
    h = NormalIndPower().solve_power(nobs1=n_treated, alpha=alpha, power=power, ratio=n_comparison / n_treated)
    # invert Cohen's h: h = 2 asin(sqrt(p0)) - 2 asin(sqrt(p1)) for a reduction from p0 to p1
    target = 2 * math.asin(math.sqrt(baseline_rate)) - h
    if target <= 0:
        return baseline_rate
    return baseline_rate - math.sin(target / 2) ** 2


def participants_needed(treated_rate: float, comparison_rate: float, *, alpha: float = ALPHA,
                        power: float = 0.8) -> int | None:
    """Participants (with as many comparisons) needed to detect the observed difference."""
    if treated_rate == comparison_rate or not (0 < treated_rate < 1 and 0 < comparison_rate < 1):
        return None
    h = abs(proportion_effectsize(treated_rate, comparison_rate))
    return int(math.ceil(NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1.0)))


#: Falls in the offence rate the headline's power is given for.
POWER_AT = (0.10, 0.20, 0.30)
POWER = 0.8


def rate_ratio_power(estimate: float, ci95: tuple[float, float], *, alpha: float = ALPHA,
                     power: float = POWER) -> dict | None:
    """Power and the minimum detectable effect of the headline rate ratio as estimated: a
    two-sided Wald test of log(rate ratio) with the standard error its interval implies."""
    lo, hi = ci95
    if estimate is None or lo is None or hi is None or not 0 < lo < hi:
        return None
    z = stats.norm.ppf(1 - alpha / 2)
    se = (math.log(hi) - math.log(lo)) / (2 * z)
    detectable = se * (z + stats.norm.ppf(power))
    return {
        "test": "Wald test of the headline rate ratio (log scale) with its own standard error: the structural "
                "estimate, sandwich SE clustered on matched set and person",
        "standard_error_log_rate_ratio": clean_number(se),
        "minimum_detectable_rate_ratio": clean_number(math.exp(-detectable)),
        "minimum_detectable_reduction": clean_number(1 - math.exp(-detectable)),
        "power_for_reduction": {f"{round(100 * f)}%": clean_number(float(normal_power(
            abs(math.log(1 - f)) / se, 1, alpha, alternative="two-sided"))) for f in POWER_AT},
    }


@dataclass(frozen=True)
class EValueAndPower:
    """The E-value of the matched rate ratio and the cohort's power, each with its reading."""

    e_value: dict
    power: dict


def run_e_value_and_power(settings, estimate) -> EValueAndPower:
    """From the impact estimate (an ``ImpactResult``): see :func:`robustness_summary`."""
    summary = robustness_summary(estimate.to_dict())
    return EValueAndPower(summary["e_value"], summary["power"])


def robustness_summary(matched: dict) -> dict:
    """E-value of the matched rate ratio and the cohort's power, from results["matched"]."""
    rr = matched["rate_ratio"]
    if rr["estimate"] is None or None in rr["ci95"] or rr["estimate"] <= 0:
        note = "not estimable: the rate ratio has no estimate or interval (no offences in a group)"
        return {"e_value": {"estimate": None, "ci_limit": None, "reading": "E-value " + note + "."},
                "power": {"rate_ratio": None, "minimum_detectable_effect": None, "participants_needed": None,
                          "reading": "Power " + note + "."},
                "direction": None}
    point, limit = e_value_for_interval(rr["estimate"], tuple(rr["ci95"]))
    rate = matched["reoffending_rate"]
    mdd = minimum_detectable_difference(matched["treated"], matched["comparison"], rate["comparison"])
    needed = None if significant(rate["p_value"]) else participants_needed(
        rate["treated"], rate["comparison"])
    direction = "lower" if rr["estimate"] < 1 else "higher"
    headline = rate_ratio_power(rr["estimate"], tuple(rr["ci95"]))
    headline_reading = "The headline's interval is not estimable, so neither is its power." if headline is None else (
        f"For the headline rate ratio as estimated, the cohort could reliably (80% power, 5% significance) detect a "
        f"fall in the offence rate of {100 * headline['minimum_detectable_reduction']:.0f}% or more (a rate ratio of "
        f"{headline['minimum_detectable_rate_ratio']:.2f}); its power to detect a 20% fall is "
        f"{100 * headline['power_for_reduction']['20%']:.0f}%.")
    return {
        "e_value": {
            "estimate": clean_number(point),
            "ci_limit": clean_number(limit),
            "reading": (
                f"To explain away a rate ratio of {rr['estimate']:.2f}, an unmeasured difference between the "
                f"groups would need to be associated with both taking part and reoffending by a risk ratio of at "
                f"least {point:.2f} each"
                + ("; the interval already includes no effect." if limit == 1.0 else
                   f"; to make the interval include no effect, {limit:.2f}.")
            ),
        },
        "power": {
            "rate_ratio": None if headline is None else {**headline, "reading": headline_reading},
            "reoffending_rate_test": "two-sample test of proportions on the one-year reoffending rate (the Justice "
                                     "Data Lab's figure), not the headline's test",
            "minimum_detectable_effect": clean_number(mdd),
            "participants_needed": needed,
            "reading": headline_reading + " " + (
                (f"For the one-year reoffending rate (a two-sample test of proportions, the Justice Data Lab's figure), "
                 f"it could detect a fall of {100 * mdd:.0f} percentage points or more "
                 f"from the comparison group's {100 * rate['comparison']:.0f}%.") if mdd is not None else
                "The cohort is too small to compute the detectable effect."
            ) + (f" About {needed:,} participants would be needed to detect the observed difference." if needed else ""),
        },
        "direction": direction,
    }
