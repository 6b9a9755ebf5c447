-- data_cutoff: the latest valid outcome_date in the offences file, used as the data's
-- cut-off when none is given. Dates later than today cannot be real and are ignored.
SELECT max(d) AS data_cutoff
FROM (SELECT iso_date(outcome_date, clean_text(outcome_date)) AS d FROM raw_offences)
WHERE d BETWEEN DATE '1900-01-01' AND current_date;
