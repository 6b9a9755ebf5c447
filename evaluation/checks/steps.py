"""The checks a commissioner asks for after the main estimate, as pipeline steps.

Each step reads the study's working database and returns aggregates only:

- :func:`sensitivity_step`: the rate ratio re-estimated under other matching settings;
- :func:`placebo_step`: the whole evaluation with every index date moved back by the after
  window, in a separate schema so the real run's tables are untouched;
- :func:`hidden_bias_step`: Rosenbaum bounds on the matched sets;
- :func:`subgroup_step`: exploratory subgroups with Holm-corrected p-values;
- :func:`costs_step`: offences avoided, savings, net benefit and benefit-cost ratio.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

from evaluation.cohorts import build as cohorts
from evaluation.load.contract import CATEGORIES
from evaluation.checks.costs import estimate_costs, load_unit_costs
from evaluation.cohorts.covariates import PRIOR_OFFENCE_DETAIL
from evaluation.db.connection import opened
from evaluation.errors import ReoffendError
from evaluation.estimate.impact import matched_rate_ratio
from evaluation.match.sample import fit_matches, load_matched, read_matched
from evaluation.estimate.types import clean_number
from evaluation.checks.rosenbaum import plain_reading, rosenbaum_bounds
from evaluation.settings.model import StudySettings
from evaluation.db.queries import run_sql
from evaluation.checks.subgroups import subgroup_estimates


def _estimate(est) -> dict:
    return {"estimate": clean_number(est.estimate), "ci95": [clean_number(est.ci95[0]), clean_number(est.ci95[1])],
            "p_value": clean_number(est.p_value)}


def sensitivity_variants(settings: StudySettings) -> list[tuple[str, StudySettings]]:
    """The alternative matching settings, each changing one thing from the study's."""
    variants = []
    for caliper in (0.1, 0.2, 0.5):
        if settings.caliper != caliper:
            variants.append((f"caliper {caliper} SD", replace(settings, caliper=caliper)))
    for ratio in (1, 3):
        if settings.ratio != ratio:
            variants.append((f"{ratio} comparison{'s' if ratio > 1 else ''} per participant",
                             replace(settings, ratio=ratio)))
    variants.append(("without replacement" if settings.replace else "with replacement",
                     replace(settings, replace=not settings.replace)))
    reduced = tuple(c for c in settings.covariates if c not in PRIOR_OFFENCE_DETAIL)
    if reduced != settings.covariates and reduced:
        variants.append(("without the prior-offence detail", replace(settings, covariates=reduced)))
    return variants


def describe_settings(settings: StudySettings) -> str:
    caliper = "no caliper" if settings.caliper is None else f"caliper {settings.caliper} SD"
    return (f"as analysed ({caliper}, {settings.ratio} comparison{'s' if settings.ratio > 1 else ''} per "
            f"participant, {'with' if settings.replace else 'without'} replacement, "
            f"{len(settings.covariates)} covariates)")


def sensitivity_step(settings: StudySettings, impact: dict) -> list[dict]:
    """The matched rate ratio under each alternative matching setting (the study's own first)."""
    rows = [{"setting": describe_settings(settings), **{k: impact["rate_ratio"][k] for k in ("estimate", "ci95", "p_value")},
             "matched": impact["treated"]}]
    with opened(settings.db_path, read_only=True) as con:
        frame = cohorts.unit_covariates(con)
        for label, variant in sensitivity_variants(settings):
            try:
                matcher, _, _, matched = fit_matches(frame, variant)
                con.register("matcher_output", matched)
                data, _ = read_matched(con, variant, table="matcher_output")
                con.unregister("matcher_output")
                rows.append({"setting": label, **_estimate(matched_rate_ratio(data)),
                             "matched": matcher.counts_.matched,
                             "max_abs_smd_after": clean_number(matcher.balance_.max_abs_smd_after)})
            except ReoffendError as exc:  # e.g. nobody matched at a narrow caliper
                rows.append({"setting": label, "estimate": None, "ci95": None, "p_value": None,
                             "matched": 0, "note": str(exc)})
    return rows


def placebo_step(settings: StudySettings) -> dict:
    """The evaluation with every index date (participants' and comparison candidates')
    moved back by the after window, in schema ``placebo``: a period the programme cannot
    have affected, so the rate ratio should be close to 1."""
    shifted = replace(settings, index_shift_days=settings.index_shift_days - settings.after_days)
    with opened(settings.db_path) as con:
        run_sql(con, "cohorts/placebo_schema")
        try:
            summary = cohorts.build_cohorts(con, shifted)
            frame = cohorts.unit_covariates(con)
            matcher, _, _, matched = fit_matches(frame, shifted)
            con.register("matcher_output", matched)
            data, _ = read_matched(con, shifted, table="matcher_output")
            con.unregister("matcher_output")
        except ReoffendError as exc:
            return {"estimate": None, "ci95": None, "p_value": None, "note": f"not run ({exc})",
                    "index_shift_days": shifted.index_shift_days}
        finally:
            run_sql(con, "cohorts/main_schema")
    estimate = matched_rate_ratio(data)
    return {
        **_estimate(estimate),
        "reading": placebo_reading(estimate.estimate, estimate.ci95, settings.after_days),
        "index_shift_days": shifted.index_shift_days,
        "participants": summary.analysed,
        "matched": matcher.counts_.matched,
        "max_abs_smd_after": clean_number(matcher.balance_.max_abs_smd_after),
        "method": "rate ratio in the after window of index dates moved back by the after window, "
                  "matched on what was known before the moved dates",
    }


