-- read_<table>: a Parquet file that has a column of its own named file_row_number (the
-- reader's row-number option then cannot be used). That column is not in the contract and
-- is dropped; staging/number_rows then numbers the rows in file order (insertion order
-- is preserved).
CREATE OR REPLACE TEMP TABLE {{ read }} AS
SELECT * EXCLUDE (file_row_number) FROM read_parquet($path);
