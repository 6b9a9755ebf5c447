"""Small result types shared by the statistical steps.

Each describes itself (``summary``) and turns into plain JSON values (``to_dict``), so
reports never reach into scipy or statsmodels objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from evaluation.estimate.significance import significant


def clean_number(value: float | None, digits: int = 8) -> float | None:
    """A JSON-safe float to ``digits`` significant figures (tiny p-values stay non-zero);
    NaN and infinity become None."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    return float(f"{value:.{digits}g}")


def finite(value):
    """``value`` with every non-finite float (NaN, infinity) replaced by None: JSON has no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a 95% confidence interval and a two-sided p-value."""

    estimate: float | None
    ci95: tuple[float | None, float | None]
    p_value: float | None
    method: str

    def to_dict(self, *, with_method: bool = True, with_p_value: bool = True) -> dict:
        """The estimate as JSON values; a table that states the method once (or has no
        p-value, as for a bootstrap interval of a cost) leaves those out."""
        out = {"estimate": clean_number(self.estimate), "ci95": [clean_number(self.ci95[0]), clean_number(self.ci95[1])]}
        if with_p_value:
            out["p_value"] = clean_number(self.p_value)
        return {**out, "method": self.method} if with_method else out

    @property
    def significant(self) -> bool:
        return significant(self.p_value)

    def summary(self, label: str = "estimate", fmt: str = "{:.3f}") -> str:
        if self.estimate is None:
            return f"{label}: not estimable [{self.method}]"
        p = "n/a" if self.p_value is None else (f"{self.p_value:.4f}" if self.p_value >= 0.0001 else "<0.0001")
        lo, hi = ("n/a" if v is None else fmt.format(v) for v in self.ci95)
        return f"{label}: {fmt.format(self.estimate)} (95% CI {lo} to {hi}; p = {p}) [{self.method}]"


@dataclass(frozen=True)
class TestResult:
    """A hypothesis test: its statistic and p-value."""

    statistic: float
    p_value: float
    method: str

    def to_dict(self) -> dict:
        return {"statistic": clean_number(self.statistic), "p_value": clean_number(self.p_value), "method": self.method}

    def summary(self, label: str = "test") -> str:
        return f"{label}: statistic {self.statistic:.3f}, p = {self.p_value:.4g} [{self.method}]"
