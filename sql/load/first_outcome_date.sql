-- first_outcome_date: the first offence line with an outcome_date written (line, value),
-- quoted when no outcome_date could be read as a date.
SELECT line, clean_text(outcome_date) AS written
FROM raw_offences
WHERE NOT blank(outcome_date)
ORDER BY line
LIMIT 1;
