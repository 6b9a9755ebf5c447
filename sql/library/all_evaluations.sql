-- all_evaluations: every version, in a stable order. The table's columns are store.COLUMNS,
-- in order (checked when the library is opened).
SELECT *
FROM evaluations
ORDER BY programme_type NULLS LAST, council NULLS LAST, name, data_cutoff;
