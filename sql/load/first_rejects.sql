-- The first rejected rows of one table, for an error message.
SELECT line, reason FROM rejects WHERE table_name = $table_name ORDER BY line LIMIT 3;
