-- The first and last first start on the evaluated programmes (anyone's): a comparison is
-- censored at its first start, and outside this span nobody made one, so no comparison
-- is at risk of being censored there. (Second starts do not count: a second start comes
-- after a first.)
SELECT min(first_start), max(first_start)
FROM (SELECT person_id, min(start_date) AS first_start FROM participant_starts GROUP BY person_id);
