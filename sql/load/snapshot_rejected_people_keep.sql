-- In the national snapshot: the people whose every row was rejected (a TEMP table while
-- loading, load/rejected_people), kept for the checks of each request's participants.
CREATE OR REPLACE TABLE snapshot_rejected_people AS SELECT * FROM rejected_people;
