-- read_<table>: a Parquet file copied into a table (used when optional columns are
-- missing and must be added), with each row's number in the file.
CREATE OR REPLACE TEMP TABLE {{ read }} AS
SELECT * FROM read_parquet($path, file_row_number = true);
