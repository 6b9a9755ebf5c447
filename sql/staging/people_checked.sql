-- people_checked: every row of the people file, typed, with its line number and the
-- first check it fails (problem IS NULL for rows that load). A repeated person_id keeps
-- the first valid row and rejects the later ones.
-- A view: the load reads it once to keep the rows that pass (load/checked_loaded), and
-- again for the reasons only when some rows failed (load/checked_rejects). The checks'
-- values are bound parameters held as session variables (load/set_check_value).
CREATE OR REPLACE TEMP VIEW people_checked AS
WITH cleaned AS (
    SELECT
        line,
        birth_year AS birth_year_value,
        mappa AS mappa_value,
        ppo AS ppo_value,
        ogrs3 AS ogrs3_value,
        clean_text(person_id) AS person_id,
        upper(clean_text(sex)) AS sex,
        clean_text(ethnicity) AS ethnicity
    FROM raw_people
),
typed AS (
    SELECT
        *,
        whole_number(birth_year_value, clean_text(birth_year_value)) AS birth_year,
        as_flag(mappa_value, getvariable('true_words'), getvariable('false_words')) AS mappa,
        as_flag(ppo_value, getvariable('true_words'), getvariable('false_words')) AS ppo,
        as_number(ogrs3_value) AS ogrs3
    FROM cleaned
),
checked AS (
    SELECT
        *,
        CASE
            WHEN person_id IS NULL
                THEN {'column_name': 'person_id', 'reason': 'person_id is missing'}
            WHEN NOT regexp_full_match(person_id, getvariable('person_id_pattern'))
                THEN {'column_name': 'person_id', 'reason': 'person_id ' || shown(person_id) || ' must be 1-64 letters, digits, _ or -'}
            WHEN blank(birth_year_value)
                THEN {'column_name': 'birth_year', 'reason': 'birth_year is missing'}
            WHEN birth_year IS NULL
                THEN {'column_name': 'birth_year', 'reason': 'birth_year ' || shown(clean_text(birth_year_value)) || ' is not a whole number'}
            WHEN birth_year < 1900 OR birth_year > year(getvariable('cutoff'))
                THEN {'column_name': 'birth_year', 'reason': 'birth_year ' || shown(clean_text(birth_year_value)) || ' is before 1900 or after the data cut-off'}
            WHEN sex IS NULL
                THEN {'column_name': 'sex', 'reason': 'sex is missing'}
            WHEN NOT list_contains(getvariable('sexes'), sex)
                THEN {'column_name': 'sex', 'reason': 'sex ' || shown(sex) || ' is not one of M, F, U'}
            WHEN NOT blank(mappa_value) AND mappa IS NULL
                THEN {'column_name': 'mappa', 'reason': 'mappa ' || shown(clean_text(mappa_value)) || ' is not true/false, 1/0, Y/N or yes/no'}
            WHEN NOT blank(ppo_value) AND ppo IS NULL
                THEN {'column_name': 'ppo', 'reason': 'ppo ' || shown(clean_text(ppo_value)) || ' is not true/false, 1/0, Y/N or yes/no'}
            WHEN NOT blank(ogrs3_value) AND ogrs3 IS NULL
                THEN {'column_name': 'ogrs3', 'reason': 'ogrs3 ' || shown(clean_text(ogrs3_value)) || ' is not a number'}
            WHEN NOT ogrs3 BETWEEN 0 AND 100
                THEN {'column_name': 'ogrs3', 'reason': 'ogrs3 ' || shown(clean_text(ogrs3_value)) || ' is outside 0-100'}
        END AS problem
    FROM typed
),
first_seen AS (
    SELECT person_id, min(line) AS first_line
    FROM checked
    WHERE problem IS NULL
    GROUP BY person_id
)
SELECT
    c.line, c.person_id, c.birth_year, c.sex, c.ethnicity,
    coalesce(c.mappa, false) AS mappa, coalesce(c.ppo, false) AS ppo, c.ogrs3,
    CASE
        WHEN c.problem IS NOT NULL THEN c.problem
        WHEN c.line > f.first_line
            THEN {'column_name': 'person_id', 'reason': 'duplicate person_id (first kept, at line ' || f.first_line || ')'}
    END AS problem
FROM checked AS c
LEFT JOIN first_seen AS f USING (person_id);
