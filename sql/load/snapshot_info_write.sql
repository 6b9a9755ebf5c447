-- snapshot_info: what a snapshot of the national extract records of its making (the
-- options, the files' identities, the rows read and the data cut-off), as one JSON record
-- that a request's load checks before it copies the snapshot (evaluation/load/loader.py).
CREATE OR REPLACE TABLE snapshot_info AS SELECT $record::VARCHAR AS record;
