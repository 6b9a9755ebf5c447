-- participants_checked: every row of the participants file (one per programme start),
-- typed, with its line number and the first check it fails. Needs the loaded people table.
-- The date checks are date_problem's (macros.sql), with their rules from the contract.
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
        clean_text(referral_source) AS referral_source
    FROM raw_participants
),
typed AS (
    SELECT
        *,
        iso_date(start_date_value, clean_text(start_date_value)) AS start_date,
        iso_date(end_date_value, clean_text(end_date_value)) AS end_date,
        iso_date(referral_date_value, clean_text(referral_date_value)) AS referral_date
    FROM cleaned
)
SELECT
    t.line, t.person_id, t.programme, t.start_date, t.end_date, t.referral_date, t.referral_source,
    coalesce(
        CASE
            WHEN t.person_id IS NULL THEN {'column_name': 'person_id', 'reason': 'person_id is missing'}
            WHEN t.programme IS NULL THEN {'column_name': 'programme', 'reason': 'programme is missing'}
        END,
        date_problem('start_date', t.start_date_value, t.start_date, NULL),
        date_problem('end_date', t.end_date_value, t.end_date, t.start_date),
        date_problem('referral_date', t.referral_date_value, t.referral_date, t.start_date),
        person_problem(t.person_id, p.person_id, rp.reason)
    ) AS problem
FROM typed AS t
LEFT JOIN people AS p ON p.person_id = t.person_id
LEFT JOIN rejected_people AS rp ON rp.person_id = t.person_id;
