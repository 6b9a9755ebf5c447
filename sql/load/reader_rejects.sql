-- Rows the CSV reader itself could not split into the header's fields, one per line,
-- as rejects with a plain-English reason.
INSERT INTO rejects
SELECT
    $table_name AS table_name,
    $source_file AS source_file,
    line,
    any_value(column_name ORDER BY column_idx) AS column_name,
    CASE any_value(error_type ORDER BY column_idx)
        WHEN 'TOO MANY COLUMNS' THEN 'row has more fields than the header'
        WHEN 'MISSING COLUMNS' THEN 'row has fewer fields than the header'
        WHEN 'UNQUOTED VALUE' THEN 'a field has a stray quote character'
        WHEN 'LINE SIZE OVER MAXIMUM' THEN 'line is longer than the reader''s limit'
        ELSE 'row could not be read: ' || lower(any_value(error_type ORDER BY column_idx))
    END AS reason
FROM reader_errors
WHERE line IS NOT NULL
GROUP BY line
ORDER BY line;
