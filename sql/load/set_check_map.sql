-- A MAP the staging checks read (getvariable('<name>')[key]), from bound keys and values;
-- see set_check_value.sql.
SET VARIABLE {{ name }} = MAP(CAST($keys AS VARCHAR[]), CAST($values AS VARCHAR[]));
