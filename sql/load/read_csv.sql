-- read_<table>: a CSV file as text columns, exactly as written. The dialect is fixed
-- (comma, double quotes, header row) rather than guessed, so a file in another dialect
-- fails clearly. Rows the reader cannot split go to reader_errors with their line.
CREATE OR REPLACE TEMP TABLE {{ read }} AS
SELECT *
FROM read_csv(
    $path,
    header = true,
    delim = ',',
    quote = '"',
    escape = '"',
    auto_detect = false,
    columns = $columns,
    max_line_size = $max_line,
    store_rejects = true,
    rejects_table = 'reader_errors',
    rejects_scan = 'reader_scans'
);
