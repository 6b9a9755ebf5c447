-- custody_checked: every row of the optional custody file, typed, with its line number
-- and the first check it fails. An empty custody_end means still in custody at the
-- cut-off. Needs the loaded people table.
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
    CASE
        WHEN t.person_id IS NULL
            THEN {'column_name': 'person_id', 'reason': 'person_id is missing'}
        WHEN blank(t.custody_start_value)
            THEN {'column_name': 'custody_start', 'reason': 'custody_start is missing'}
        WHEN t.custody_start IS NULL
            THEN {'column_name': 'custody_start', 'reason': 'custody_start ' || shown(clean_text(t.custody_start_value)) || ' is not a real date in YYYY-MM-DD form'}
        WHEN t.custody_start < DATE '1900-01-01'
            THEN {'column_name': 'custody_start', 'reason': 'custody_start ' || shown(clean_text(t.custody_start_value)) || ' is before 1900'}
        WHEN t.custody_start > getvariable('cutoff')
            THEN {'column_name': 'custody_start', 'reason': 'custody_start ' || shown(clean_text(t.custody_start_value)) || ' is after the data cut-off'}
        WHEN NOT blank(t.custody_end_value) AND t.custody_end IS NULL
            THEN {'column_name': 'custody_end', 'reason': 'custody_end ' || shown(clean_text(t.custody_end_value)) || ' is not a real date in YYYY-MM-DD form'}
        WHEN t.custody_end < t.custody_start
            THEN {'column_name': 'custody_end', 'reason': 'custody_end ' || shown(clean_text(t.custody_end_value)) || ' is before custody_start'}
        WHEN p.person_id IS NULL
            THEN {'column_name': 'person_id', 'reason': 'person_id ' || shown(t.person_id) || ' is not in people'}
    END AS problem
FROM typed AS t
LEFT JOIN people AS p ON p.person_id = t.person_id;
