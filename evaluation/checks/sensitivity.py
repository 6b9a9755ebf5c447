"""The sensitivity table: the matched rate ratio re-estimated under other matching
settings, each changing one thing from the study's (caliper, ratio, replacement, the
prior-offence detail), and the uncorrected "starting now versus not yet" comparison on the
study's own matched sets. Each variant re-runs the match step's matcher on the stored
covariates (one propensity fit per covariate set, one read of the matched units' records
for all variants: :func:`evaluation.match.sample.match_and_read`); the stored matched
sets are untouched. Variants with the study's covariates match on the match step's own
propensity scores, and a variant that yields exactly the stored matched sets (a wider
caliper that nobody's match was near, say) reports the study's estimate, marked so."""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.checks.subgroups import NOT_ESTIMATED
from evaluation.cohorts.covariates import PRIOR_OFFENCE_DETAIL
from evaluation.db.connection import opened
from evaluation.errors import ReoffendError
from evaluation.estimate.impact import ImpactResult, headline_rate_ratio
from evaluation.estimate.types import Estimate, clean_number
from evaluation.match.sample import match_and_read, matching_inputs, stored_rows
from evaluation.settings.model import StudySettings


def sensitivity_variants(settings: StudySettings) -> list[tuple[str, StudySettings]]:
    """The alternative matching settings, each changing one thing from the study's."""
    variants = []
    for caliper in (0.1, 0.2, 0.5):
        if settings.matching.caliper != caliper:
            variants.append((f"caliper {caliper} SD", settings.updated(caliper=caliper)))
    for ratio in (1, 3):
        if settings.matching.ratio != ratio:
            variants.append((f"{ratio} comparison{'s' if ratio > 1 else ''} per participant",
                             settings.updated(ratio=ratio)))
    variants.append(("without replacement" if settings.matching.replace else "with replacement",
                     settings.updated(replace=not settings.matching.replace)))
    reduced = tuple(c for c in settings.matching.covariates if c not in PRIOR_OFFENCE_DETAIL)
    if reduced != settings.matching.covariates and reduced:
        variants.append(("without the prior-offence detail", settings.updated(covariates=reduced)))
    return variants


def describe_settings(settings: StudySettings) -> str:
    caliper = "no caliper" if settings.matching.caliper is None else f"caliper {settings.matching.caliper} SD"
    return (f"as analysed ({caliper}, {settings.matching.ratio} comparison{'s' if settings.matching.ratio > 1 else ''} per "
            f"participant, {'with' if settings.matching.replace else 'without'} replacement, "
            f"{len(settings.matching.covariates)} covariates)")


@dataclass(frozen=True)
class SensitivityRow:
    """One setting's matched rate ratio (None, with a note, when it could not be estimated)."""

    setting: str
    estimate: Estimate | None
    matched: int
    max_abs_smd_after: float | None = None
    note: str | None = None
    as_analysed: bool = False

    def to_dict(self) -> dict:
        out = {"setting": self.setting,
               **(NOT_ESTIMATED if self.estimate is None else self.estimate.to_dict(with_method=False)),
               "matched": self.matched}
        if not self.as_analysed and self.estimate is not None:
            out["max_abs_smd_after"] = clean_number(self.max_abs_smd_after)
        if self.note is not None:
            out["note"] = self.note
        return out


def run_sensitivity(settings: StudySettings, estimate: ImpactResult, context=None) -> list[SensitivityRow]:
    """The matched rate ratio under each alternative matching setting (the study's own first)."""
    rows = [SensitivityRow(describe_settings(settings), estimate.rate_ratio, estimate.treated, as_analysed=True)]
    if estimate.uncorrected is not None:  # the same matched sets, comparisons who start later not censored
        rows.append(SensitivityRow("starting now versus not yet (comparisons who start later kept uncensored)",
                                   estimate.uncorrected.rate_ratio, estimate.treated, as_analysed=True))
    # No row for the censoring weights (matched.ipcw): biased upwards when referral is common
    # (+0.04 to +0.07 on the log scale, covering the truth in 5 of 12 to 15 of 20 runs), so a
    # row of it would show a disagreement that is the weights' own bias (issue 39, finding 2;
    # docs/methodology.md, "Known limits").
    variants = sensitivity_variants(settings)
    with opened(settings.db_path, read_only=True) as con:
        frame, fits = matching_inputs(settings, con, context)
        matched = match_and_read(con, frame, [variant for _, variant in variants], fits=fits, stored=stored_rows(con),
                                 stored_replace=settings.matching.replace)
    for (label, _), result in zip(variants, matched):
        if isinstance(result, ReoffendError):  # e.g. nobody matched at a narrow caliper
            rows.append(SensitivityRow(label, None, 0, note=str(result)))
            continue
        counts, balance = result.matcher.counts_, result.matcher.balance_
        if result.same:  # the very matched sets analysed: the same estimate, not computed again
            rows.append(SensitivityRow(label, estimate.rate_ratio, counts.matched, balance.max_abs_smd_after,
                                       note="the same matched sets as analysed"))
            continue
        try:
            rows.append(SensitivityRow(label, headline_rate_ratio(result.data), counts.matched,
                                       balance.max_abs_smd_after))
        except ReoffendError as exc:
            rows.append(SensitivityRow(label, None, 0, note=str(exc)))
    return rows
