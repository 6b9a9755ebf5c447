-- programme_starts_parquet: as programme_starts_csv, for a participants Parquet file.
SELECT trim(CAST(programme AS VARCHAR)) AS programme, min(TRY_CAST(start_date AS DATE)) AS first_start
FROM read_parquet($path)
WHERE nullif(trim(CAST(programme AS VARCHAR)), '') IS NOT NULL
GROUP BY 1;
