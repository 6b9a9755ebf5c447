"""The one place results.json is assembled, from the typed results of every step.

Each result serialises itself (``to_dict``); this module only decides where each goes.
The content is deterministic for the same inputs, settings and seed.
"""

from __future__ import annotations

from evaluation.checks.costs import CostResult
from evaluation.checks.e_value_power import EValueAndPower
from evaluation.checks.falsification import FalsificationResult
from evaluation.checks.hidden_bias import HiddenBias
from evaluation.checks.sensitivity import SensitivityRow
from evaluation.checks.subgroups import SubgroupResult
from evaluation.cohorts.build import MIN_PARTICIPANTS_TO_MATCH, CohortSummary
from evaluation.estimate.before_after import BeforeAfterResult
from evaluation.estimate.impact import ImpactResult
from evaluation.load.loader import LoadReport, LoadValidation
from evaluation.match.sample import MatchResult
from evaluation.report.evidence import rate_evidence
from evaluation.settings.model import StudySettings

SCHEMA_VERSION = 2

#: The results that exist only when there is a matched comparison.
MATCHED_ONLY = ("costs", "sensitivity", "hidden_bias", "e_value", "falsification", "power", "subgroups")


def not_matched_reason(cohorts: CohortSummary, minimum: int) -> str:
    n = cohorts.analysed
    return (f"{'No participant was' if n == 0 else 'Too few participants were'} analysed to build a matched "
            f"comparison group (at least {minimum} are needed; the Justice Data Lab asks for 60), "
            "so only the before/after comparison is reported, and it cannot show what the programme caused.")


def _dict(result):
    return None if result is None else result.to_dict()


def _rows(rows):
    return None if rows is None else [r.to_dict() for r in rows]


def assemble_results(
    settings: StudySettings,
    load: LoadReport,
    validate: LoadValidation,
    cohorts: CohortSummary,
    before_after: BeforeAfterResult,
    match: MatchResult | None = None,
    estimate: ImpactResult | None = None,
    costs: CostResult | None = None,
    hidden_bias: HiddenBias | None = None,
    e_value_power: EValueAndPower | None = None,
    sensitivity: list[SensitivityRow] | None = None,
    falsification: FalsificationResult | None = None,
    subgroups: list[SubgroupResult] | None = None,
) -> dict:
    """results.json's content. ``match`` and what follows it are None when the cohort is
    too small to match; the re-matching checks are None when the study skips them."""
    results = {
        "schema_version": SCHEMA_VERSION,
        "study": settings.to_dict(),
        "load": {**load.to_dict(), "reconciled": validate.reconciled, "warnings": list(validate.warnings)},
        "cohort": cohorts.to_dict(),
        "before_after": before_after.to_dict(),
    }
    if match is None or estimate is None:
        results.update(matched=None, not_matched=not_matched_reason(cohorts, MIN_PARTICIPANTS_TO_MATCH))
        results.update(dict.fromkeys(MATCHED_ONLY))
        results["evidence"] = rate_evidence(results).to_dict()
        return results
    balance = match.balance
    matched = {**estimate.to_dict(), "matching": match.to_dict()}
    matched["balance"] = {
        "max_abs_smd_before": matched["matching"]["balance"]["max_abs_smd_before"],
        "max_abs_smd_after": matched["matching"]["balance"]["max_abs_smd_after"],
        "imbalanced_after": balance.imbalanced,
        "imbalance": balance.imbalance_text(),
    }
    if balance.imbalanced:
        matched["warnings"] = [
            *matched["warnings"],
            "POOR BALANCE after matching: " + balance.imbalance_text()
            + "; the comparison group is not similar enough, and the estimate may be biased",
        ]
    results["matched"] = matched
    results["costs"] = _dict(costs)
    results["sensitivity"] = _rows(sensitivity)
    results["hidden_bias"] = _dict(hidden_bias)
    results["e_value"] = e_value_power.e_value if e_value_power else None
    results["falsification"] = _dict(falsification)
    results["power"] = e_value_power.power if e_value_power else None
    results["subgroups"] = _rows(subgroups)
    results["evidence"] = rate_evidence(results).to_dict()
    return results
