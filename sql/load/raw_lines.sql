-- raw_<table>: the rows read, each with its line number in the source file.
CREATE OR REPLACE TEMP VIEW {{ raw }} AS
SELECT r.rowid + s.line_offset AS line, r.*
FROM {{ read }} AS r
ASOF JOIN {{ shift }} AS s ON r.rowid >= s.first_rowid;
