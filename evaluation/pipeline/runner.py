"""The evaluation's steps as plain functions over a study's settings.

Each step reads and writes named tables in the study's working database (person-level
data stay in the work folder) and returns small aggregate results. The Prefect flow in
``flows/`` calls these one task per step; :func:`run_evaluation` calls them in order
without Prefect.
"""

from __future__ import annotations

import datetime as dt

from collections.abc import Callable
from pathlib import Path

from evaluation.cohorts import build as cohorts

from evaluation.checks import steps as robustness_steps
from evaluation.estimate.before_after import evaluate_before_after
from evaluation.db.connection import opened
from evaluation.errors import ReoffendError
from evaluation.estimate.impact import estimate_impact
from evaluation.report.evidence import rate_evidence
from evaluation.load.loader import LoadReport, load_data
from evaluation.provenance.manifest import build_manifest
from evaluation.match.sample import fit_matches, load_matched
from evaluation.report.disclosure import partner_results
from evaluation.files.output_folder import check_output_folder, write_outputs
from evaluation.files.workspace import remove_work, run_lock
from evaluation.checks.e_value_power import robustness_summary
from evaluation.report.build import build_outputs
from evaluation.estimate.types import clean_number
from evaluation.settings.model import StudySettings
from evaluation.db.queries import run_sql

Progress = Callable[[str], None]

SCHEMA_VERSION = 1


def load_step(settings: StudySettings, progress: Progress | None = None) -> LoadReport:
    """Load and validate the study's data folder into its working database."""
    return load_data(settings.data_dir, settings.db_path, cutoff=settings.cutoff, progress=progress)


#: A table with more than this share of rows rejected gets a warning.
REJECT_WARNING_SHARE = 0.05


def load_warnings(load: dict) -> list[str]:
    """A warning for each table with more than 5% of its rows rejected."""
    warnings = []
    for name, counts in load["tables"].items():
        if counts["read"] and counts["rejected"] / counts["read"] > REJECT_WARNING_SHARE:
            warnings.append(f"{name}: {counts['rejected'] / counts['read']:.0%} of the rows read were rejected "
                            "(over 5%); rerun with --keep-work and see rejects.csv in the work folder")
    return warnings


def validate_step(settings: StudySettings, load_report: dict) -> dict:
    """Check the load reconciled for every table, and warn when many rows were rejected."""
    for name, counts in load_report["tables"].items():
        if counts["read"] != counts["loaded"] + counts["rejected"]:
            raise ReoffendError(f"{name}: {counts['read']} rows read but {counts['loaded']} loaded "
                                f"and {counts['rejected']} rejected")
    return {"reconciled": True, "warnings": load_warnings(load_report)}


def cohort_step(settings: StudySettings) -> cohorts.CohortSummary:
    """Build the participant cohort and per-person outcomes in the working database."""
    with opened(settings.db_path) as con:
        return cohorts.build_cohorts(con, settings)


def before_after_step(settings: StudySettings) -> dict:
    """The before/after evaluation of the analysed participants (aggregates only)."""
    with opened(settings.db_path, read_only=True) as con:
        outcomes = cohorts.participant_outcomes(con)
        categories = cohorts.category_counts(con)
    result = evaluate_before_after(
        outcomes, categories, seed=settings.seed, n_resamples=settings.bootstrap_resamples
    )
    return result.to_dict()


def match_step(settings: StudySettings) -> dict:
    """Fit the propensity model, match, and store the matched sets as ``matched_units``."""
    with opened(settings.db_path) as con:
        frame = cohorts.unit_covariates(con)
        matcher, used, dropped, rows = fit_matches(frame, settings)
        con.register("matcher_output", rows)
        run_sql(con, "outcomes/matched_units")
        con.unregister("matcher_output")
    balance = matcher.balance_.to_dict()
    return {
        "covariates": used,
        "covariates_dropped": dropped,
        "settings": {
            "caliper": settings.caliper,
            "caliper_width": clean_number(matcher.caliper_width_),
            "distance": settings.distance,
            "ratio": settings.ratio,
            "replace": settings.replace,
            "order": settings.order,
            "exact": list(settings.exact),
            "mahalanobis": list(settings.mahalanobis),
        },
        "counts": matcher.counts_.to_dict(),
        "propensity_model": {
            "method": "logistic regression (statsmodels Logit)",
            "coefficients": {k: clean_number(v) for k, v in matcher.coef_.items()},
            "converged": matcher.converged_,
        },
        "balance": balance,
    }


