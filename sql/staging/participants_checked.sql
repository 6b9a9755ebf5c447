-- participants_checked: every row of the participants file (one per programme start),
-- typed, with its line number and the first check it fails. Needs the loaded people table.
-- A view: the load reads it once to keep the rows that pass (load/checked_loaded), and
-- again for the reasons only when some rows failed (load/checked_rejects). The checks'
-- values are bound parameters held as session variables (load/set_check_value).
CREATE OR REPLACE TEMP VIEW participants_checked AS
WITH cleaned AS (
    SELECT
        line,
        start_date AS start_date_value,
        end_date AS end_date_value,
        referral_date AS referral_date_value,
        clean_text(person_id) AS person_id,
        clean_text(programme) AS programme,
        clean_text(start_date) AS start_date_text,
        clean_text(end_date) AS end_date_text,
        clean_text(referral_date) AS referral_date_text,
        clean_text(referral_source) AS referral_source
    FROM raw_participants
),
typed AS (
    SELECT
        *,
        iso_date(start_date_value, start_date_text) AS start_date,
        iso_date(end_date_value, end_date_text) AS end_date,
        iso_date(referral_date_value, referral_date_text) AS referral_date
    FROM cleaned
)
SELECT
    t.line, t.person_id, t.programme, t.start_date, t.end_date, t.referral_date, t.referral_source,
    CASE
        WHEN t.person_id IS NULL
            THEN {'column_name': 'person_id', 'reason': 'person_id is missing'}
        WHEN t.programme IS NULL
            THEN {'column_name': 'programme', 'reason': 'programme is missing'}
        WHEN t.start_date_text IS NULL
            THEN {'column_name': 'start_date', 'reason': 'start_date is missing'}
        WHEN t.start_date IS NULL
            THEN {'column_name': 'start_date', 'reason': 'start_date ' || shown(t.start_date_text) || ' is not a real date in YYYY-MM-DD form'}
        WHEN t.start_date < DATE '1900-01-01'
            THEN {'column_name': 'start_date', 'reason': 'start_date ' || shown(t.start_date_text) || ' is before 1900'}
        WHEN t.start_date > getvariable('cutoff')
            THEN {'column_name': 'start_date', 'reason': 'start_date ' || shown(t.start_date_text) || ' is after the data cut-off'}
        WHEN t.end_date_text IS NOT NULL AND t.end_date IS NULL
            THEN {'column_name': 'end_date', 'reason': 'end_date ' || shown(t.end_date_text) || ' is not a real date in YYYY-MM-DD form'}
        WHEN t.end_date < t.start_date
            THEN {'column_name': 'end_date', 'reason': 'end_date ' || shown(t.end_date_text) || ' is before start_date'}
        WHEN t.referral_date_text IS NOT NULL AND t.referral_date IS NULL
            THEN {'column_name': 'referral_date', 'reason': 'referral_date ' || shown(t.referral_date_text) || ' is not a real date in YYYY-MM-DD form'}
        WHEN t.referral_date > t.start_date
            THEN {'column_name': 'referral_date', 'reason': 'referral_date ' || shown(t.referral_date_text) || ' is after start_date'}
        WHEN p.person_id IS NULL
            THEN {'column_name': 'person_id', 'reason': 'person_id ' || shown(t.person_id) || ' is not in people'}
    END AS problem
FROM typed AS t
LEFT JOIN people AS p ON p.person_id = t.person_id;
