-- custody_checked: every row of the optional custody file, typed, with its line number
-- and the first check it fails. An empty custody_end means still in custody at the
-- cut-off. Needs the loaded people table. The date checks are date_problem's
-- (macros.sql), with their rules from the contract.
-- A view: the load reads it once to keep the rows that pass (load/checked_loaded), and
-- again for the reasons only when some rows failed (load/checked_rejects). The checks'
-- values are bound parameters held as session variables (load/set_check_value).
CREATE OR REPLACE TEMP VIEW custody_checked AS
WITH cleaned AS (
    SELECT
        line,
        custody_start AS custody_start_value,
        custody_end AS custody_end_value,
        clean_text(person_id) AS person_id
    FROM raw_custody
),
typed AS (
    SELECT
        *,
        iso_date(custody_start_value, clean_text(custody_start_value)) AS custody_start,
        iso_date(custody_end_value, clean_text(custody_end_value)) AS custody_end
    FROM cleaned
)
SELECT
    t.line, t.person_id, t.custody_start, t.custody_end,
    coalesce(
        CASE WHEN t.person_id IS NULL THEN {'column_name': 'person_id', 'reason': 'person_id is missing'} END,
        date_problem('custody_start', t.custody_start_value, t.custody_start, NULL),
        date_problem('custody_end', t.custody_end_value, t.custody_end, t.custody_start),
        person_problem(t.person_id, p.person_id, rp.reason)
    ) AS problem
FROM typed AS t
LEFT JOIN people AS p ON p.person_id = t.person_id
LEFT JOIN rejected_people AS rp ON rp.person_id = t.person_id;
