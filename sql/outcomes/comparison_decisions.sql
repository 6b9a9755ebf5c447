-- comparison_decisions: the referral decisions of each matched comparison, for the
-- censoring weights. Referral follows a proven offence (a conviction or caution), and a
-- referred person starts within $referral_days of it, so each proven offence from
-- $referral_days before the index date, and after the unit's own triggering event (its
-- record date: a start triggered by that event would have made it a participant's unit,
-- not a comparison's, sql/cohorts/candidate_events.sql, so it is never a referral here),
-- to the end of the after window is a decision:
-- referred (the comparison is censored there) or not. The decision that led to a start
-- is the first proven offence in the $referral_days before the start (trigger = 1);
-- decisions after it are not listed. A comparison whose start follows no proven offence
-- in that span has no trigger and is censored on its start date.
-- Per decision:
--   day              the outcome date (days since 1970-01-01)
--   proven_that_day  offences proven that day (one decision)
--   proven_365       offences proven in the 365 days before it: the record the referrer reads
--   age, high_risk   age in the year of the decision; MAPPA or PPO
--   offences_before  offences in the unit's before window
--   in_start_range   whether a start could follow it: the span of first starts on the
--                    evaluated programmes [$first_start, $last_start] overlaps the
--                    $referral_days after it
-- {{ matched }} is matched_units, or matcher_output for a re-match.
WITH units AS (
    SELECT DISTINCT unit_id FROM {{ matched }} WHERE treat = 0
),
u AS (
    SELECT o.unit_id, o.person_id, o.index_date, sp.record_date, o.later_start_date, o.age_at_index,
           o.offences_before, CAST(coalesce(o.mappa OR o.ppo, false) AS INTEGER) AS high_risk
    FROM unit_outcomes AS o
    JOIN units USING (unit_id)
    JOIN study_population AS sp USING (unit_id)
),
first_decision AS (  -- no decision is earlier than this, nor its 365 days' record
    SELECT person_id, min(index_date) - CAST($referral_days AS INTEGER) AS day
    FROM u
    GROUP BY person_id
),
proven AS (
    SELECT
        o.person_id,
        o.outcome_date,
        count(*) OVER (PARTITION BY o.person_id ORDER BY o.outcome_date
                       RANGE BETWEEN INTERVAL 365 DAYS PRECEDING AND INTERVAL 1 DAY PRECEDING) AS proven_365
    FROM offences AS o
    JOIN first_decision AS f ON f.person_id = o.person_id
    WHERE o.outcome_date >= f.day - 365  -- older offences count towards no decision's proven_365
),
decisions AS (
    SELECT
        u.unit_id,
        p.outcome_date,
        p.proven_365,
        u.age_at_index + (year(p.outcome_date) - year(u.index_date)) AS age,
        u.high_risk,
        u.offences_before,
        u.later_start_date,
        u.later_start_date IS NOT NULL
            AND u.later_start_date < u.index_date + CAST($after_days AS INTEGER)
            AND p.outcome_date <= u.later_start_date
            AND p.outcome_date >= u.later_start_date - CAST($referral_days AS INTEGER) AS before_start
    FROM u
    JOIN proven AS p ON p.person_id = u.person_id
    WHERE p.outcome_date >= u.index_date - CAST($referral_days AS INTEGER)
      AND p.outcome_date > u.record_date
      AND p.outcome_date < u.index_date + CAST($after_days AS INTEGER)
),
days AS (  -- offences proven on the same day are one decision
    SELECT unit_id, outcome_date, count(*) AS proven_that_day, any_value(proven_365) AS proven_365,
           any_value(age) AS age, any_value(high_risk) AS high_risk, any_value(offences_before) AS offences_before,
           bool_or(before_start) AS before_start
    FROM decisions
    GROUP BY unit_id, outcome_date
),
triggers AS (
    SELECT unit_id, min(outcome_date) AS trigger_date FROM days WHERE before_start GROUP BY unit_id
)
SELECT
    d.unit_id,
    CAST(d.outcome_date - DATE '1970-01-01' AS INTEGER) AS day,
    CAST(coalesce(d.outcome_date = t.trigger_date, false) AS INTEGER) AS trigger,
    d.proven_that_day,
    d.proven_365,
    d.age,
    d.high_risk,
    d.offences_before,
    (d.outcome_date <= $last_start AND d.outcome_date + CAST($referral_days AS INTEGER) >= $first_start) AS in_start_range
FROM days AS d
LEFT JOIN triggers AS t USING (unit_id)
WHERE t.trigger_date IS NULL OR d.outcome_date <= t.trigger_date
ORDER BY d.unit_id, d.outcome_date;
