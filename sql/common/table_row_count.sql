-- Number of rows in a table.
SELECT count(*) FROM {{ table }};
