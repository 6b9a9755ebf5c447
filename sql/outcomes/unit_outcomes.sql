-- unit_outcomes: one row per unit of the study population with the offences that count
-- in the before and after windows (window_offences), the same counts by offence group,
-- the day of the first counted offence in the after window (NULL if none), and days at
-- risk (window days less days in custody inside the window; custody_periods are merged,
-- so no day is counted twice).
CREATE OR REPLACE TABLE unit_outcomes AS
WITH counts AS (
    SELECT
        unit_id,
        count(*) FILTER (WHERE period = 'before') AS offences_before,
        count(*) FILTER (WHERE period = 'after') AS offences_after,
        min(days_from_index) FILTER (WHERE period = 'after') AS first_after_day,
        count(*) FILTER (WHERE period = 'before' AND list_contains($person_group, category)) AS person_before,
        count(*) FILTER (WHERE period = 'after' AND list_contains($person_group, category)) AS person_after,
        count(*) FILTER (WHERE period = 'before' AND list_contains($property_group, category)) AS property_before,
        count(*) FILTER (WHERE period = 'after' AND list_contains($property_group, category)) AS property_after,
        count(*) FILTER (WHERE period = 'before' AND list_contains($drugs_group, category)) AS drugs_before,
        count(*) FILTER (WHERE period = 'after' AND list_contains($drugs_group, category)) AS drugs_after,
        count(*) FILTER (WHERE period = 'before' AND list_contains($other_group, category)) AS other_before,
        count(*) FILTER (WHERE period = 'after' AND list_contains($other_group, category)) AS other_after
    FROM window_offences
    GROUP BY unit_id
),
custody AS (
    SELECT
        u.unit_id,
        sum(greatest(0, least(p.period_end, u.index_date) - greatest(p.period_start, u.before_start))) AS custody_before,
        sum(greatest(0, least(p.period_end, u.after_end) - greatest(p.period_start, u.index_date))) AS custody_after
    FROM study_population AS u
    JOIN custody_periods AS p ON p.person_id = u.person_id
    WHERE p.period_start < u.after_end AND p.period_end > u.before_start
    GROUP BY u.unit_id
)
SELECT
    u.unit_id,
    u.person_id,
    u.treat,
    u.programme,
    u.index_date,
    u.later_start_date,
    pe.sex,
    year(u.index_date) - pe.birth_year AS age_at_index,
    pe.mappa,
    pe.ppo,
    coalesce(k.offences_before, 0) AS offences_before,
    coalesce(k.offences_after, 0) AS offences_after,
    k.first_after_day,
    coalesce(k.person_before, 0) AS person_before,
    coalesce(k.person_after, 0) AS person_after,
    coalesce(k.property_before, 0) AS property_before,
    coalesce(k.property_after, 0) AS property_after,
    coalesce(k.drugs_before, 0) AS drugs_before,
    coalesce(k.drugs_after, 0) AS drugs_after,
    coalesce(k.other_before, 0) AS other_before,
    coalesce(k.other_after, 0) AS other_after,
    CAST($before_days - least($before_days, coalesce(cu.custody_before, 0)) AS INTEGER) AS days_at_risk_before,
    CAST($after_days - least($after_days, coalesce(cu.custody_after, 0)) AS INTEGER) AS days_at_risk_after
FROM study_population AS u
JOIN people AS pe ON pe.person_id = u.person_id
LEFT JOIN counts AS k ON k.unit_id = u.unit_id
LEFT JOIN custody AS cu ON cu.unit_id = u.unit_id
ORDER BY u.unit_id;
