-- matched_set_ids: every matched set (one per matched participant), in order.
SELECT DISTINCT subclass FROM matched_units ORDER BY subclass;
