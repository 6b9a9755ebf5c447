-- custody_periods: days in custody as half-open periods [period_start, period_end).
-- From the custody table when it has rows (an open period runs to the day after the
-- cut-off), otherwise from offences' custody_days counted from the outcome date.
CREATE OR REPLACE TABLE custody_periods AS
SELECT person_id, custody_start AS period_start, coalesce(custody_end, $cutoff + 1) AS period_end
FROM custody
UNION ALL
SELECT person_id, outcome_date AS period_start, outcome_date + custody_days AS period_end
FROM offences
WHERE custody_days > 0 AND NOT EXISTS (SELECT 1 FROM custody);
