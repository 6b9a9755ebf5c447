-- window_offences: each analysed participant's offences that count in a window, one row
-- per offence. An offence counts when it was committed in the window and proven before
-- the window's end + $waiting_days:
--   before: index - before_days <= offence_date < index,  outcome_date < index + waiting
--   after:  index <= offence_date < index + after_days,   outcome_date < index + after + waiting
CREATE OR REPLACE TABLE window_offences AS
SELECT
    c.person_id,
    o.category,
    CASE WHEN o.offence_date < c.index_date THEN 'before' ELSE 'after' END AS period
FROM participant_cohort AS c
JOIN offences AS o ON o.person_id = c.person_id
WHERE c.exclusion IS NULL
  AND o.offence_date >= c.before_start
  AND o.offence_date < c.after_end
  AND o.outcome_date < CASE WHEN o.offence_date < c.index_date THEN c.index_date ELSE c.after_end END + $waiting_days;
