-- negative_control_offences: each unit's offences in the years before the year it was
-- selected on, for the falsification test. The window ends where that year begins (a year
-- before the record date, the triggering event: unit_covariates.sql):
--   [record - $before_days - $control_days, record - $before_days)
-- (offences committed in it and proven within $waiting_days of its end, the main rule),
-- which the programme cannot have affected and which referral, made on the recent record,
-- did not look at directly. complete is false when the window starts before the data do.
SELECT
    u.unit_id,
    u.person_id,
    u.record_date - $before_days - $control_days >= $data_start AS complete,
    count(o.person_id) AS control_offences
FROM study_population AS u
LEFT JOIN offences AS o
  ON o.person_id = u.person_id
 AND o.offence_date >= u.record_date - $before_days - $control_days
 AND o.offence_date < u.record_date - $before_days
 AND o.outcome_date < u.record_date - $before_days + $waiting_days
GROUP BY u.unit_id, u.person_id, u.record_date
ORDER BY u.unit_id;
