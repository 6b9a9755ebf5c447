-- reader_errors for a file read without the CSV reader: no rows, same shape.
CREATE OR REPLACE TEMP TABLE reader_errors (
    line BIGINT, column_idx BIGINT, column_name VARCHAR, error_type VARCHAR
);
