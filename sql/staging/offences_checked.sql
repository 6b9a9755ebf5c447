-- offences_checked: every row of the offences file, typed, with its line number and the
-- first check it fails (problem IS NULL for rows that load). Needs the loaded people table.
-- The date checks are date_problem's (macros.sql), with their rules from the contract.
-- A view: the load reads it once to keep the rows that pass (load/checked_loaded), and
-- again for the reasons only when some rows failed (load/checked_rejects). The checks'
-- values are bound parameters held as session variables (load/set_check_value).
CREATE OR REPLACE TEMP VIEW offences_checked AS
WITH cleaned AS (
    SELECT
        line,
        offence_date AS offence_date_value,
        outcome_date AS outcome_date_value,
        custody_days AS custody_days_value,
        clean_text(person_id) AS person_id,
        lower(clean_text(category)) AS category,
        lower(clean_text(disposal)) AS disposal
    FROM raw_offences
),
typed AS (
    SELECT
        *,
        iso_date(offence_date_value, clean_text(offence_date_value)) AS offence_date,
        iso_date(outcome_date_value, clean_text(outcome_date_value)) AS outcome_date,
        whole_number(custody_days_value, clean_text(custody_days_value)) AS custody_days
    FROM cleaned
)
SELECT
    t.line, t.person_id, t.offence_date, t.outcome_date,
    TRY_CAST(t.category AS offence_category) AS category, TRY_CAST(t.disposal AS offence_disposal) AS disposal,
    t.custody_days,
    coalesce(
        CASE WHEN t.person_id IS NULL THEN {'column_name': 'person_id', 'reason': 'person_id is missing'} END,
        date_problem('offence_date', t.offence_date_value, t.offence_date, NULL),
        date_problem('outcome_date', t.outcome_date_value, t.outcome_date, t.offence_date),
        CASE
            WHEN t.category IS NULL
                THEN {'column_name': 'category', 'reason': 'category is missing'}
            WHEN NOT list_contains(getvariable('categories'), t.category)
                THEN {'column_name': 'category', 'reason': 'category ' || shown(t.category) || ' is not a known offence category'}
            WHEN t.disposal IS NOT NULL AND NOT list_contains(getvariable('disposals'), t.disposal)
                THEN {'column_name': 'disposal', 'reason': 'disposal ' || shown(t.disposal) || ' is not a known disposal'}
            WHEN NOT blank(t.custody_days_value) AND t.custody_days IS NULL
                THEN {'column_name': 'custody_days', 'reason': 'custody_days ' || shown(clean_text(t.custody_days_value)) || ' is not a whole number'}
            WHEN t.custody_days < 0
                THEN {'column_name': 'custody_days', 'reason': 'custody_days ' || shown(clean_text(t.custody_days_value)) || ' is negative'}
        END,
        person_problem(t.person_id, p.person_id, rp.reason),
        CASE
            WHEN year(t.offence_date) - p.birth_year < getvariable('min_age')
                THEN {'column_name': 'offence_date', 'reason': 'person was under ' || getvariable('min_age') || ' (the age of criminal responsibility) at the offence'}
        END
    ) AS problem
FROM typed AS t
LEFT JOIN people AS p ON p.person_id = t.person_id
LEFT JOIN rejected_people AS rp ON rp.person_id = t.person_id;
