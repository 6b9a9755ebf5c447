-- The line scan's reasons (an unbalanced quote, an over-long line) replace the reader's
-- for the lines it found: the reader only saw the placeholder that stood in for them.
UPDATE rejects
SET reason = s.reason, column_name = NULL
FROM (SELECT unnest($lines::BIGINT[]) AS line, unnest($reasons::VARCHAR[]) AS reason) AS s
WHERE rejects.table_name = $table_name AND rejects.line = s.line;
