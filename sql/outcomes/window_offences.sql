-- window_offences: each unit's offences that count in a window, one row per offence.
-- An offence counts when it was committed in the window and proven before the window's
-- end + $waiting_days:
--   before: index - before_days <= offence_date < index,  outcome_date < index + waiting
--   after:  index <= offence_date < index + after_days,   outcome_date < index + after + waiting
-- days_from_index is offence_date - index (0 for an offence on the index date). period is
-- an ENUM ('before', 'after'): a byte per row to write, not a string (it compares with the
-- words as text does).
CREATE OR REPLACE TABLE window_offences AS
SELECT
    u.unit_id,
    u.treat,
    o.category,
    CAST(CASE WHEN o.offence_date < u.index_date THEN 'before' ELSE 'after' END AS ENUM ('before', 'after')) AS period,
    o.offence_date - u.index_date AS days_from_index
FROM study_population AS u
JOIN offences AS o ON o.person_id = u.person_id
WHERE o.offence_date >= u.before_start
  AND o.offence_date < u.after_end
  AND o.outcome_date < CASE WHEN o.offence_date < u.index_date THEN u.index_date ELSE u.after_end END + $waiting_days;
