-- participant_cohort: one row per person submitted (anyone with a start on the evaluated
-- programmes), with their first start, the index date (that start moved by
-- $index_shift_days, a setting that moves every index date), the half-open windows
--   before = [index - $before_days, index),  after = [index, index + $after_days),
-- and the reason they are excluded, if they are. Follow-up is complete when every
-- offence committed in the after window and proven within $waiting_days of its end
-- would be in the data: index + after + waiting - 1 <= $cutoff.
-- The record the propensity model sees is measured as at the triggering event: the
-- latest proven outcome (conviction or caution) or release from custody in the 365 days
-- up to the referral date when the first start has one, else up to the first start.
-- Referral is decided there, on the record as it then stood; whatever is proven between
-- it and the start was not seen by the referrer. Without a referral date an event proven
-- between the referral and the start is taken for the trigger, and the record then
-- includes the real trigger's own offences (docs/methodology.md, "The comparison group").
-- record_gap is the days from that event to the start (when there is none, from the
-- referral date, or 0 without one: the record at the start), after_release is 1 when the
-- event is a release (a conviction on the same day counts as a conviction). Comparison
-- units are measured the same way (candidate_events.sql).
-- own_units_from: the earliest of the participant's events that may be their referral, so
-- none from it on is also one of their comparison units (candidate_event_rows.sql): the
-- referral's own event when the referral date is given; without it, the start less
-- $referral_window_days (the study's most days from the referring conviction to the
-- start), or the record's event if earlier. Without it, an event proven between the
-- referral and the start is taken for the trigger, and the real trigger, kept as a
-- comparison unit, matched the participant with their own heavier record of days before
-- (issue 39, finding 1: the rate ratio 2% too low on data without referral dates).
CREATE OR REPLACE TABLE participant_cohort AS
WITH firsts AS (
    SELECT
        person_id,
        any_value(programme ORDER BY start_number) AS programme,
        min(start_date) AS first_start,
        any_value(referral_date ORDER BY start_number) AS referral_date,
        coalesce(any_value(referral_date ORDER BY start_number), min(start_date)) AS record_by,
        min(start_date) + $index_shift_days AS index_date,
        count(*) - 1 AS later_starts
    FROM participant_starts
    GROUP BY person_id
),
events AS (
    SELECT person_id, outcome_date AS event_date, 0 AS after_release FROM offences
    UNION ALL
    SELECT person_id, custody_end AS event_date, 1 AS after_release FROM custody WHERE custody_end IS NOT NULL
),
triggers AS (
    SELECT person_id, first_start - event_date AS record_gap, after_release
    FROM (
        SELECT f.person_id, f.first_start, e.event_date, e.after_release,
               row_number() OVER (PARTITION BY f.person_id ORDER BY e.event_date DESC, e.after_release) AS latest
        FROM firsts AS f
        JOIN events AS e ON e.person_id = f.person_id
         AND e.event_date <= f.record_by AND e.event_date > f.record_by - 365
    )
    WHERE latest = 1
)
SELECT
    person_id,
    programme,
    first_start,
    referral_date,
    index_date,
    CAST(coalesce(t.record_gap, first_start - referral_date, 0) AS INTEGER) AS record_gap,
    coalesce(t.after_release, 0) AS after_release,
    CASE WHEN referral_date IS NULL
         THEN least(first_start - CAST(coalesce(t.record_gap, 0) AS INTEGER),
                    first_start - CAST($referral_window_days AS INTEGER))
         ELSE first_start - CAST(coalesce(t.record_gap, first_start - referral_date, 0) AS INTEGER)
    END AS own_units_from,
    later_starts,
    index_date - $before_days AS before_start,
    index_date + $after_days AS after_end,
    CASE
        WHEN index_date - $before_days < $data_start
            THEN 'before window starts before the data begin'
        WHEN index_date + $after_days + $waiting_days - 1 > $cutoff
            THEN 'incomplete follow-up: the after window and waiting period end after the data cut-off'
    END AS exclusion
FROM firsts
LEFT JOIN triggers AS t USING (person_id)
ORDER BY person_id;
