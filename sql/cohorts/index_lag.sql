-- The typical days from a participant's latest proven offence (outcome date) on or before
-- their referral (their first start when there is no referral date) to their first start:
-- comparison candidates' pseudo index dates are set this long after one of their own
-- outcome dates, so both groups start follow-up at the same point after a conviction.
-- The median over analysed participants with such an outcome in the 365 days up to the
-- referral (the first start, not the index date, which index_shift_days moves); 0 when
-- there are none.
SELECT coalesce(CAST(round(median(gap)) AS INTEGER), 0)
FROM (
    SELECT c.first_start - max(o.outcome_date) AS gap
    FROM participant_cohort AS c
    JOIN offences AS o ON o.person_id = c.person_id
    WHERE c.exclusion IS NULL
      AND o.outcome_date <= coalesce(c.referral_date, c.first_start)
      AND o.outcome_date > coalesce(c.referral_date, c.first_start) - 365
    GROUP BY c.person_id, c.first_start
);
