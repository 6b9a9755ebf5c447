-- comparison_intervals: each matched comparison's after window cut into intervals of
-- $interval_days (the last may be shorter), for the censoring weights. A comparison who
-- starts the evaluated programme during its after window is censored on its start date
-- (from then on its offending is a participant's): the interval it starts in ends there
-- and later intervals are dropped. (The censoring weights censor it earlier, at the
-- referral decision that led to the start: sql/outcomes/comparison_decisions.sql.) One who started between its pseudo event and its
-- index date is censored at once (interval 0, no time at risk).
-- Per interval:
--   days_at_risk     days from t0 to t_end (the interval's end, or the start) less custody
--   offences         offences counted in the after window (window_offences) committed in it
--   first_offence    1 if the unit's first counted offence of the window falls in it
--   starts           1 if the unit starts the programme in it (censoring)
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
)
SELECT
    s.unit_id,
    s.interval,
    CAST(s.t0 - DATE '1970-01-01' AS INTEGER) AS t0_day,
    CAST(greatest(0, (s.t_end - s.t0) - least(s.t_end - s.t0, coalesce(c.days, 0))) AS INTEGER) AS days_at_risk,
    coalesce(k.offences, 0) AS offences,
    CAST(s.first_after_day IS NOT NULL
         AND s.first_after_day >= s.t0 - s.index_date
         AND s.first_after_day < s.t_end - s.index_date AS INTEGER) AS first_offence,
    s.starts
FROM spans AS s
LEFT JOIN custody AS c USING (unit_id, interval)
LEFT JOIN counted AS k USING (unit_id, interval)
ORDER BY s.unit_id, s.interval;
