-- How many people were submitted, analysed and excluded for each reason.
SELECT coalesce(exclusion, 'analysed') AS status, count(*) AS people
FROM participant_cohort
GROUP BY ALL
ORDER BY status;
