-- A table copied whole from a registered relation (the benchmark's plain read).
CREATE TABLE {{ table }} AS SELECT * FROM {{ view }};
