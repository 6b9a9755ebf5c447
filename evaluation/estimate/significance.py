"""The one significance level of the project: two-sided 5%, with 95% intervals.

Every p-value verdict, interval and power calculation takes its level from here.
"""

from __future__ import annotations

#: Two-sided significance level.
ALPHA = 0.05
#: Confidence level of every interval reported (1 - ALPHA).
CONFIDENCE = 1 - ALPHA


def significant(p_value: float | None) -> bool:
    """Whether a two-sided p-value is significant at ALPHA (None, not estimable, is not)."""
    return p_value is not None and p_value <= ALPHA
