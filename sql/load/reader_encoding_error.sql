-- The first line the CSV reader found not to be UTF-8, if any.
SELECT min(line) FROM reader_errors WHERE error_type = 'INVALID ENCODING' HAVING count(*) > 0;
