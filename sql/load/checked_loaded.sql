-- The loaded table: the rows of a checked table that passed every check.
CREATE OR REPLACE TABLE {{ table }} AS
SELECT * EXCLUDE (line, problem)
FROM {{ checked }}
WHERE problem IS NULL;
