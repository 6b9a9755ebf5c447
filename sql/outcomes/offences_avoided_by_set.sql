-- offences_avoided_by_set: for each matched set and offence category, the comparisons'
-- weighted after-window offences minus the participant's (each comparison's weight is
-- 1/m of its set's m comparisons, so this is the comparisons' mean minus the participant).
-- Sets and categories with no offences in either group are absent (zero).
SELECT
    m.subclass,
    w.category,
    sum(CASE WHEN m.treat = 1 THEN -1.0 ELSE m.weight END) AS avoided
FROM matched_units AS m
JOIN window_offences AS w ON w.unit_id = m.unit_id AND w.period = 'after'
GROUP BY m.subclass, w.category
ORDER BY m.subclass, w.category;
