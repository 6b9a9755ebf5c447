-- participant_cohort: one row per person submitted (anyone with a start on the evaluated
-- programmes), with their first start, the index date (that start moved by
-- $index_shift_days, a setting that moves every index date), the half-open windows
--   before = [index - $before_days, index),  after = [index, index + $after_days),
-- and the reason they are excluded, if they are. Follow-up is complete when every
-- offence committed in the after window and proven within $waiting_days of its end
-- would be in the data: index + after + waiting - 1 <= $cutoff.
CREATE OR REPLACE TABLE participant_cohort AS
WITH firsts AS (
    SELECT
        person_id,
        any_value(programme ORDER BY start_number) AS programme,
        min(start_date) AS first_start,
        min(start_date) + $index_shift_days AS index_date,
        count(*) - 1 AS later_starts
    FROM participant_starts
    GROUP BY person_id
)
SELECT
    person_id,
    programme,
    first_start,
    index_date,
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
ORDER BY person_id;
