-- unit_outcome_rows: the outcomes of each unit in {{ matched }} (matched_units, or
-- matcher_output: one matching's rows or the union of several), one row per unit; the
-- matched rows are joined to them in memory (evaluation/match/sample.py). start_day is
-- the day of the after window on which a unit started the programme later (NULL if it
-- did not): a comparison with start_day < the after window's length is contaminated
-- (its offending from then on is a participant's).
WITH units AS (
    SELECT DISTINCT unit_id FROM {{ matched }}
)
SELECT
    o.unit_id,
    o.person_id,
    o.offences_before,
    o.offences_after,
    o.days_at_risk_after,
    o.first_after_day,
    o.later_start_date - o.index_date AS start_day
FROM unit_outcomes AS o
JOIN units USING (unit_id)
ORDER BY o.unit_id;
