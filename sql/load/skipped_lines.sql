-- skipped_lines: the lines of a CSV file that yield no row: those the reader rejected and
-- the blank lines it skips ($blank_lines, counted by the line scan).
CREATE OR REPLACE TEMP TABLE skipped_lines AS
SELECT DISTINCT line FROM reader_errors WHERE line IS NOT NULL
UNION
SELECT unnest($blank_lines::BIGINT[]) AS line;
