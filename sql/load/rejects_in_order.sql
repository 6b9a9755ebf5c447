-- rejects, in the order of the contract's tables and then the file's lines.
SELECT table_name, source_file, line, column_name, reason
FROM rejects
ORDER BY
    CASE table_name WHEN 'people' THEN 1 WHEN 'offences' THEN 2 WHEN 'participants' THEN 3 ELSE 4 END,
    line;
