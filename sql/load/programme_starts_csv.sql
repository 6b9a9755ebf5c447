-- programme_starts_csv: each programme named in a participants CSV with its earliest
-- start date that parses as an ISO date or in the data's date format ($date_format, a
-- strptime format), for the checks run before loading (evaluation.load.preflight).
SELECT trim({{ programme }}) AS programme,
       min(coalesce(TRY_CAST(try_strptime(trim({{ start_date }}), '%Y-%m-%d') AS DATE),
                    TRY_CAST(try_strptime(trim({{ start_date }}), $date_format) AS DATE))) AS first_start
-- The dialect is the loader's (sql/load/read_csv.sql), never guessed: a name with a quote
-- in it (=cmd|' /C calc'!A0) made the sniffer take ' for the quote character and lose the header.
FROM read_csv($path, all_varchar = true, header = true, delim = ',', quote = '"', escape = '"',
              strict_mode = false, ignore_errors = true)
WHERE nullif(trim({{ programme }}), '') IS NOT NULL
GROUP BY 1;
