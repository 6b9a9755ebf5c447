-- In a copy of the national snapshot, once the participants are loaded: the snapshot's
-- own tables go, so the working database holds what a load of every file makes.
DROP TABLE snapshot_rejected_people;
DROP TABLE snapshot_info;
