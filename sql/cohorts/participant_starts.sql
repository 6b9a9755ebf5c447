-- participant_starts: every start on the evaluated programmes, numbered per person in
-- date order (start 1 sets the index date; later starts are recorded, not re-counted).
-- $programmes is a list of names, or NULL for every programme in the data.
CREATE OR REPLACE TABLE participant_starts AS
SELECT
    person_id,
    programme,
    start_date,
    end_date,
    referral_date,
    row_number() OVER (PARTITION BY person_id ORDER BY start_date, programme) AS start_number
FROM participants
WHERE $programmes::VARCHAR[] IS NULL OR list_contains($programmes::VARCHAR[], programme);
