-- Small parsing helpers shared by the *_checked queries. Each returns NULL when the
-- value does not parse, so a query can tell "missing" from "invalid". typeof() is
-- resolved when a query is planned, so values that arrive already typed (from Parquet)
-- skip the text parsing entirely.

-- Text with surrounding space removed; empty text is missing.
CREATE OR REPLACE TEMP MACRO clean_text(x) AS
    CASE WHEN typeof(x) = 'VARCHAR' THEN NULLIF(trim(CAST(x AS VARCHAR)), '') ELSE CAST(x AS VARCHAR) END;

-- Whether a value is missing: NULL, or text that is empty once trimmed. For a typed value
-- (a Parquet file's dates and numbers) this is IS NULL alone, so the value is not written
-- out as text only to ask; its text is made (clean_text) in the reason of a row that fails.
CREATE OR REPLACE TEMP MACRO blank(x) AS
    CASE WHEN typeof(x) = 'VARCHAR' THEN clean_text(x) IS NULL ELSE x IS NULL END;

-- A cleaned value as it appears in a reason: quoted and cut to 40 characters.
CREATE OR REPLACE TEMP MACRO shown(t) AS
    '''' || left(t, 40) || CASE WHEN length(t) > 40 THEN '...' ELSE '' END || '''';

-- A date from cleaned text t in the data's date format (contract.DATE_FORMATS, the session
-- variable date_format_name), or x itself when it is a DATE. ISO dates are read strictly as
-- YYYY-MM-DD (DuckDB's own cast also takes 2020/1/5 and timestamps), and in every format:
-- no other format writes a date that way, so one cannot be mistaken for another (a file
-- reoffend link wrote sits beside a UK export). Another format is read by strptime, so
-- that 31/01/2010 is a date only when the format says day first.
CREATE OR REPLACE TEMP MACRO iso_date(x, t) AS
    CASE WHEN typeof(x) = 'DATE' THEN TRY_CAST(x AS DATE)
         WHEN length(t) = 10 AND t[5] = '-' AND t[8] = '-' THEN TRY_CAST(t AS DATE)
         WHEN getvariable('date_format_name') <> 'YYYY-MM-DD'
              THEN TRY_CAST(try_strptime(t, getvariable('date_format')) AS DATE) END;

-- A whole number written as digits, or x itself when it is an integer type
-- (DuckDB's own cast rounds 1985.5 to 1986).
CREATE OR REPLACE TEMP MACRO whole_number(x, t) AS
    CASE WHEN typeof(x) IN ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER')
              THEN TRY_CAST(x AS INTEGER)
         WHEN regexp_full_match(t, '[+-]?[0-9]{1,9}') THEN TRY_CAST(t AS INTEGER) END;

-- true/false from any accepted spelling of cleaned text t; NULL when it is none of them.
CREATE OR REPLACE TEMP MACRO as_bool(t, true_words, false_words) AS
    CASE WHEN list_contains(true_words, lower(t)) THEN true
         WHEN list_contains(false_words, lower(t)) THEN false END;

-- A yes/no value: a typed BOOLEAN as it is (as_bool, above, would read its text, 'true'
-- or 'false', the same); anything else by its cleaned text.
CREATE OR REPLACE TEMP MACRO as_flag(x, true_words, false_words) AS
    CASE WHEN typeof(x) = 'BOOLEAN' THEN TRY_CAST(x AS BOOLEAN)
         ELSE as_bool(clean_text(x), true_words, false_words) END;

-- A number: a typed DOUBLE or whole number as it is (its text reads back as the same
-- value); anything else, FLOAT and DECIMAL included, by its cleaned text, as before.
CREATE OR REPLACE TEMP MACRO as_number(x) AS
    CASE WHEN typeof(x) IN ('DOUBLE', 'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER')
              THEN TRY_CAST(x AS DOUBLE)
         ELSE TRY_CAST(clean_text(x) AS DOUBLE) END;

-- Every check of a date column, with its rules from the data contract (contract.date_rules,
-- held as session variables): missing when required, a real date, between the earliest
-- date and the cut-off when bounded, and on or after / on or before another date column
-- of its row (`other`, NULL when it has none). NULL when the value passes. `x` is the
-- value as read, `d` the date parsed from it. A query combines these with its other checks
-- in coalesce(), which returns the first problem found.
CREATE OR REPLACE TEMP MACRO date_problem(name, x, d, other) AS
    CASE WHEN blank(x) THEN
              CASE WHEN list_contains(getvariable('required_dates'), name)
                   THEN {'column_name': name, 'reason': name || ' is missing'} END
         WHEN d IS NULL
              THEN {'column_name': name, 'reason': name || ' ' || shown(clean_text(x)) || ' is not a real date in ' || getvariable('date_format_name') || ' form'}
         WHEN list_contains(getvariable('bounded_dates'), name) AND d < getvariable('earliest_date')
              THEN {'column_name': name, 'reason': name || ' ' || shown(clean_text(x)) || ' is before ' || year(getvariable('earliest_date'))}
         WHEN list_contains(getvariable('bounded_dates'), name) AND d > getvariable('cutoff')
              THEN {'column_name': name, 'reason': name || ' ' || shown(clean_text(x)) || ' is after the data cut-off'}
         WHEN d < other AND getvariable('on_or_after')[name] IS NOT NULL
              THEN {'column_name': name, 'reason': name || ' ' || shown(clean_text(x)) || ' is before ' || getvariable('on_or_after')[name]}
         WHEN d > other AND getvariable('on_or_before')[name] IS NOT NULL
              THEN {'column_name': name, 'reason': name || ' ' || shown(clean_text(x)) || ' is after ' || getvariable('on_or_before')[name]}
    END;

-- A row's person: in people (NULL, no problem), in the people file but rejected there (the
-- row is rejected under its person's reason, so that one cause is counted once, as the
-- cause: load/rejected_people), or not in the people file at all.
CREATE OR REPLACE TEMP MACRO person_problem(person_id, in_people, rejected_reason) AS
    CASE WHEN in_people IS NOT NULL THEN NULL
         WHEN rejected_reason IS NOT NULL
              THEN {'column_name': 'person_id', 'reason': 'its person was rejected in people: ' || rejected_reason}
         ELSE {'column_name': 'person_id', 'reason': 'person_id ' || shown(person_id) || ' is not in people'} END;
