-- unit_covariates: what was known about each unit strictly before its record date, the
-- date of the event that triggered it (study_population.record_date: for a participant
-- the latest conviction, caution or release before the start, for a comparison the event
-- that made the unit; never after the index date, so no look-ahead): only offences
-- proven (outcome_date) before it count, and only custody periods that began before it.
-- proven_365 counts offences proven (convicted or cautioned) in the 365 days before it,
-- whenever committed: the record a referrer reads. Age and calendar quarter are at the
-- index date.
--
-- The same pass also counts each unit's offences in the falsification test's control
-- window (evaluation/checks/falsification.py), the $control_days that end where the
-- selection year begins, a year before the record date:
--   [record - $before_days - $control_days, record - $before_days), proven before
--   record - $before_days + $waiting_days (the main windows' rule);
-- control_complete is false when that window starts before the data do. It reads the same
-- joined rows as the covariates, so it costs a count, not a second join of every unit with
-- every offence. (Those offences were proven before the record date whenever
-- $waiting_days <= $before_days, as by default; the join reaches further only when not.)
CREATE OR REPLACE TABLE unit_covariates AS
WITH known AS (  -- each unit's offences proven before its record date, or in time for the control window
    SELECT
        u.unit_id,
        u.record_date,
        o.offence_date,
        o.outcome_date,
        o.category,
        o.outcome_date < u.record_date AS proven_before
    FROM study_population AS u
    JOIN offences AS o ON o.person_id = u.person_id
    WHERE o.outcome_date < u.record_date + greatest(0, $waiting_days - $before_days)
),
prior AS (
    SELECT
        unit_id,
        count(*) FILTER (WHERE proven_before AND offence_date >= record_date - 365) AS prior_offences_365,
        count(*) FILTER (WHERE proven_before AND outcome_date >= record_date - 365) AS proven_365,
        count(*) FILTER (WHERE proven_before AND offence_date < record_date - 365 AND offence_date >= record_date - 730) AS prior_offences_366_730,
        count(*) FILTER (WHERE proven_before AND offence_date < record_date - 730) AS prior_offences_earlier,
        count(*) FILTER (WHERE proven_before AND list_contains($person_group, category)) AS prior_person,
        count(*) FILTER (WHERE proven_before AND list_contains($property_group, category)) AS prior_property,
        count(*) FILTER (WHERE proven_before AND list_contains($drugs_group, category)) AS prior_drugs,
        max(offence_date) FILTER (WHERE proven_before) AS last_offence_date,
        count(*) FILTER (WHERE offence_date >= record_date - $before_days - $control_days
                           AND offence_date < record_date - $before_days
                           AND outcome_date < record_date - $before_days + $waiting_days) AS control_offences
    FROM known
    GROUP BY unit_id
),
prior_custody AS (
    SELECT u.unit_id, count(*) AS periods
    FROM study_population AS u
    JOIN custody_periods AS p ON p.person_id = u.person_id
    WHERE p.period_start < u.record_date
    GROUP BY u.unit_id
)
SELECT
    u.unit_id,
    u.treat,
    CAST(year(u.index_date) - pe.birth_year AS DOUBLE) AS age_at_index,
    CAST(pe.sex = 'F' AS DOUBLE) AS female,
    CAST(pe.mappa AS DOUBLE) AS mappa,
    CAST(pe.ppo AS DOUBLE) AS ppo,
    CAST(coalesce(p.prior_offences_365, 0) AS DOUBLE) AS prior_offences_365,
    CAST(coalesce(p.proven_365, 0) AS DOUBLE) AS proven_365,
    CAST(coalesce(p.prior_offences_366_730, 0) AS DOUBLE) AS prior_offences_366_730,
    CAST(coalesce(p.prior_offences_earlier, 0) AS DOUBLE) AS prior_offences_earlier,
    CAST(coalesce(p.prior_person, 0) AS DOUBLE) AS prior_person,
    CAST(coalesce(p.prior_property, 0) AS DOUBLE) AS prior_property,
    CAST(coalesce(p.prior_drugs, 0) AS DOUBLE) AS prior_drugs,
    CAST(least(coalesce(u.record_date - p.last_offence_date, $no_offence_days), $no_offence_days) AS DOUBLE) AS days_since_last_offence,
    CAST(coalesce(pc.periods, 0) > 0 AS DOUBLE) AS prior_custody,
    CAST(year(u.index_date) * 4 + quarter(u.index_date) - 1 AS DOUBLE) / 4 AS index_quarter,
    pe.ogrs3 AS ogrs3,
    CAST(u.after_release AS DOUBLE) AS index_after_release,
    coalesce(p.control_offences, 0) AS control_offences,
    u.record_date - $before_days - $control_days >= $data_start AS control_complete
FROM study_population AS u
JOIN people AS pe ON pe.person_id = u.person_id
LEFT JOIN prior AS p ON p.unit_id = u.unit_id
LEFT JOIN prior_custody AS pc ON pc.unit_id = u.unit_id
ORDER BY u.unit_id;
