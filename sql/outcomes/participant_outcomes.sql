-- participant_outcomes: unit_outcomes for the analysed participants, with their later starts.
CREATE OR REPLACE VIEW participant_outcomes AS
SELECT u.*, c.later_starts
FROM unit_outcomes AS u
JOIN participant_cohort AS c ON c.person_id = u.person_id AND c.index_date = u.index_date
WHERE u.treat = 1;
