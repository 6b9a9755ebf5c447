-- participant_outcomes: one row per analysed participant with the offences that count
-- in the before and after windows (window_offences), the same counts by offence group,
-- and days at risk (window days less days in custody inside the window, capped at the
-- window; overlapping custody periods are not merged, so the cap matters).
CREATE OR REPLACE TABLE participant_outcomes AS
WITH cohort AS (
    SELECT * FROM participant_cohort WHERE exclusion IS NULL
),
counts AS (
    SELECT
        person_id,
        count(*) FILTER (WHERE period = 'before') AS offences_before,
        count(*) FILTER (WHERE period = 'after') AS offences_after,
        count(*) FILTER (WHERE period = 'before' AND list_contains($person_group, category)) AS person_before,
        count(*) FILTER (WHERE period = 'after' AND list_contains($person_group, category)) AS person_after,
        count(*) FILTER (WHERE period = 'before' AND list_contains($property_group, category)) AS property_before,
        count(*) FILTER (WHERE period = 'after' AND list_contains($property_group, category)) AS property_after,
        count(*) FILTER (WHERE period = 'before' AND list_contains($drugs_group, category)) AS drugs_before,
        count(*) FILTER (WHERE period = 'after' AND list_contains($drugs_group, category)) AS drugs_after,
        count(*) FILTER (WHERE period = 'before' AND list_contains($other_group, category)) AS other_before,
        count(*) FILTER (WHERE period = 'after' AND list_contains($other_group, category)) AS other_after
    FROM window_offences
    GROUP BY person_id
),
custody AS (
    SELECT
        c.person_id,
        sum(greatest(0, least(p.period_end, c.index_date) - greatest(p.period_start, c.before_start))) AS custody_before,
        sum(greatest(0, least(p.period_end, c.after_end) - greatest(p.period_start, c.index_date))) AS custody_after
    FROM cohort AS c
    JOIN custody_periods AS p ON p.person_id = c.person_id
    WHERE p.period_start < c.after_end AND p.period_end > c.before_start
    GROUP BY c.person_id
)
SELECT
    c.person_id,
    c.programme,
    c.index_date,
    c.later_starts,
    pe.sex,
    year(c.index_date) - pe.birth_year AS age_at_index,
    pe.mappa,
    pe.ppo,
    coalesce(k.offences_before, 0) AS offences_before,
    coalesce(k.offences_after, 0) AS offences_after,
    coalesce(k.person_before, 0) AS person_before,
    coalesce(k.person_after, 0) AS person_after,
    coalesce(k.property_before, 0) AS property_before,
    coalesce(k.property_after, 0) AS property_after,
    coalesce(k.drugs_before, 0) AS drugs_before,
    coalesce(k.drugs_after, 0) AS drugs_after,
    coalesce(k.other_before, 0) AS other_before,
    coalesce(k.other_after, 0) AS other_after,
    $before_days - least($before_days, coalesce(cu.custody_before, 0)) AS days_at_risk_before,
    $after_days - least($after_days, coalesce(cu.custody_after, 0)) AS days_at_risk_after
FROM cohort AS c
JOIN people AS pe ON pe.person_id = c.person_id
LEFT JOIN counts AS k ON k.person_id = c.person_id
LEFT JOIN custody AS cu ON cu.person_id = c.person_id
ORDER BY c.person_id;
