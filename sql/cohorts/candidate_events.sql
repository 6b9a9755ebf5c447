-- candidate_events(...): every potential comparison unit before sampling, as a table
-- macro on candidate_event_rows.sql (whose header explains the pool): one unit per person
-- and date, a conviction on the day of a release counting as a conviction (the values are
-- bound parameters at each call: candidate_event_count.sql counts the eligible units when
-- the sample must be sized exactly, comparison_candidates.sql samples them).
-- Everything but after_release is the same for every event of a person's day.
CREATE OR REPLACE TEMP MACRO candidate_events(index_lag_days, index_shift_days, first_index, last_index, pool,
                                              before_days, after_days, waiting_days, data_start, cutoff) AS TABLE
SELECT
    person_id,
    event_date,
    index_date,
    CAST(index_lag_days AS INTEGER) AS record_gap,
    min(after_release) AS after_release,
    later_start_date,
    index_date - before_days AS before_start,
    index_date + after_days AS after_end,
    exclusion
FROM candidate_event_rows(index_lag_days, index_shift_days, first_index, last_index, pool,
                          before_days, after_days, waiting_days, data_start, cutoff)
GROUP BY person_id, event_date, index_date, later_start_date, exclusion;