def estimate_step(settings: StudySettings) -> dict:
    """The Justice Data Lab's measures on the matched sample (aggregates only)."""
    data, contaminated = load_matched(settings)
    impact = estimate_impact(data).to_dict()
    impact["contaminated_comparisons"] = contaminated
    return impact


def checks_step(settings: StudySettings, cohort: dict, impact: dict, progress: Progress | None = None) -> dict:
    """Value for money, hidden bias and (when ``settings.robustness``) the sensitivity
    table, placebo test and subgroups; each re-matching check in turn."""
    say = progress or (lambda _m: None)
    say("value for money and hidden bias")
    checks = {
        "costs": robustness_steps.costs_step(settings, cohort["submitted"]),
        "rosenbaum_gamma": robustness_steps.hidden_bias_step(settings, impact),
    }
    if settings.robustness:
        say("sensitivity table: re-matching under other settings")
        checks["sensitivity"] = robustness_steps.sensitivity_step(settings, impact)
        say("placebo test: index dates moved back by the after window")
        checks["placebo"] = robustness_steps.placebo_step(settings)
        say("subgroups")
        checks["subgroups"] = robustness_steps.subgroup_step(settings)
    return checks


#: Fewer analysed participants than this are too few to build a matched comparison group:
#: the evaluation then reports before/after only, and says why.
MIN_PARTICIPANTS_TO_MATCH = 10


def can_match(cohort: dict) -> bool:
    """Whether the cohort is big enough for the matched comparison (see MIN_PARTICIPANTS_TO_MATCH)."""
    return cohort["participants"] >= MIN_PARTICIPANTS_TO_MATCH


def not_matched_reason(cohort: dict) -> str:
    n = cohort["participants"]
    return (f"{'No participant was' if n == 0 else 'Too few participants were'} analysed to build a matched "
            f"comparison group (at least {MIN_PARTICIPANTS_TO_MATCH} are needed; the Justice Data Lab asks for 60), "
            "so only the before/after comparison is reported, and it cannot show what the programme caused.")


def assemble_results(
    settings: StudySettings,
    load: dict,
    cohort: dict,
    before_after: dict,
    match: dict | None,
    impact: dict | None,
    checks: dict | None = None,
) -> dict:
    """results.json's content: deterministic for the same inputs, settings and seed.

    ``checks`` holds the robustness and value-for-money results (:func:`checks_step`).
    ``match`` and ``impact`` are None when the cohort is too small to match."""
    base = {
        "schema_version": SCHEMA_VERSION,
        "study": settings.to_dict(),
        "load": {**load, "reconciled": all(c["read"] == c["loaded"] + c["rejected"] for c in load["tables"].values()),
                 "warnings": load_warnings(load)},
        "cohort": cohort,
        "before_after": before_after,
    }
    if match is None or impact is None:
        results = {**base, "matched": None, "not_matched": not_matched_reason(cohort)}
        for key in ("costs", "sensitivity", "rosenbaum_gamma", "e_value", "placebo", "power", "subgroups"):
            results[key] = None
        results["evidence"] = rate_evidence(results).to_dict()
        return results
    matched = {**impact, "matching": match}
    matched["balance"] = {
        "max_abs_smd_before": match["balance"]["max_abs_smd_before"],
        "max_abs_smd_after": match["balance"]["max_abs_smd_after"],
        "imbalanced_after": match["balance"]["imbalanced_after"],
    }
    if match["balance"]["imbalanced_after"]:
        matched["warnings"] = [
            *matched["warnings"],
            "POOR BALANCE: after matching, |SMD| > 0.1 for " + ", ".join(match["balance"]["imbalanced_after"])
            + "; the comparison group is not similar enough, and the estimate may be biased",
        ]
    results = {**base, "matched": matched}
    robustness = robustness_summary(matched)
    checks = checks or {}
    results["costs"] = checks.get("costs")
    results["sensitivity"] = checks.get("sensitivity")
    results["rosenbaum_gamma"] = checks.get("rosenbaum_gamma")
    results["e_value"] = robustness["e_value"]
    results["placebo"] = checks.get("placebo")
    results["power"] = robustness["power"]
    results["subgroups"] = checks.get("subgroups")
    results["evidence"] = rate_evidence(results).to_dict()
    return results


def audience_view(settings: StudySettings, results: dict) -> dict:
    """What the study's audience may see of the results (the partner view is disclosure-controlled)."""
    if settings.audience == "partner":
        return partner_results(results, settings.suppression_threshold)[0]
    return results


