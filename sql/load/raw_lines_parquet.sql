-- raw_<table> for a Parquet file: the rows read, each with its row number in the file.
CREATE OR REPLACE TEMP VIEW {{ raw }} AS
SELECT file_row_number + 1 AS line, * EXCLUDE (file_row_number)
FROM {{ read }};
