-- One value the staging checks read (getvariable('<name>') in sql/staging/*_checked.sql),
-- bound as a parameter and held for the load's connection only. The *_checked queries are
-- views, computed as each table is loaded, so they cannot take parameters themselves.
SET VARIABLE {{ name }} = $value;
