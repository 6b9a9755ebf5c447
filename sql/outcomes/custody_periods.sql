-- custody_periods: days in custody as half-open periods [period_start, period_end), with
-- overlapping periods merged (two sentences served together are one spell), so that days
-- in custody are never counted twice. From the custody table when it has rows (an open
-- period runs to the day after the cut-off), otherwise from offences' custody_days
-- counted from the outcome date. Only the study population's people (participants and
-- comparison candidates) are needed; everyone else is left out.
CREATE OR REPLACE TABLE custody_periods AS
WITH people_needed AS (
    SELECT DISTINCT person_id FROM study_population
),
raw AS (
    SELECT person_id, custody_start AS period_start, coalesce(custody_end, $cutoff + 1) AS period_end
    FROM custody
    WHERE person_id IN (SELECT person_id FROM people_needed)
    UNION ALL
    SELECT person_id, outcome_date AS period_start, outcome_date + custody_days AS period_end
    FROM offences
    WHERE custody_days > 0 AND NOT EXISTS (SELECT 1 FROM custody)
      AND person_id IN (SELECT person_id FROM people_needed)
),
ordered AS (
    SELECT
        *,
        max(period_end) OVER (PARTITION BY person_id ORDER BY period_start, period_end
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_end
    FROM raw
    WHERE period_end > period_start
),
spells AS (
    SELECT
        *,
        sum(CASE WHEN earlier_end IS NULL OR period_start > earlier_end THEN 1 ELSE 0 END)
            OVER (PARTITION BY person_id ORDER BY period_start, period_end ROWS UNBOUNDED PRECEDING) AS spell
    FROM ordered
)
SELECT person_id, min(period_start) AS period_start, max(period_end) AS period_end
FROM spells
GROUP BY person_id, spell;