def write_step(settings: StudySettings, results: dict, *, started: str) -> Path:
    """Write every output for the study's audience as the whole output folder, atomically."""
    manifest = build_manifest(settings, results, started=started)
    files = build_outputs(results, manifest, audience=settings.audience, threshold=settings.suppression_threshold)
    return write_outputs(settings.out_dir, files, data_dir=settings.data_dir)


def headline_markdown(results: dict) -> str:
    """The headline and a Justice Data Lab style table, in markdown (aggregates only). Takes
    the audience's view: in a partner view counts may be suppression markers."""
    from evaluation.report.build import _num, _signed_pct

    ba, m = results["before_after"], results.get("matched")
    change = ba["percent_change"]
    lines = [
        f"# {results['study']['name']}: reoffending evaluation",
        "",
        f"- **Before/after (no comparison group):** {_num(ba['participants'])} participants, "
        f"{_num(ba['offences_before'])} offences in the year before and {_num(ba['offences_after'])} in the year "
        f"after ({_signed_pct(change) if isinstance(change, str) else f'{change:+.1f}%'}).",
    ]
    for note in results.get("withheld") or []:
        lines.append(f"- **Withheld:** {note}")
    if not m:
        return "\n".join(lines) + "\n"
    lines += [
        f"- **Matched comparison group:** offending fell {-m['comparison_percent_change']:.1f}% without the programme.",
        f"- **Impact (rate ratio, participants vs comparison):** {m['rate_ratio']['estimate']:.2f} "
        f"(95% CI {m['rate_ratio']['ci95'][0]:.2f} to {m['rate_ratio']['ci95'][1]:.2f}, "
        f"p = {m['rate_ratio']['p_value']:.3g}).",
        "",
        "| Measure | Number in treatment group | Number in comparison group | Treatment rate | Comparison rate "
        "| Estimated difference | Significant difference? | p-value |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, key, fmt in (("One-year proven reoffending rate", "reoffending_rate", "pct"),
                            ("Proven reoffences per person", "frequency", "num")):
        r = m[key]
        show = (lambda v: f"{100 * v:.0f}%") if fmt == "pct" else (lambda v: f"{v:.2f}")
        diff = (lambda v: f"{100 * v:+.0f} points") if fmt == "pct" else (lambda v: f"{v:+.2f}")
        sig = "Yes" if r["p_value"] is not None and r["p_value"] <= 0.05 else "No"
        lines.append(f"| {label} | {_num(m['treated'])} | {_num(m['comparison'])} | {show(r['treated'])} | "
                     f"{show(r['comparison'])} | {diff(r['difference'])} | {sig} | {r['p_value']:.2f} |")
    for warning in m.get("warnings", []):
        lines += ["", f"**Warning:** {warning}"]
    return "\n".join(lines) + "\n"


def run_evaluation(settings: StudySettings, progress: Progress | None = None) -> dict:
    """Run every step in order without Prefect and write the outputs; return the results."""
    check_output_folder(settings.out_dir, data_dir=settings.data_dir)
    with run_lock(settings.out_dir):
        try:
            return _run_steps(settings, progress)
        finally:
            if not settings.keep_work:
                remove_work(settings.work_path)


def _run_steps(settings: StudySettings, progress: Progress | None) -> dict:
    say = progress or (lambda _m: None)
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    load = load_step(settings, progress).to_dict()
    validate_step(settings, load)
    say("building the participant cohort and comparison pool")
    cohort = cohort_step(settings)
    say(f"cohort: {cohort.analysed:,} analysed of {cohort.submitted:,} submitted; "
        f"{cohort.candidates:,} comparison candidates")
    say("before/after statistics")
    before_after = before_after_step(settings)
    cohort_dict = cohort.to_dict()
    if not can_match(cohort_dict):
        say(not_matched_reason(cohort_dict))
        results = assemble_results(settings, load, cohort_dict, before_after, None, None)
        write_step(settings, results, started=started)
        say(f"results written to {Path(settings.out_dir) / 'results.json'}")
        return results
    say("propensity model and matching")
    match = match_step(settings)
    say(f"matched {match['counts']['matched']:,} of {match['counts']['treated']:,} participants")
    say("impact estimates")
    impact = estimate_step(settings)
    checks = checks_step(settings, cohort_dict, impact, progress)
    results = assemble_results(settings, load, cohort_dict, before_after, match, impact, checks)
    write_step(settings, results, started=started)
    say(f"results written to {Path(settings.out_dir) / 'results.json'}")
    return results
