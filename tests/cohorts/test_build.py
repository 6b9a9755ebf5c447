"""Cohort rules on hand-built cases: window edges, waiting period, exclusions, custody."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from evaluation.cohorts import build as cohorts
from evaluation.errors import SettingsError
from evaluation.pipeline.steps import build_cohorts, load
from evaluation.settings.model import StudySettings
from tests.conftest import write_folder

INDEX = dt.date(2010, 6, 1)


def day(offset: int) -> str:
    return (INDEX + dt.timedelta(days=offset)).isoformat()


def run_cohort(folder, tmp_path, offences, *, participants=None, custody=None, people=None, **settings):
    data = folder(
        people=people or ["P1,1980,M,,,,", "P2,1985,F,,Y,,", "Z,1970,M,,,,"],
        offences=offences + ["Z,2008-01-01,2008-02-01,theft,,", "Z,2013-06-01,2013-06-02,theft,,"],
        participants=participants or [f"P1,OLASS,{day(0)},,"],
        custody=custody,
    )
    s = StudySettings(data_dir=data, out_dir=tmp_path / "out", **settings)
    load(s)
    summary = build_cohorts(s)
    con = duckdb.connect(str(s.db_path), read_only=True)
    rows = cohorts.participant_outcomes(con).to_dicts()
    return summary, {r["person_id"]: r for r in rows}


def counts(rows, person="P1"):
    r = rows[person]
    return r["offences_before"], r["offences_after"]


def test_offence_on_the_index_date_counts_after_not_before(folder, tmp_path):
    _, rows = run_cohort(folder, tmp_path, [f"P1,{day(0)},{day(10)},theft,,"])
    assert counts(rows) == (0, 1)


def test_before_window_is_half_open(folder, tmp_path):
    _, rows = run_cohort(folder, tmp_path, [
        f"P1,{day(-365)},{day(-300)},theft,,",  # first day of the before window: counts
        f"P1,{day(-366)},{day(-300)},theft,,",  # a day earlier: outside
        f"P1,{day(-1)},{day(5)},theft,,",       # day before index, proven after it: counts before
    ])
    assert counts(rows) == (2, 0)


def test_after_window_is_half_open(folder, tmp_path):
    _, rows = run_cohort(folder, tmp_path, [
        f"P1,{day(364)},{day(370)},theft,,",  # last day of the after window
        f"P1,{day(365)},{day(370)},theft,,",  # first day after it: outside
    ])
    assert counts(rows) == (0, 1)


def test_waiting_period_edges(folder, tmp_path):
    # after window ends at day 365; proven before day 365 + 182 = 547 counts
    _, rows = run_cohort(folder, tmp_path, [
        f"P1,{day(300)},{day(546)},theft,,",  # proven on the last day of the waiting period
        f"P1,{day(301)},{day(547)},theft,,",  # proven a day later: does not count
        f"P1,{day(-10)},{day(181)},theft,,",  # before window: proven by index + 182
        f"P1,{day(-11)},{day(182)},theft,,",  # a day later: does not count
    ])
    assert counts(rows) == (1, 1)


def test_incomplete_follow_up_is_excluded_with_a_reason(folder, tmp_path):
    summary, rows = run_cohort(
        folder, tmp_path, [f"P1,{day(1)},{day(2)},theft,,"],
        participants=[f"P1,OLASS,{day(0)},,", f"P2,OLASS,{day(600)},,"],
    )
    # cut-off 2013-06-02: P2's index + 365 + 182 - 1 runs past it
    assert summary.submitted == 2 and summary.analysed == 1
    assert summary.excluded == {
        "incomplete follow-up: the after window and waiting period end after the data cut-off": 1
    }
    assert "P2" not in rows


def test_follow_up_complete_on_the_exact_day(folder, tmp_path):
    last_needed = INDEX + dt.timedelta(days=365 + 182 - 1)
    _, rows = run_cohort(folder, tmp_path, [f"P1,{day(1)},{day(2)},theft,,"], cutoff=last_needed)
    assert "P1" in rows
    with pytest.raises(SettingsError, match="no participants can be analysed.*incomplete follow-up"):
        run_cohort(folder, tmp_path, [f"P1,{day(1)},{day(2)},theft,,"], cutoff=last_needed - dt.timedelta(days=1))


def test_index_is_the_first_start_and_later_starts_are_recorded(folder, tmp_path):
    summary, rows = run_cohort(
        folder, tmp_path, [f"P1,{day(100)},{day(110)},theft,,"],
        participants=[f"P1,Exodus,{day(200)},,", f"P1,OLASS,{day(0)},,"],
    )
    assert summary.analysed == 1
    assert rows["P1"]["index_date"] == INDEX and rows["P1"]["programme"] == "OLASS"
    assert rows["P1"]["later_starts"] == 1
    assert counts(rows) == (0, 1)


def test_programme_filter_sets_the_index_from_that_programme(folder, tmp_path):
    _, rows = run_cohort(
        folder, tmp_path, [f"P1,{day(100)},{day(110)},theft,,"],
        participants=[f"P1,Exodus,{day(200)},,", f"P1,OLASS,{day(0)},,"], programmes=("Exodus",),
    )
    assert rows["P1"]["index_date"] == INDEX + dt.timedelta(days=200)
    assert counts(rows) == (1, 0)


def test_unknown_programme_is_a_clear_error(folder, tmp_path):
    with pytest.raises(SettingsError, match="not in the loaded data .*'Nope'; it has: 'OLASS'"):
        run_cohort(folder, tmp_path, [], programmes=("Nope",))


def test_custody_days_come_off_time_at_risk(folder, tmp_path):
    _, rows = run_cohort(
        folder, tmp_path, [f"P1,{day(-50)},{day(-40)},theft,custody,30"],
        custody=[f"P1,{day(-40)},{day(-10)}",   # 30 days inside the before window
                 f"P1,{day(350)},{day(380)}",   # 15 days inside the after window
                 f"P1,{day(-500)},{day(-400)}"],  # outside both
    )
    assert rows["P1"]["days_at_risk_before"] == 365 - 30
    assert rows["P1"]["days_at_risk_after"] == 365 - 15


def test_custody_days_on_offences_are_used_without_a_custody_table(folder, tmp_path):
    _, rows = run_cohort(folder, tmp_path, [f"P1,{day(-50)},{day(-40)},theft,custody,20"])
    assert rows["P1"]["days_at_risk_before"] == 365 - 20


def test_custody_longer_than_a_window_leaves_zero_days_not_negative(folder, tmp_path):
    _, rows = run_cohort(folder, tmp_path, [], custody=[f"P1,{day(-400)},{day(400)}"])
    assert rows["P1"]["days_at_risk_before"] == 0 and rows["P1"]["days_at_risk_after"] == 0


def test_offence_groups(folder, tmp_path):
    _, rows = run_cohort(folder, tmp_path, [
        f"P1,{day(-5)},{day(-1)},robbery,,",
        f"P1,{day(-6)},{day(-1)},fraud,,",
        f"P1,{day(5)},{day(9)},drugs,,",
        f"P1,{day(6)},{day(9)},motoring,,",
    ])
    r = rows["P1"]
    assert (r["person_before"], r["property_before"], r["drugs_after"], r["other_after"]) == (1, 1, 1, 1)


def _units(settings_folder):
    """study_population joined to unit_covariates, by person and treatment."""
    con = duckdb.connect(str(settings_folder), read_only=True)
    try:
        return con.execute(
            "SELECT u.person_id, u.treat, u.index_date, u.record_date, c.index_after_release, c.proven_365 "
            "FROM study_population AS u JOIN unit_covariates AS c USING (unit_id) ORDER BY u.person_id, u.index_date"
        ).pl().to_dicts()
    finally:
        con.close()


def test_the_record_is_measured_at_the_event_that_triggered_referral(folder, tmp_path):
    """Referral is decided at a conviction (or release) on the record as it then stood; the
    start comes days later. Measuring the record at the start counted what was proven in
    between and dropped what had aged out of the year, so matching balanced a noisy copy of
    what selection used (issue 15: the falsification ratio drifted to 1.03 with common
    referral). The record is now taken at the triggering event, for participants and
    comparisons alike; a release from custody is marked so the matcher compares like with
    like; and a starter's own triggering event is their participant unit, never also a
    comparison unit."""
    people = ["P1,1980,M,,,,", "P2,1985,F,,,,", "P3,1990,M,,,,", "Z,1970,M,,,,"]
    offences = [
        f"P1,{day(-60)},{day(-20)},theft,,",    # the triggering conviction, 20 days before the start
        f"P1,{day(-200)},{day(-150)},theft,,",  # an earlier conviction: a comparison unit at -150 + lag
        f"P1,{day(-400)},{day(-380)},theft,,",  # proven 380 and 370 days before the start (outside its
        f"P1,{day(-420)},{day(-370)},theft,,",  # year) but within the year before the trigger
        f"P3,{day(-230)},{day(-206)},theft,,",  # P3's trigger: 6 days before their start (lag = 13)
        f"P2,{day(-560)},{day(-500)},theft,custody,396",  # P2: released 4 days before their start
    ]
    custody = [f"P2,{day(-500)},{day(-104)}"]
    participants = [f"P1,OLASS,{day(0)},,", f"P2,OLASS,{day(-100)},,", f"P3,OLASS,{day(-200)},,"]
    data = folder(people=people, participants=participants, custody=custody,
                  offences=offences + ["Z,2008-01-01,2008-02-01,theft,,", "Z,2013-06-01,2013-06-02,theft,,"])
    s = StudySettings(data_dir=data, out_dir=tmp_path / "out")
    load(s)
    build_cohorts(s)
    units = _units(s.db_path)
    treated = {u["person_id"]: u for u in units if u["treat"] == 1}
    assert treated["P1"]["record_date"] == INDEX - dt.timedelta(days=20)
    assert treated["P1"]["proven_365"] == 3  # -150, -370, -380; not the trigger itself (at the start: -20 and -150)
    assert treated["P1"]["index_after_release"] == 0
    assert treated["P2"]["record_date"] == INDEX - dt.timedelta(days=104) and treated["P2"]["index_after_release"] == 1
    assert treated["P3"]["record_date"] == INDEX - dt.timedelta(days=206)
    # lag = median(20, 6) = 13 days: P1's conviction at -150 makes a comparison unit at -137,
    # measured at -150; their trigger at -20 would make one at -7 (before their start), and does not
    comparisons = [(u["person_id"], u["index_date"], u["record_date"]) for u in units if u["treat"] == 0]
    assert comparisons == [("P1", INDEX - dt.timedelta(days=137), INDEX - dt.timedelta(days=150))]
    assert StudySettings(data_dir=data, out_dir=tmp_path / "o2").matching.exact == ("index_after_release",)


def test_a_referral_date_sets_the_event_the_record_is_measured_at(folder, tmp_path):
    """Without a referral date the latest conviction before the start is taken for the one
    that triggered referral. When another is proven between the referral and the start,
    the record then counts the real trigger among the referrer's 'previous year', and
    matching pairs the participant with heavier comparisons (issue 15: with common
    referral the headline fell by 0.019 over 40 null runs). A referral date in the
    participants file fixes the trigger: the latest event on or before it."""
    people = ["P1,1980,M,,,,", "P3,1990,M,,,,", "Z,1970,M,,,,"]
    offences = [
        f"P1,{day(-60)},{day(-20)},theft,,",    # the conviction P1 was referred at
        f"P1,{day(-90)},{day(-5)},theft,,",     # proven between the referral and the start
        f"P1,{day(-200)},{day(-150)},theft,,",
        f"P3,{day(-230)},{day(-206)},theft,,",  # P3's trigger: 6 days before their start
        "Z,2008-01-01,2008-02-01,theft,,", "Z,2013-06-01,2013-06-02,theft,,",
    ]
    header = "person_id,programme,start_date,end_date,referral_date"
    with_date = [f"P1,OLASS,{day(0)},,{day(-20)}", f"P3,OLASS,{day(-200)},,"]  # P3 has none: the fallback
    without = [f"P1,OLASS,{day(0)},,", f"P3,OLASS,{day(-200)},,"]
    found = {}
    for name, rows in (("with", with_date), ("without", without)):
        data = write_folder(tmp_path / name, people=people, offences=offences, participants=rows,
                            participants_header=header)
        s = StudySettings(data_dir=data, out_dir=tmp_path / f"out-{name}")
        load(s)
        summary = build_cohorts(s)
        found[name] = ({u["person_id"]: u for u in _units(s.db_path) if u["treat"] == 1}, summary)
    treated, summary = found["with"]
    assert treated["P1"]["record_date"] == INDEX - dt.timedelta(days=20)
    assert treated["P1"]["proven_365"] == 1  # -150 only
    assert treated["P3"]["record_date"] == INDEX - dt.timedelta(days=206)
    assert summary.index_lag_days == 13  # median(20, 6): from the referral's conviction
    treated, summary = found["without"]
    assert treated["P1"]["record_date"] == INDEX - dt.timedelta(days=5)
    assert treated["P1"]["proven_365"] == 2  # -20 (the real trigger) and -150
    assert summary.index_lag_days == 6  # median(5, 6) = 5.5, rounded half away from zero


@pytest.mark.parametrize(("window", "own_trigger_a_comparison"), [(28, False), (0, True)])
def test_without_a_referral_date_no_event_in_the_referral_window_is_the_participants_comparison(
        folder, tmp_path, window, own_trigger_a_comparison):
    """Issue 39, finding 1: without a referral date the latest conviction before the start
    (day -5) is taken for the trigger, and the real one (day -20) stayed in the pool as a
    comparison unit of the participant's own, with their record of days before: the rate
    ratio came out about 2% too low. No event of theirs in the referral window
    (referral_window_days before the start; 0 is the old rule) is a comparison unit now;
    an event before it (day -150) still is, as any not-yet-participant's."""
    people = ["P1,1980,M,,,,", "P3,1990,M,,,,", "Z,1970,M,,,,"]
    offences = [f"P1,{day(-60)},{day(-20)},theft,,", f"P1,{day(-90)},{day(-5)},theft,,",
                f"P1,{day(-200)},{day(-150)},theft,,", f"P3,{day(-230)},{day(-206)},theft,,",
                "Z,2008-01-01,2008-02-01,theft,,", "Z,2013-06-01,2013-06-02,theft,,"]
    data = write_folder(tmp_path / "data", people=people, offences=offences,
                        participants=[f"P1,OLASS,{day(0)},,", f"P3,OLASS,{day(-200)},,"])
    s = StudySettings(data_dir=data, out_dir=tmp_path / "out", referral_window_days=window)
    load(s)
    build_cohorts(s)
    comparisons = [u for u in _units(s.db_path) if u["treat"] == 0 and u["person_id"] == "P1"]
    record_dates = sorted(u["record_date"] for u in comparisons)
    expected = [INDEX - dt.timedelta(days=150)] + ([INDEX - dt.timedelta(days=20)] if own_trigger_a_comparison else [])
    assert record_dates == expected


