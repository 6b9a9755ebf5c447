-- The typical days from a participant's latest proven offence (outcome date) to their
-- index date: comparison candidates' pseudo index dates are set this long after one of
-- their own outcome dates, so both groups start follow-up at the same point after a
-- conviction. The median over analysed participants with an outcome in the 365 days
-- before their first start (not the index date, which index_shift_days moves); 0 when there
-- are none.
SELECT coalesce(CAST(round(median(gap)) AS INTEGER), 0)
FROM (
    SELECT c.first_start - max(o.outcome_date) AS gap
    FROM participant_cohort AS c
    JOIN offences AS o ON o.person_id = c.person_id
    WHERE c.exclusion IS NULL
      AND o.outcome_date <= c.first_start
      AND o.outcome_date > c.first_start - 365
    GROUP BY c.person_id, c.first_start
);
