"""The comparison pool's size rule: at least 50 eligible candidates per participant (or
every candidate), and a sampled pool gives the same estimate as the full pool.

Found (issue 16): the pool was sampled to 250,000 person-events whatever the number of
participants, so at national scale (10,622 participants) the matcher had about 23
candidates per participant."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from evaluation.cohorts.build import CANDIDATES_PER_PARTICIPANT, POOL_MARGIN, pool_fraction, pool_size
from evaluation.pipeline import steps as declared
from evaluation.pipeline.runner import run_steps
from evaluation.settings.model import StudySettings
from synthetic_data import NATIONAL, generate


def test_the_target_is_the_larger_of_the_floor_and_fifty_per_participant():
    assert pool_size(1_000, 250_000) == 250_000
    assert pool_size(10_622, 250_000) == 531_100  # the national scenario: more than the old fixed 250,000
    assert pool_fraction(400_000, 10_622, 250_000) == 1.0  # fewer eligible events than the target: all of them
    assert pool_fraction(0, 10, 250_000) == 1.0
    assert pool_fraction(10_000_000, 10_622, 250_000) == pytest.approx(POOL_MARGIN * 531_100 / 10_000_000)


def _estimate(data, tmp_path, name, **settings):
    s = StudySettings(data_dir=data, out_dir=tmp_path / name, work_dir=tmp_path / f"work-{name}", seed=3,
                      bootstrap_resamples=100, **settings)
    wanted = {"load", "validate", "cohorts", "match", "estimate"}
    values = run_steps(s, steps=[step for step in declared.STEPS if step.key in wanted])
    return values["cohorts"], values["estimate"].rate_ratio


@pytest.mark.slow
def test_a_sampled_pool_holds_fifty_per_participant_and_agrees_with_the_full_pool(tmp_path):
    """A mid-size national data set (150,000 people, 1,500 participants, about 470,000
    eligible candidates): the full pool, and the pool sampled to its 50-per-participant
    floor (max_comparison_units at its minimum). The sample holds at least 50 eligible
    candidates per participant, and the two headline rate ratios agree within their
    sampling error: on the log scale, within twice the root sum of squares of their
    standard errors (from their 95% intervals). Measured: seeds 21-23 at this size differed
    by +0.05, -0.02, -0.03 in the rate ratio, and seeds 11-14 at 600 participants all within
    the bound too."""
    data = tmp_path / "data"
    generate(replace(NATIONAL, people=150_000, participants=1_500), data, seed=21)
    full_cohort, full = _estimate(data, tmp_path, "full", max_comparison_units=10_000_000)
    sampled_cohort, sampled = _estimate(data, tmp_path, "sampled", max_comparison_units=1_000)
    assert full_cohort.sample_fraction == 1.0
    assert sampled_cohort.sample_fraction < 0.25, "the test data must be big enough for the pool to be sampled"
    assert sampled_cohort.candidates >= CANDIDATES_PER_PARTICIPANT * sampled_cohort.analysed
    assert sampled_cohort.candidates < full_cohort.candidates

    def log_and_se(e):
        return np.log(e.estimate), (np.log(e.ci95[1]) - np.log(e.ci95[0])) / (2 * 1.959964)

    (a, se_a), (b, se_b) = log_and_se(full), log_and_se(sampled)
    assert abs(a - b) < 2 * np.hypot(se_a, se_b)


def _cohorts(data, tmp_path, name, **settings):
    s = StudySettings(data_dir=data, out_dir=tmp_path / name, work_dir=tmp_path / f"work-{name}", seed=3, **settings)
    values = run_steps(s, steps=[step for step in declared.STEPS if step.key in {"load", "validate", "cohorts"}])
    return s, values["cohorts"]


def _exact_units(settings, cohort):
    """The eligible units counted exactly (sql/cohorts/candidate_event_count.sql)."""
    from evaluation.cohorts.build import window_params
    from evaluation.db.connection import opened
    from evaluation.db.queries import run_sql

    with opened(settings.db_path, read_only=True) as con:
        run_sql(con, "cohorts/candidate_event_rows")
        run_sql(con, "cohorts/candidate_events")
        return run_sql(con, "cohorts/candidate_event_count", {
            **window_params(settings), "cutoff": cohort.data_cutoff,
            "data_start": run_sql(con, "cohorts/data_start").fetchone()[0],
            "index_lag_days": cohort.index_lag_days, "first_index": cohort.first_index_date, "last_index": cohort.last_index_date,
            "pool": settings.matching.comparison_pool, "index_shift_days": 0}).fetchone()[0]


def test_the_pool_is_sized_from_an_estimate_of_its_units_and_drawn_again_when_that_leaves_it_short(tmp_path, monkeypatch):
    """The sample fraction comes from the eligible events scaled by a 1-in-32 subset's
    units per event (one pass, no merging of each person's day): close to the exact count.
    When the estimate is too high and the sample falls short of its target, the exact
    count is taken and the sample drawn again.

    Found (issue 16): sizing the sample by the exact count took a second full pass over
    every candidate event, merging each person's events of a day (about 1.4 s of the 7 s
    cohort step at national scale)."""
    from evaluation.cohorts import build

    data = tmp_path / "data"
    generate(replace(NATIONAL, people=30_000, participants=200), data, seed=5)
    settings, cohort = _cohorts(data, tmp_path, "estimated", max_comparison_units=1_000)
    target = pool_size(cohort.analysed, 1_000)
    exact = _exact_units(settings, cohort)
    assert cohort.sample_fraction < 0.5, "the test data must be big enough for the pool to be sampled"
    assert cohort.candidates >= target
    assert cohort.sample_fraction == pytest.approx(pool_fraction(exact, cohort.analysed, 1_000), rel=0.03)

    original = build.run_sql

    def overestimated(con, name, params=None, identifiers=None):
        result = original(con, name, params, identifiers)
        if name == "cohorts/candidate_event_rows_count":
            events, subset_events, subset_units = result.fetchone()

            class Tripled:  # the events three times over: the estimate three times too high
                def fetchone(self):
                    return 3 * events, subset_events, subset_units

            return Tripled()
        return result

    monkeypatch.setattr(build, "run_sql", overestimated)
    settings, redrawn = _cohorts(data, tmp_path, "redrawn", max_comparison_units=1_000)
    assert redrawn.sample_fraction == pool_fraction(exact, redrawn.analysed, 1_000)  # the exact count's
    assert redrawn.candidates >= target
