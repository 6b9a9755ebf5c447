-- The snapshot's record (load/snapshot_info_write).
SELECT record FROM snapshot_info;
