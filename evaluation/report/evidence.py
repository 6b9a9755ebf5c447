"""Evidence ratings derived from what a run actually did.

Maryland Scientific Methods Scale (What Works Centre for Local Growth wording) and Nesta
Standards of Evidence (Puttick and Ludlow, 2013); see the reference notes in docs/.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MARYLAND = {
    1: "Before/after of the treated group only, no comparison group",
    2: "Comparison with adequate control variables or matching, but the groups are not shown comparable",
    3: "Before/after outcomes compared with a justified comparison group",
    4: "Quasi-random treatment",
    5: "Randomised controlled trial",
}
NESTA = {
    1: "You can describe why the work should have an impact",
    2: "Data show positive change, but cannot show the work caused it",
    3: "A control or comparison group shows causality",
    4: "Independent replication, impact delivered at reasonable cost",
    5: "Manuals and systems let others deliver it elsewhere with consistent impact",
}


@dataclass(frozen=True)
class EvidenceRating:
    maryland_level: int
    nesta_level: int
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {
            "maryland": {"level": self.maryland_level, "label": MARYLAND[self.maryland_level]},
            "nesta": {"level": self.nesta_level, "label": NESTA[self.nesta_level]},
            "reasons": list(self.reasons),
        }


def rate_evidence(results: dict) -> EvidenceRating:
    """Rate a run from its results: before/after only is level 1; a matched comparison
    group with good balance is level 3; poor balance lowers it to 2 and says why."""
    m = results.get("matched")
    if not m:
        return EvidenceRating(1, 2, ("before/after comparison of participants only: no comparison group, so "
                                     "regression to the mean cannot be separated from the programme's effect",))
    reasons = [
        "a matched comparison group of similar people who had not started the programme, measured in the same "
        "windows (difference in differences reported)",
    ]
    imbalanced = m["balance"]["imbalanced_after"]
    if imbalanced:
        reasons.append("balance after matching is poor (" + (m["balance"].get("imbalance") or ", ".join(imbalanced))
                       + "), so the groups are not shown comparable: rated level 2, not 3")
        maryland, nesta = 2, 2
    else:
        reasons.append(f"every covariate is balanced after matching (largest |SMD| "
                       f"{m['balance']['max_abs_smd_after']:.2f}, below 0.1; variance ratios within 0.5-2; "
                       "eCDF maxima within 0.15)")
        maryland, nesta = 3, 3
    reasons.append("matching can only balance what the data record; unrecorded differences (motivation, "
                   "employment, family support) may remain, which is why this is not level 4 or 5")
    check = results.get("falsification") or {}
    if check.get("estimate") is not None:
        if not check.get("fired"):
            reasons.append("the falsification test (offending in the two years before the selection year, left out of "
                           "its matching) shows no difference between the groups, as selection on the records predicts")
        else:
            reasons.append("the falsification test finds the groups differed in the two years before the selection year, "
                           "which the records matched on do not explain: something unrecorded may bias the estimate, "
                           "so it is rated level 2, not 3")
            maryland, nesta = min(maryland, 2), min(nesta, 2)
    if m["treated"] < 60:
        reasons.append("fewer matched participants than the Justice Data Lab's minimum of 60: treat the "
                       "estimate with great caution")
    if nesta == 3 and results.get("replications") is None:
        reasons.append("Nesta level 4 needs independent replication and costs, which one run cannot show")
    return EvidenceRating(maryland, nesta, tuple(reasons))
