-- The earliest offence date in the data: before windows must not start earlier.
SELECT min(offence_date) FROM offences;
