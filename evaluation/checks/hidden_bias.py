"""Hidden bias: Rosenbaum bounds (Wilcoxon signed-rank) on the matched sets' differences,
in the direction of the estimate (see evaluation.checks.rosenbaum)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.checks.rosenbaum import RosenbaumBounds, plain_reading, rosenbaum_bounds
from evaluation.estimate.impact import ImpactResult
from evaluation.match.sample import load_matched
from evaluation.settings.model import StudySettings

OUTCOME = ("offences in the after window: the participant against the mean of their matched comparisons, each "
           "comparison's offences counted until it started the programme and weighted for that censoring")


@dataclass(frozen=True)
class HiddenBias:
    bounds: RosenbaumBounds
    fewer: bool  # the estimate is a fall, so the bounds test "fewer offences"

    def to_dict(self) -> dict:
        return {**self.bounds.to_dict(), "direction": "fewer offences" if self.fewer else "more offences",
                "outcome": OUTCOME, "reading": plain_reading(self.bounds)}


def set_differences(settings: StudySettings, direction: float) -> np.ndarray:
    """Per matched set: (comparisons' weighted mean minus participant's) after-window offences,
    times ``direction`` (+1 when the estimate is a fall, -1 when a rise)."""
    data, _ = load_matched(settings)
    t = data.treat == 1
    sets, index = np.unique(data.subclass, return_inverse=True)
    offences = data.offences_after[~t].astype(float)
    if data.intervals is not None:  # the censored comparisons' weighted offences, as the headline counts them
        w = data.censoring.weight
        offences = np.bincount(data.intervals.group, weights=w * data.intervals.offences, minlength=len(offences))
    comparison = np.bincount(index[~t], weights=data.weight[~t] * offences, minlength=sets.size)
    participant = np.bincount(index[t], weights=data.offences_after[t].astype(float), minlength=sets.size)
    return direction * (comparison - participant)


def run_hidden_bias(settings: StudySettings, estimate: ImpactResult) -> HiddenBias:
    fewer = estimate.rate_ratio.estimate is None or estimate.rate_ratio.estimate <= 1
    return HiddenBias(rosenbaum_bounds(set_differences(settings, 1.0 if fewer else -1.0)), fewer)
