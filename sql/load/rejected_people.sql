-- rejected_people: each person_id of the people file none of whose rows loaded, with the
-- reason its first row was rejected; the other tables' rows of such a person are rejected
-- under that reason (macros.sql, person_problem). Empty, without reading the file again,
-- when every people row loaded ($had_rejects false).
CREATE OR REPLACE TEMP TABLE rejected_people AS
SELECT c.person_id, arg_min(c.problem.reason, c.line) AS reason
FROM people_checked AS c
WHERE $had_rejects AND c.problem IS NOT NULL AND c.person_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM people AS p WHERE p.person_id = c.person_id)
GROUP BY c.person_id;
