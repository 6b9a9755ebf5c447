-- Every row of a table.
SELECT * FROM {{ table }};
