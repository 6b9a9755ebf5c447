-- In a copy of the national snapshot: the people whose every row was rejected, as the
-- load of every file would have them (load/rejected_people) for the participants' checks.
CREATE OR REPLACE TEMP TABLE rejected_people AS SELECT * FROM snapshot_rejected_people;
