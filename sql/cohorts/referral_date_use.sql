-- How many analysed participants have a referral date (their record is measured at the
-- latest event on or before it) and how many do not (at the latest event on or before
-- their first start).
SELECT count(referral_date) AS with_date, count(*) - count(referral_date) AS without_date
FROM participant_cohort
WHERE exclusion IS NULL;
