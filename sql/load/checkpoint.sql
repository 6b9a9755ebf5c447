-- Write what the load has stored so far to the database file now, under the storage
-- settings in force (sql/load/unique_text_storage.sql): a small table would otherwise be
-- compressed only at the next checkpoint, under whatever settings hold then.
CHECKPOINT;
