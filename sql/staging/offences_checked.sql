-- offences_checked: every row of the offences file, typed, with its line number and the
-- first check it fails (problem IS NULL for rows that load). Needs the loaded people table.
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
    CASE
        WHEN t.person_id IS NULL
            THEN {'column_name': 'person_id', 'reason': 'person_id is missing'}
        WHEN blank(t.offence_date_value)
            THEN {'column_name': 'offence_date', 'reason': 'offence_date is missing'}
        WHEN t.offence_date IS NULL
            THEN {'column_name': 'offence_date', 'reason': 'offence_date ' || shown(clean_text(t.offence_date_value)) || ' is not a real date in YYYY-MM-DD form'}
        WHEN t.offence_date < DATE '1900-01-01'
            THEN {'column_name': 'offence_date', 'reason': 'offence_date ' || shown(clean_text(t.offence_date_value)) || ' is before 1900'}
        WHEN t.offence_date > getvariable('cutoff')
            THEN {'column_name': 'offence_date', 'reason': 'offence_date ' || shown(clean_text(t.offence_date_value)) || ' is after the data cut-off'}
        WHEN blank(t.outcome_date_value)
            THEN {'column_name': 'outcome_date', 'reason': 'outcome_date is missing'}
        WHEN t.outcome_date IS NULL
            THEN {'column_name': 'outcome_date', 'reason': 'outcome_date ' || shown(clean_text(t.outcome_date_value)) || ' is not a real date in YYYY-MM-DD form'}
        WHEN t.outcome_date < t.offence_date
            THEN {'column_name': 'outcome_date', 'reason': 'outcome_date ' || shown(clean_text(t.outcome_date_value)) || ' is before offence_date'}
        WHEN t.outcome_date > getvariable('cutoff')
            THEN {'column_name': 'outcome_date', 'reason': 'outcome_date ' || shown(clean_text(t.outcome_date_value)) || ' is after the data cut-off'}
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
        WHEN p.person_id IS NULL
            THEN {'column_name': 'person_id', 'reason': 'person_id ' || shown(t.person_id) || ' is not in people'}
        WHEN year(t.offence_date) - p.birth_year < getvariable('min_age')
            THEN {'column_name': 'offence_date', 'reason': 'person was under ' || getvariable('min_age') || ' (the age of criminal responsibility) at the offence'}
    END AS problem
FROM typed AS t
LEFT JOIN people AS p ON p.person_id = t.person_id;
