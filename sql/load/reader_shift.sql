-- shift_<table>: how to turn a row's position among the rows read into its line in the
-- file. The first data line is $first_line (2 under a CSV header, 1 in Parquet). Each
-- line that yields no row (rejected by the reader, or blank: skipped_lines) pushes later
-- rows down one line: the j-th (from 0) such line L comes after L - $first_line - j rows
-- that were read, so a row with rowid r >= first_rowid lies below it.
CREATE OR REPLACE TEMP TABLE {{ shift }} AS
SELECT 0::BIGINT AS first_rowid, $first_line::BIGINT AS line_offset
UNION ALL
SELECT first_rowid, $first_line + max(skipped_above) AS line_offset
FROM (
    SELECT
        line - $first_line - (row_number() OVER (ORDER BY line) - 1) AS first_rowid,
        row_number() OVER (ORDER BY line) AS skipped_above
    FROM skipped_lines
)
GROUP BY first_rowid;
