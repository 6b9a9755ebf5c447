"""Exploratory subgroup estimates with Holm-corrected p-values.

Each subgroup is the matched sets whose participant has a characteristic (a programme,
MAPPA/PPO, sex, an age band), with their own comparisons, so the within-set comparison
is kept. The estimate is the matched rate ratio, as for the whole cohort. Subgroups are
many looks at the same data: p-values are corrected for all of them together by Holm's
step-down method (statsmodels ``multipletests``), and every subgroup result is labelled
exploratory. Subgroups with fewer than ``MIN_SUBGROUP`` participants are not estimated.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from statsmodels.stats.multitest import multipletests

from evaluation.db.connection import opened
from evaluation.db.queries import run_sql
from evaluation.estimate.impact import ImpactResult, MatchedData, headline_rate_ratio
from evaluation.estimate.types import Estimate, clean_number
from evaluation.match.sample import load_matched
from evaluation.settings.model import StudySettings

#: The estimate fields of a subgroup, sensitivity setting or falsification test that was not estimated.
NOT_ESTIMATED = {"estimate": None, "ci95": None, "p_value": None}

#: Smallest subgroup (matched participants) given an estimate.
MIN_SUBGROUP = 20

#: Groups listed in this order where it applies; others alphabetically after them.
GROUP_ORDER = {"under 25": 0, "25 to 34": 1, "35 and over": 2, "not recorded": 9}


def subset(data: MatchedData, keep_sets: np.ndarray) -> MatchedData:
    """The rows of the matched sets (subclasses) listed in ``keep_sets``."""
    rows = np.isin(data.subclass, keep_sets)
    arrays = {f.name: getattr(data, f.name)[rows] for f in fields(data)
              if isinstance(getattr(data, f.name), np.ndarray)}
    if data.intervals is not None:  # the kept comparisons' intervals, renumbered
        iv = data.intervals
        kept = rows[data.treat == 0]
        renumber = np.cumsum(kept) - 1
        keep_iv = kept[iv.group]
        parts = {f.name: getattr(iv, f.name)[keep_iv] for f in fields(iv)}
        parts["group"] = renumber[iv.group[keep_iv]]
        arrays["intervals"] = replace(iv, **parts)
        dec = data.decisions
        keep_dec = kept[dec.group]
        parts = {f.name: getattr(dec, f.name)[keep_dec] for f in fields(dec)}
        parts["group"] = renumber[dec.group[keep_dec]]
        arrays["decisions"] = replace(dec, **parts)
    return replace(data, **arrays)


@dataclass(frozen=True)
class SubgroupResult:
    dimension: str
    group: str
    participants: int
    estimate: Estimate | None
    p_value_holm: float | None
    note: str | None

    def to_dict(self) -> dict:
        e = self.estimate
        return {
            "dimension": self.dimension,
            "group": self.group,
            "participants": self.participants,
            **(NOT_ESTIMATED if e is None else e.to_dict(with_method=False)),
            "p_value_holm": clean_number(self.p_value_holm),
            "note": self.note,
        }


def subgroup_estimates(data: MatchedData, set_groups: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[SubgroupResult]:
    """Rate ratios for each subgroup, with Holm-corrected p-values across all of them.

    ``set_groups`` maps a dimension name ("programme", "sex", ...) to two aligned arrays:
    the matched sets' subclass ids and each set's group label in that dimension.
    """
    results: list[SubgroupResult] = []
    for dimension, (subclasses, labels) in set_groups.items():
        labels = np.asarray(labels, dtype=object)
        for group in sorted({str(v) for v in labels if v is not None}, key=lambda g: (GROUP_ORDER.get(g, 5), g)):
            keep = np.asarray(subclasses)[labels == group]
            n = int(keep.size)
            if n < MIN_SUBGROUP:
                results.append(SubgroupResult(dimension, group, n, None, None,
                                              f"fewer than {MIN_SUBGROUP} participants: not estimated"))
                continue
            part = subset(data, keep)
            if part.offences_after[part.treat == 1].sum() == 0 or part.offences_after[part.treat == 0].sum() == 0:
                results.append(SubgroupResult(dimension, group, n, None, None,
                                              "no reoffending in one group: a rate ratio cannot be estimated"))
                continue
            results.append(SubgroupResult(dimension, group, n, headline_rate_ratio(part), None, None))
    tested = [i for i, r in enumerate(results) if r.estimate is not None and r.estimate.p_value is not None]
    if tested:
        _, adjusted, _, _ = multipletests([results[i].estimate.p_value for i in tested], method="holm")
        for i, p in zip(tested, adjusted):
            results[i] = replace(results[i], p_value_holm=float(p))
    return results


#: Subgroup dimensions: label -> column of ``outcomes/matched_participant_groups``.
DIMENSIONS = {"programme": "programme", "MAPPA/PPO": "mappa_ppo", "sex": "sex", "age band": "age_band"}


def run_subgroups(settings: StudySettings, estimate: ImpactResult, context=None) -> list[SubgroupResult]:
    """Matched rate ratios by programme, MAPPA/PPO, sex and age band (exploratory, Holm),
    within the stored matched sets that ``estimate`` was made on."""
    data, _ = load_matched(settings, context)
    with opened(settings.db_path, read_only=True) as con:
        groups = run_sql(con, "outcomes/matched_participant_groups").pl()
    subclasses = groups["subclass"].to_numpy()
    return subgroup_estimates(data, {name: (subclasses, groups[column].to_numpy()) for name, column in DIMENSIONS.items()})
