-- Each row's number in the file, from its position in read_<table> (see read_parquet_renumbered).
ALTER TABLE {{ read }} ADD COLUMN file_row_number BIGINT;
UPDATE {{ read }} SET file_row_number = rowid;
