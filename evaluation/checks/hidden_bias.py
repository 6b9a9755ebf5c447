"""Hidden bias: Rosenbaum bounds (Wilcoxon signed-rank) on the matched sets' differences,
in the direction of the estimate (see evaluation.checks.rosenbaum)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.checks.rosenbaum import RosenbaumBounds, plain_reading, rosenbaum_bounds
from evaluation.estimate.impact import ImpactResult
from evaluation.match.sample import load_matched
from evaluation.settings.model import StudySettings

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
