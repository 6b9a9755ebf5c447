-- How many lines the CSV reader rejected.
SELECT count(DISTINCT line) FROM reader_errors WHERE line IS NOT NULL;
