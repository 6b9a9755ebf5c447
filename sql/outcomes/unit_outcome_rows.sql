-- unit_outcome_rows: the outcomes of each unit in {{ matched }} (matched_units, or
-- matcher_output: one matching's rows or the union of several), one row per unit; the
-- matched rows are joined to them in memory (evaluation/match/sample.py). start_day is
-- the day of the after window on which a unit started the programme later (NULL if it
-- did not): a comparison with start_day < the after window's length is contaminated
-- (its offending from then on is a participant's). offences_after_start counts the
-- offences of the after window committed on or after that start (0 if none): the part of
-- a comparison's follow-up spent on the programme, for the structural estimate
-- (evaluation/estimate/structural.py).
WITH units AS (
    SELECT DISTINCT unit_id FROM {{ matched }}
),
after_start AS (
    SELECT w.unit_id, count(*) AS offences
    FROM window_offences AS w
    JOIN unit_outcomes AS o USING (unit_id)
    WHERE w.period = 'after'
      AND o.later_start_date IS NOT NULL
      AND w.days_from_index >= o.later_start_date - o.index_date
      AND w.unit_id IN (SELECT unit_id FROM units)
    GROUP BY w.unit_id
)
SELECT
    o.unit_id,
    o.person_id,
    o.offences_before,
    o.offences_after,
    o.days_at_risk_after,
    o.first_after_day,
    o.later_start_date - o.index_date AS start_day,
    coalesce(a.offences, 0) AS offences_after_start
FROM unit_outcomes AS o
JOIN units USING (unit_id)
LEFT JOIN after_start AS a USING (unit_id)
ORDER BY o.unit_id;
