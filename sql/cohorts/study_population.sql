-- study_population: the units whose outcomes and covariates are measured: every analysed
-- participant (treat = 1) and every eligible comparison candidate (treat = 0), each with
-- its own index date and windows, the date its record is measured at (record_date, its
-- triggering event) and whether that event was a release from custody (after_release).
-- unit_id numbers them; a person can appear twice (as a participant and, at an earlier
-- date, as a comparison) in the risk-set pool.
CREATE OR REPLACE TABLE study_population AS
SELECT row_number() OVER (ORDER BY treat DESC, person_id) AS unit_id, *
FROM (
    SELECT person_id, 1 AS treat, programme, index_date, before_start, after_end,
           NULL::DATE AS later_start_date, index_date - record_gap AS record_date, after_release
    FROM participant_cohort
    WHERE exclusion IS NULL
    UNION ALL
    SELECT person_id, 0 AS treat, NULL AS programme, index_date, before_start, after_end,
           later_start_date, index_date - record_gap AS record_date, after_release
    FROM comparison_candidates
    WHERE exclusion IS NULL
);
