-- The first and last index dates of the analysed participants.
SELECT min(index_date), max(index_date) FROM participant_cohort WHERE exclusion IS NULL;
