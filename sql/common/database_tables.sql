-- database_tables: the tables of the open database (to recognise a file before writing to
-- it: a library holds evaluations and nothing else; a loader's database holds load_metadata).
SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database();