def placebo_reading(estimate: float, ci95: tuple[float, float], after_days: int) -> str:
    """One plain-English paragraph on the placebo test."""
    lo, hi = ci95
    span = f"rate ratio {estimate:.2f}, 95% interval {lo:.2f} to {hi:.2f}"
    period = "year" if after_days == 365 else f"{after_days} days"
    if lo <= 1.0 <= hi:
        return (f"In the {period} before they started, which the programme cannot have affected, "
                f"participants offended at a rate similar to comparisons matched on their earlier history ({span}). "
                "This supports the comparison group.")
    more = "more" if estimate > 1 else "less"
    return (f"In the {period} before they started, which the programme cannot have affected, "
            f"participants offended {more} than comparisons matched on their earlier history ({span}). So "
            f"participants were selected on something their earlier history does not show: typically the busy "
            f"spell of offending that led to their referral. The main estimate matches on offending in that "
            f"{period}, which accounts for selection on it; selection on anything else that also affects later "
            f"offending would bias the main estimate too.")


def set_differences(settings: StudySettings, direction: float) -> np.ndarray:
    """Per matched set: (comparisons' weighted mean minus participant's) after-window offences,
    times ``direction`` (+1 when the estimate is a fall, -1 when a rise)."""
    data, _ = load_matched(settings)
    t = data.treat == 1
    sets, index = np.unique(data.subclass, return_inverse=True)
    comparison = np.bincount(index[~t], weights=data.weight[~t] * data.offences_after[~t], minlength=sets.size)
    participant = np.bincount(index[t], weights=data.offences_after[t].astype(float), minlength=sets.size)
    return direction * (comparison - participant)


def hidden_bias_step(settings: StudySettings, impact: dict) -> dict:
    """Rosenbaum bounds (Wilcoxon signed-rank) for the matched sets' differences, in the
    direction of the estimate."""
    direction = 1.0 if impact["rate_ratio"]["estimate"] <= 1 else -1.0
    bounds = rosenbaum_bounds(set_differences(settings, direction))
    return {**bounds.to_dict(), "direction": "fewer offences" if direction > 0 else "more offences",
            "outcome": "offences in the after window: the participant against the mean of their matched comparisons",
            "reading": plain_reading(bounds)}


def subgroup_step(settings: StudySettings) -> list[dict]:
    """Matched rate ratios by programme, MAPPA/PPO, sex and age band (exploratory, Holm)."""
    data, _ = load_matched(settings)
    with opened(settings.db_path, read_only=True) as con:
        groups = run_sql(con, "outcomes/matched_participant_groups").pl()
    subclasses = groups["subclass"].to_numpy()
    dimensions = {"programme": "programme", "MAPPA/PPO": "mappa_ppo", "sex": "sex", "age band": "age_band"}
    set_groups = {name: (subclasses, groups[column].to_numpy()) for name, column in dimensions.items()}
    return [r.to_dict() for r in subgroup_estimates(data, set_groups)]


def programme_cost_per_participant(settings: StudySettings, submitted: int) -> float | None:
    if settings.programme_cost_per_participant is not None:
        return float(settings.programme_cost_per_participant)
    if settings.programme_cost_total is not None:
        return float(settings.programme_cost_total) / submitted if submitted else None
    return None


def costs_step(settings: StudySettings, submitted: int) -> dict:
    """Offences avoided by category and their cost, with intervals over matched sets."""
    with opened(settings.db_path, read_only=True) as con:
        rows = run_sql(con, "outcomes/offences_avoided_by_set").pl()
        sets = run_sql(con, "outcomes/matched_set_ids").pl()["subclass"].to_numpy()
    avoided = np.zeros((sets.size, len(CATEGORIES)))
    if rows.height:
        row = np.searchsorted(sets, rows["subclass"].to_numpy())  # sets are sorted
        col = rows["category"].replace_strict({c: i for i, c in enumerate(CATEGORIES)}, return_dtype=pl.Int64)
        avoided[row, col.to_numpy()] = rows["avoided"].to_numpy()
    unit_costs = load_unit_costs(uplift=settings.cost_uplift, price_year=settings.cost_price_year,
                                 overrides=dict(settings.unit_cost_overrides))
    result = estimate_costs(
        avoided, categories=CATEGORIES, unit_costs=unit_costs,
        programme_cost_per_participant=programme_cost_per_participant(settings, submitted),
        n_resamples=settings.bootstrap_resamples, seed=settings.seed,
    )
    return result.to_dict()
