"""What a caliper is, in one place: a positive, finite number of standard deviations of the
distance, or none (no caliper, MatchIt's default). The study settings, the command line's
``reoffend match --caliper`` and :class:`~evaluation.match.matcher.PropensityMatcher` all
check it here, so they accept and refuse the same values in the same words."""

from __future__ import annotations

import math

from evaluation.errors import SettingsError


def check_caliper(value) -> float | None:
    """``value`` as a caliper (a float, or None for "none"), or a one-line SettingsError."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return None
    if isinstance(value, bool):
        raise SettingsError(f"caliper {value!r} is not a number of standard deviations or 'none'")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingsError(f"caliper {value!r} is not a number of standard deviations or 'none'") from None
    if not math.isfinite(number) or number <= 0:
        raise SettingsError(f"caliper {value!r} must be a positive number of standard deviations, or 'none'")
    return number
