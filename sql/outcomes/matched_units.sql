-- matched_units: the matched sets, one row per unit in each set (a comparison reused in
-- matching with replacement appears once per set), from the matcher's output.
CREATE OR REPLACE TABLE matched_units AS
SELECT unit_id, subclass, treat, weight
FROM matcher_output
ORDER BY subclass, treat DESC, unit_id;
