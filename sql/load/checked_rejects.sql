-- Rows of a checked table that failed a check, appended to rejects.
INSERT INTO rejects
SELECT $table_name, $source_file, line, problem.column_name, problem.reason
FROM {{ checked }}
WHERE problem IS NOT NULL
ORDER BY line;
