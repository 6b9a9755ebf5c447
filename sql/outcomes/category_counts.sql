-- category_counts: for the analysed participants, offences and people with any offence
-- in each window, by offence category (aggregates only).
SELECT
    category,
    count(*) FILTER (WHERE period = 'before') AS offences_before,
    count(*) FILTER (WHERE period = 'after') AS offences_after,
    count(DISTINCT unit_id) FILTER (WHERE period = 'before') AS people_before,
    count(DISTINCT unit_id) FILTER (WHERE period = 'after') AS people_after
FROM window_offences
WHERE treat = 1
GROUP BY category
ORDER BY category;
