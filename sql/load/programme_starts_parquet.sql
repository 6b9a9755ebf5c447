-- programme_starts_parquet: as programme_starts_csv, for a participants Parquet file.
SELECT trim(CAST({{ programme }} AS VARCHAR)) AS programme,
       min(CASE WHEN typeof({{ start_date }}) = 'DATE' THEN TRY_CAST({{ start_date }} AS DATE)
                ELSE coalesce(TRY_CAST(try_strptime(trim(CAST({{ start_date }} AS VARCHAR)), '%Y-%m-%d') AS DATE),
                              TRY_CAST(try_strptime(trim(CAST({{ start_date }} AS VARCHAR)), $date_format) AS DATE))
                END) AS first_start
FROM read_parquet($path)
WHERE nullif(trim(CAST({{ programme }} AS VARCHAR)), '') IS NOT NULL
GROUP BY 1;
