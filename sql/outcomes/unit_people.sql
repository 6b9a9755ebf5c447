-- unit_people: the person each unit of {{ matched }} belongs to, for standard errors
-- clustered on person. {{ matched }} is matcher_output (a matcher's rows).
SELECT m.unit_id, u.person_id
FROM (SELECT DISTINCT unit_id FROM {{ matched }}) AS m
JOIN study_population AS u USING (unit_id)
ORDER BY m.unit_id;
