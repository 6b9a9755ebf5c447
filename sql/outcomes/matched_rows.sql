-- matched_rows: the rows of {{ matched }} (one per unit in each matched set).
SELECT unit_id, subclass, treat, weight FROM {{ matched }} ORDER BY subclass, treat DESC, unit_id;
