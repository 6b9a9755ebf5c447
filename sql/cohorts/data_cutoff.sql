-- The data cut-off recorded by the load.
SELECT data_cutoff FROM load_metadata;
