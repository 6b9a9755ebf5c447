-- programme_starts_csv: each programme named in a participants CSV with its earliest
-- start date that parses, for the checks run before loading (evaluation.load.preflight).
SELECT trim(programme) AS programme, min(TRY_CAST(trim(start_date) AS DATE)) AS first_start
FROM read_csv($path, all_varchar = true, header = true, strict_mode = false, ignore_errors = true)
WHERE nullif(trim(programme), '') IS NOT NULL
GROUP BY 1;
