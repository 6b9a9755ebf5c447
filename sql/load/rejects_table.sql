-- rejects: every input row that was not loaded, with where it came from and why.
CREATE TABLE IF NOT EXISTS rejects (
    table_name VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    line BIGINT,
    column_name VARCHAR,
    reason VARCHAR NOT NULL
);
