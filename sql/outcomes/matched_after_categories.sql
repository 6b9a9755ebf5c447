-- matched_after_categories: each matched row's offences counted in the after window, by
-- offence category (rows with none are absent), for offences avoided and their cost.
SELECT m.subclass, m.treat, m.weight, w.category, count(*) AS offences
FROM matched_units AS m
JOIN window_offences AS w ON w.unit_id = m.unit_id AND w.period = 'after'
GROUP BY m.subclass, m.treat, m.weight, m.unit_id, w.category
ORDER BY m.subclass, m.treat DESC, m.unit_id, w.category;
