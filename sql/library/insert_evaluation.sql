-- insert_evaluation: one version of an evaluation, its values a struct bound as $row whose
-- fields are store.COLUMNS (matched to the table's columns by name).
INSERT INTO evaluations BY NAME
SELECT unnest($row);
