-- load_metadata: facts about the load that later steps need, such as the data cut-off.
CREATE OR REPLACE TABLE load_metadata AS
SELECT $data_cutoff::DATE AS data_cutoff;
