-- comparison_intervals: each matched comparison's after window cut into intervals of
-- $interval_days (the last may be shorter), for the censoring weights. A comparison who
-- starts the evaluated programme during its after window is censored on its start date
-- (from then on its offending is a participant's): the interval it starts in ends there
-- and later intervals are dropped. One who started between its pseudo event and its
-- index date is censored at once (interval 0, no time at risk).
-- Per interval:
--   days_at_risk     days from t0 to t_end (the interval's end, or the start) less custody
--   offences         offences counted in the after window (window_offences) committed in it
--   first_offence    1 if the unit's first counted offence of the window falls in it
--   starts           1 if the unit starts the programme in it (censoring)
--   in_start_range   whether anyone could start then: the interval overlaps the span of
--                    recorded programme starts [$first_start, $last_start]
--   proven_365, proven_28  offences proven in the 365 and 28 days before the interval
--                    began: the history recorded before any decision in it (referral
--                    follows a conviction within weeks)
--   age (in the interval's first day's year), high_risk (MAPPA or PPO), offences_before (at the index date)
-- {{ matched }} is matched_units, or matcher_output for a re-match.
WITH units AS (
    SELECT DISTINCT unit_id FROM {{ matched }} WHERE treat = 0
),
grid AS (
    SELECT
        o.unit_id,
        o.person_id,
        o.index_date,
        o.later_start_date,
        o.first_after_day,
        o.age_at_index,
        o.offences_before,
        CAST(coalesce(o.mappa OR o.ppo, false) AS INTEGER) AS high_risk,
        k.range AS interval,
        o.index_date + CAST(k.range * $interval_days AS INTEGER) AS t0,
        least(o.index_date + CAST((k.range + 1) * $interval_days AS INTEGER),
              o.index_date + CAST($after_days AS INTEGER)) AS t1
    FROM unit_outcomes AS o
    JOIN units USING (unit_id)
    CROSS JOIN range(0, CAST(ceil($after_days / $interval_days) AS BIGINT)) AS k
),
spans AS (
    SELECT
        *,
        CAST(coalesce(later_start_date < t1, false) AS INTEGER) AS starts,
        CASE WHEN later_start_date < t1 THEN greatest(t0, later_start_date) ELSE t1 END AS t_end
    FROM grid
    WHERE later_start_date IS NULL OR later_start_date >= t0 OR interval = 0
),
custody AS (
    SELECT s.unit_id, s.interval,
           sum(greatest(0, least(p.period_end, s.t_end) - greatest(p.period_start, s.t0))) AS days
    FROM spans AS s
    JOIN custody_periods AS p ON p.person_id = s.person_id
    WHERE p.period_start < s.t_end AND p.period_end > s.t0
    GROUP BY s.unit_id, s.interval
),
counted AS (
    SELECT s.unit_id, s.interval, count(*) AS offences
    FROM spans AS s
    JOIN window_offences AS w
      ON w.unit_id = s.unit_id AND w.period = 'after'
     AND w.days_from_index >= s.t0 - s.index_date AND w.days_from_index < s.t_end - s.index_date
    GROUP BY s.unit_id, s.interval
),
history AS (
    SELECT s.unit_id, s.interval,
           count(*) AS proven_365,
           count(*) FILTER (WHERE o.outcome_date >= s.t0 - 28) AS proven_28
    FROM spans AS s
    JOIN offences AS o
      ON o.person_id = s.person_id AND o.outcome_date < s.t0 AND o.outcome_date >= s.t0 - 365
    GROUP BY s.unit_id, s.interval
)
SELECT
    s.unit_id,
    s.interval,
    CAST(s.t0 - DATE '1970-01-01' AS INTEGER) AS t0_day,
    greatest(0, (s.t_end - s.t0) - least(s.t_end - s.t0, coalesce(c.days, 0))) AS days_at_risk,
    coalesce(k.offences, 0) AS offences,
    CAST(s.first_after_day IS NOT NULL
         AND s.first_after_day >= s.t0 - s.index_date
         AND s.first_after_day < s.t_end - s.index_date AS INTEGER) AS first_offence,
    s.starts,
    (s.t1 > $first_start AND s.t0 <= $last_start) AS in_start_range,
    coalesce(h.proven_365, 0) AS proven_365,
    coalesce(h.proven_28, 0) AS proven_28,
    s.age_at_index + (year(s.t0) - year(s.index_date)) AS age,
    s.high_risk,
    s.offences_before
FROM spans AS s
LEFT JOIN custody AS c USING (unit_id, interval)
LEFT JOIN counted AS k USING (unit_id, interval)
LEFT JOIN history AS h USING (unit_id, interval)
ORDER BY s.unit_id, s.interval;
