"""The sensitivity table's variants each change one thing from the study's settings."""

from __future__ import annotations

from evaluation.checks.sensitivity import describe_settings, sensitivity_variants
from evaluation.settings.model import StudySettings


def test_each_variant_changes_one_matching_setting(tmp_path):
    base = StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o")
    variants = dict(sensitivity_variants(base))
    assert list(variants) == ["caliper 0.1 SD", "caliper 0.5 SD", "3 comparisons per participant", "without replacement",
                              "without the prior-offence detail"]
    for variant in variants.values():
        changed = {k for k, v in variant.flat().items() if v != base.flat()[k]}
        assert len(changed) == 1 and changed <= {"caliper", "ratio", "replace", "covariates"}
    assert describe_settings(base).startswith("as analysed (caliper 0.2 SD, 1 comparison per participant")


def test_a_variant_that_gives_the_stored_sets_reports_the_very_estimate(southampton, tmp_path):
    """Issue 16: a variant whose matched sets are exactly the study's (on this draw both
    calipers: every match is nearer than 0.1 SD) is not estimated again; its row is the study's
    estimate, marked so, and equals the estimate made afresh on its own matching. The
    match step's propensity fit, reused by the variants, gives the same rows as a fit
    made anew."""
    import dataclasses

    from evaluation.checks.sensitivity import run_sensitivity
    from evaluation.db.connection import opened
    from evaluation.estimate.impact import headline_rate_ratio
    from evaluation.match.sample import match_and_read, matching_inputs
    from evaluation.pipeline import steps
    from evaluation.pipeline.runner import run_steps

    settings = StudySettings(data_dir=southampton, out_dir=tmp_path / "out", work_dir=tmp_path / "work",
                             bootstrap_resamples=100)
    values = run_steps(settings, steps=[s for s in steps.STEPS if s.key in ("load", "validate", "cohorts", "match",
                                                                            "estimate")])
    with opened(settings.db_path, read_only=True) as con:
        frame, fits = matching_inputs(settings, con, values["context"])
    assert fits  # the match step's fit, kept in the run's context
    with_kept_fit = run_sensitivity(settings, values["estimate"], values["context"])
    rows = run_sensitivity(settings, values["estimate"])  # no context: covariates read again, fits made anew
    assert [r.to_dict() for r in rows] == [r.to_dict() for r in with_kept_fit]

    same = [r for r in rows if r.note == "the same matched sets as analysed"]
    assert same and {r.setting for r in same} <= {"caliper 0.1 SD", "caliper 0.5 SD"}
    variants = dict(sensitivity_variants(settings))
    with opened(settings.db_path, read_only=True) as con:
        frame, _ = matching_inputs(settings, con, None)
        afresh = match_and_read(con, frame, [variants[r.setting] for r in same])
    for row, again in zip(same, afresh):
        assert row.estimate == values["estimate"].rate_ratio and not again.same
        assert dataclasses.asdict(headline_rate_ratio(again.data)) == dataclasses.asdict(row.estimate)
    others = [r for r in rows[2:] if r not in same]  # after the study's and the uncorrected rows
    assert others and all(r.estimate != values["estimate"].rate_ratio for r in others)
    # issue 39, finding 2: the censoring weights, biased upwards when referral is common, are
    # no row of the table (they were its third); every row is the headline's estimator
    assert values["estimate"].ipcw_rate_ratio is not None
    assert not any("censoring weights" in r.setting for r in rows)
    assert all(r.estimate is None or r.estimate.estimate != values["estimate"].ipcw_rate_ratio.estimate for r in rows)


def test_the_variants_read_no_censoring_records_and_their_headline_does_not_need_them(southampton, tmp_path):
    """Issue 16: the sensitivity variants' estimate is the structural headline, which does not
    read the comparisons' intervals and referral decisions; the union read skips those two
    queries, and the headline is the same as with them."""
    from evaluation.db.connection import opened
    from evaluation.estimate.impact import headline_rate_ratio
    from evaluation.match.sample import match_and_read, matched_data, matching_inputs, read_units
    from evaluation.pipeline import steps
    from evaluation.pipeline.runner import run_steps

    settings = StudySettings(data_dir=southampton, out_dir=tmp_path / "out", work_dir=tmp_path / "work",
                             bootstrap_resamples=100)
    values = run_steps(settings, steps=[s for s in steps.STEPS if s.key in ("load", "validate", "cohorts", "match")])
    variant = dict(sensitivity_variants(settings))["3 comparisons per participant"]
    with opened(settings.db_path, read_only=True) as con:
        frame, fits = matching_inputs(settings, con, values["context"])
        (result,) = match_and_read(con, frame, [variant], fits=fits)
        assert result.data.intervals is None and result.data.decisions is None
        rows = result.matcher.matches_.with_columns(
            unit_id=frame["unit_id"].gather(result.matcher.matches_["row"])).select("unit_id", "subclass", "treat", "weight")
        con.register("matcher_output", rows)  # the allow-listed name a re-match is read under
        full, _ = matched_data(rows, read_units(con, after_days=settings.windows.after_days, table="matcher_output"),
                               replace=False)
    assert full.intervals is not None
    assert headline_rate_ratio(result.data) == headline_rate_ratio(full)
