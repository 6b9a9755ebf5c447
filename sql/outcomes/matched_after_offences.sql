-- matched_after_offences: every offence counted in the after window (window_offences) of
-- a matched unit, with its category and day from the index date, for the value-for-money
-- check, which weights each comparison's offences as the headline does (censored at the
-- referral decision that led to a start, reweighted for it).
SELECT w.unit_id, w.category, w.days_from_index
FROM window_offences AS w
WHERE w.period = 'after' AND w.unit_id IN (SELECT unit_id FROM matched_units)
ORDER BY w.unit_id, w.days_from_index;
