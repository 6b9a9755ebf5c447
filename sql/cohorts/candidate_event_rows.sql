-- candidate_event_rows(...): the events behind every potential comparison unit before
-- sampling, one row per conviction, caution or release (candidate_events.sql merges a
-- person's events of one day into one unit), as a table macro (the values are bound
-- parameters at each call: candidate_event_rows_count.sql counts them to size the sample
-- cheaply, without the merge).
-- One row per person at a pseudo index date from an event of the kind that triggers
-- referral, a proven offence's outcome date (or a release from custody), plus
-- index_lag_days, inside the analysed participants' index-date range [first_index,
-- last_index]. A run with index_shift_days moves every pseudo index date by
-- index_shift_days, as it moves the participants' (eligibility is still judged at the
-- unmoved event date).
-- Every such event of an eligible person is a unit (risk-set sampling). Choosing one
-- event per person instead would make an event less likely to be chosen the more events
-- the person goes on to have, conditioning the comparison group on its own future.
-- Risk-set pool (pool = 'risk_set'): anyone who had not yet started the evaluated
-- programmes at the pseudo index date is eligible, so later participants can serve as
-- comparisons for earlier dates (later_start_date records when they started, for the
-- contamination count), at events before the one that triggered their start: that event
-- is their participant unit (referral was decided there), never also a comparison one
-- (without a referral date, no event of theirs that may be it: participant_cohort.sql's
-- own_units_from),
-- or a participant would be matched with their own record of the same day and the
-- comparison's follow-up would be almost all after the start. Pool
-- 'never_participated': only people who never started.
-- Each unit's record is measured as at its event (record_gap = index_lag_days before the
-- index date), as a participant's is at theirs (participant_cohort.sql), and
-- after_release marks a unit made by a release rather than a conviction or caution (the
-- matcher matches on it exactly: someone just released is compared with others just
-- released). A conviction and a release on the same day make one unit, a conviction.
CREATE OR REPLACE TEMP MACRO candidate_event_rows(index_lag_days, index_shift_days, first_index, last_index, pool,
                                                  before_days, after_days, waiting_days, data_start, cutoff) AS TABLE
WITH events AS (  -- the index-date range is tested in each branch
    SELECT person_id, outcome_date + index_lag_days AS event_date, 0 AS after_release FROM offences
    WHERE outcome_date + index_lag_days + index_shift_days BETWEEN first_index AND last_index
    UNION ALL
    SELECT person_id, custody_end + index_lag_days AS event_date, 1 AS after_release FROM custody
    WHERE custody_end + index_lag_days + index_shift_days BETWEEN first_index AND last_index
),
first_start AS (  -- each starter's first start and the earliest event that may have triggered it (participant_cohort.sql)
    SELECT person_id, first_start, own_units_from FROM participant_cohort
)
SELECT
    e.person_id,
    e.event_date,
    e.event_date + index_shift_days AS index_date,
    e.after_release,
    f.first_start AS later_start_date,
    CASE
        WHEN e.event_date + index_shift_days - before_days < data_start
            THEN 'before window starts before the data begin'
        WHEN e.event_date + index_shift_days + after_days + waiting_days - 1 > cutoff
            THEN 'incomplete follow-up: the after window and waiting period end after the data cut-off'
    END AS exclusion
FROM events AS e
LEFT JOIN first_start AS f ON f.person_id = e.person_id
WHERE f.first_start IS NULL
   OR (pool = 'risk_set' AND f.first_start > e.event_date AND e.event_date - index_lag_days < f.own_units_from);
