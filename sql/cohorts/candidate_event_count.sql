-- How many candidate events fall in the participants' index-date range (before sampling).
WITH events AS (
    SELECT person_id, outcome_date + $index_lag_days + $index_shift_days AS index_date FROM offences
    UNION
    SELECT person_id, custody_end + $index_lag_days + $index_shift_days AS index_date FROM custody
    WHERE custody_end IS NOT NULL
)
SELECT count(*) FROM events WHERE index_date BETWEEN $first_index AND $last_index;
