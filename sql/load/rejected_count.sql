-- Number of rejected rows of one table.
SELECT count(*) FROM rejects WHERE table_name = $table_name;
