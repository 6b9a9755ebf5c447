"""Justice Data Lab presentation: its rounding and its wording.

Rates are shown as whole percentages and frequencies to two decimal places; p-values to
two decimal places (below 0.01 as "<0.01"). The sentences follow JDL summaries: "For 100
typical people who receive support...", "could be lower by between A and B people", and,
when a difference is not significant, the number of people that would be needed, with
the reminder that this does not mean the programme has no effect.
"""

from __future__ import annotations

from evaluation.checks.e_value_power import participants_needed
from evaluation.estimate.significance import significant as is_significant


def pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{round(100 * rate):.0f}%"


def freq(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def p_value(p: float | None) -> str:
    if p is None:
        return "n/a"
    return "<0.01" if p < 0.01 else f"{p:.2f}"


def significant(p: float | None) -> bool:
    return is_significant(p)


def rate_sentences(rate: dict, treated: int) -> list[str]:
    """The JDL paragraph on the one-year proven reoffending rate, per 100 people."""
    t, c = round(100 * rate["treated"]), round(100 * rate["comparison"])
    diff = t - c
    fewer = f"{abs(diff)} {'person' if abs(diff) == 1 else 'people'} {'fewer' if diff < 0 else 'more'}"
    lines = [
        f"For 100 typical people who receive support, the equivalent of {t} of the 100 people committed a proven "
        f"reoffence within a one-year period (a rate of {t}%), "
        + (f"{fewer} than in the comparison group ({c}%)." if diff else f"the same as in the comparison group ({c}%).")
    ]
    lo, hi = (round(-100 * v) for v in rate["ci95"][::-1])  # reduction per 100: -difference
    if significant(rate["p_value"]):
        if hi > 0 and lo > 0:
            lines.append(f"The number of people who commit a proven reoffence within one year could be lower by "
                         f"between {lo} and {hi} people for every 100 who receive support.")
        else:
            lines.append(f"The number of people who commit a proven reoffence within one year could be higher by "
                         f"between {-hi} and {-lo} people for every 100 who receive support.")
    else:
        needed = participants_needed(rate["treated"], rate["comparison"])
        need = (f" About {needed:,} people in each group would be needed to detect a difference of this size."
                if needed else "")
        lines.append(
            f"The difference in the reoffending rate is not statistically significant (p = {p_value(rate['p_value'])} "
            f"for that difference): with {treated:,} "
            f"people, the data cannot tell whether the programme changed the reoffending rate.{need} This should "
            "not be taken to mean that the programme fails to affect reoffending."
        )
    return lines
