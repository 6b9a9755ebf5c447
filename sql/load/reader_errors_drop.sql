-- Drop the reader's error tables so the next file starts with none.
DROP TABLE IF EXISTS reader_errors;
DROP TABLE IF EXISTS reader_scans;