def test_a_referral_date_without_a_conviction_before_it_is_the_record_date(folder, tmp_path):
    """Nothing proven in the year before the referral: the record is as at the referral,
    not the start (what was proven in between was not seen by the referrer)."""
    header = "person_id,programme,start_date,end_date,referral_date"
    data = folder(people=["P1,1980,M,,,,", "Z,1970,M,,,,"], participants_header=header,
                  offences=[f"P1,{day(-30)},{day(-10)},theft,,", "Z,2008-01-01,2008-02-01,theft,,",
                            "Z,2013-06-01,2013-06-02,theft,,"],
                  participants=[f"P1,OLASS,{day(0)},,{day(-15)}"])
    s = StudySettings(data_dir=data, out_dir=tmp_path / "out")
    load(s)
    build_cohorts(s)
    [p1] = [u for u in _units(s.db_path) if u["treat"] == 1]
    assert p1["record_date"] == INDEX - dt.timedelta(days=15) and p1["proven_365"] == 0


def _control_counts(settings):
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return con.execute(
            "SELECT u.person_id, c.control_offences, c.control_complete, c.proven_365 "
            "FROM study_population AS u JOIN unit_covariates AS c USING (unit_id) WHERE u.treat = 1"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize(("before_days", "waiting_days", "expected"), [(365, 182, 3), (100, 200, 5)])
def test_the_control_window_is_counted_with_the_covariates(folder, tmp_path, before_days, waiting_days, expected):
    """The falsification test's control window, the two years ending where the selection
    year (before_days before the record date) begins, counted in the covariates' pass (it
    was a second join of every unit with every offence). Hand-worked: the record date R is
    the conviction proven 20 days before the start. With 365/182 the window is
    [R-1095, R-365) and an offence counts if proven before R-183; with 100/200 it is
    [R-830, R-100), proven before R+100, so one proven after the start counts there, and
    must still not count in the covariates, which see only what was proven before R."""
    offences = [
        f"P1,{day(-30)},{day(-20)},theft,,",      # the trigger: R = day(-20)
        f"P1,{day(-500)},{day(-450)},theft,,",    # in both windows, proven in time
        f"P1,{day(-400)},{day(-150)},theft,,",    # in both; proven too late for 365/182 only
        f"P1,{day(-1200)},{day(-1190)},theft,,",  # before both windows
        f"P1,{day(-380)},{day(-370)},theft,,",    # after the 365/182 window ends (R-365 = day(-385))
        f"P1,{day(-1100)},{day(-1000)},theft,,",  # in the 365/182 window only
        f"P1,{day(-1115)},{day(-1110)},theft,,",  # the 365/182 window's first day
        f"P1,{day(-385)},{day(-300)},theft,,",    # the 365/182 window's end (outside); in 100/200's
        f"P1,{day(-200)},{day(10)},theft,,",      # in 100/200's, proven after R (and the start)
    ]
    data = folder(people=["P1,1970,M,,,,", "Z,1970,M,,,,"], participants=[f"P1,OLASS,{day(0)},,"],
                  offences=offences + ["Z,2008-01-01,2008-02-01,theft,,", "Z,2013-06-01,2013-06-02,theft,,"])
    s = StudySettings(data_dir=data, out_dir=tmp_path / "out", before_days=before_days, waiting_days=waiting_days)
    load(s)
    build_cohorts(s)
    [(person, control, complete, proven_365)] = _control_counts(s)
    assert (person, control, complete) == ("P1", expected, True)
    assert proven_365 == 3  # proven in [R-365, R): day(-370), day(-300), day(-150); never day(10)


def test_a_comparisons_referral_decisions_count_the_year_of_proven_offences_before_each(folder, tmp_path):
    """sql/outcomes/comparison_decisions.sql, hand-worked: each proven offence from the
    referral span before the index date (after the record date) to the end of the after
    window is a decision, with the offences proven in the 365 days before it. The query now
    reads only offences proven from 365 days before a person's earliest possible decision
    (issue 16: the whole history of every matched comparison went through the window
    function); one proven exactly then still counts, one a day earlier never could.
    The participant's trigger is 40 days before their start, so a comparison's index date
    is 40 days after its triggering conviction (R), and its first possible decision is 28
    (REFERRAL_DAYS) days before that index date: day(-28) for C's unit with R = day(-40)."""
    from evaluation.db.queries import run_sql
    from evaluation.estimate.censoring import INTERVAL_DAYS, REFERRAL_DAYS

    assert REFERRAL_DAYS == 28
    offences = [
        f"P1,{day(-50)},{day(-40)},theft,,",     # P1's trigger: lag 40 days
        f"C,{day(-600)},{day(-590)},theft,,",    # long before: counts for no decision
        f"C,{day(-400)},{day(-394)},theft,,",    # 366 days before the first decision: counts for none
        f"C,{day(-400)},{day(-393)},theft,,",    # exactly 365 days before it: counts for it
        f"C,{day(-50)},{day(-40)},theft,,",      # C's trigger R: its unit's index date is day(0)
        f"C,{day(-35)},{day(-28)},theft,,",      # the first decision: day(0) - 28
        f"C,{day(100)},{day(110)},theft,,",      # a decision in the after window
    ]
    data = folder(people=["P1,1980,M,,,,", "C,1980,M,,,,", "Z,1970,M,,,,"], participants=[f"P1,OLASS,{day(0)},,"],
                  offences=offences + ["Z,2008-01-01,2008-02-01,theft,,", "Z,2013-06-01,2013-06-02,theft,,"])
    s = StudySettings(data_dir=data, out_dir=tmp_path / "out")
    load(s)
    build_cohorts(s)
    con = duckdb.connect(str(s.db_path))
    try:
        [(unit, index_date)] = con.execute(
            "SELECT unit_id, index_date FROM study_population WHERE person_id = 'C' AND record_date = ?",
            [INDEX - dt.timedelta(days=40)]).fetchall()
        assert index_date == INDEX
        con.execute("CREATE TABLE matched_units AS SELECT ? AS unit_id, 0 AS treat", [unit])
        first, last = run_sql(con, "cohorts/programme_start_range").fetchone()
        rows = run_sql(con, "outcomes/comparison_decisions", {
            "after_days": s.windows.after_days, "interval_days": INTERVAL_DAYS, "referral_days": REFERRAL_DAYS,
            "first_start": first, "last_start": last}, {"matched": "matched_units"}).fetchall()
    finally:
        con.close()
    epoch = dt.date(1970, 1, 1)
    decisions = [(epoch + dt.timedelta(days=r[1]), r[4]) for r in rows]  # (day, proven_365)
    assert decisions == [(INDEX - dt.timedelta(days=28), 2),  # day(-393) and R; not day(-394) or day(-590)
                         (INDEX + dt.timedelta(days=110), 2)]  # R and day(-28)
