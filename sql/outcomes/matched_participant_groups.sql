-- matched_participant_groups: each matched set's participant's subgroups: programme,
-- sex, MAPPA or PPO, and age band at the index date (as age_at_index in unit_covariates).
SELECT
    m.subclass,
    s.programme,
    CASE p.sex WHEN 'M' THEN 'male' WHEN 'F' THEN 'female' ELSE 'not recorded' END AS sex,
    CASE
        WHEN coalesce(p.mappa, false) OR coalesce(p.ppo, false) THEN 'MAPPA or PPO'
        WHEN p.mappa IS NULL AND p.ppo IS NULL THEN 'not recorded'
        ELSE 'neither MAPPA nor PPO'
    END AS mappa_ppo,
    CASE
        WHEN p.birth_year IS NULL THEN 'not recorded'
        WHEN year(s.index_date) - p.birth_year < 25 THEN 'under 25'
        WHEN year(s.index_date) - p.birth_year < 35 THEN '25 to 34'
        ELSE '35 and over'
    END AS age_band
FROM matched_units AS m
JOIN study_population AS s ON s.unit_id = m.unit_id
JOIN people AS p ON p.person_id = s.person_id
WHERE m.treat = 1
ORDER BY m.subclass;
