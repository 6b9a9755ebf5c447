-- How many comparison units (person-events) were eligible and excluded for each reason,
-- and how many distinct people the eligible ones are.
SELECT coalesce(exclusion, 'eligible') AS status, count(*) AS units, count(DISTINCT person_id) AS people
FROM comparison_candidates
GROUP BY ALL
ORDER BY status;
