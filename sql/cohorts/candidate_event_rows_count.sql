-- How many eligible candidate units there are before sampling, estimated in one pass
-- without merging each person's events of one day into a unit (candidate_events.sql):
-- the eligible events, and in a fixed 1-in-32 subset of days (by a hash of the person and
-- date, so a day's events are all in it or all out) the events and the units they make.
-- evaluation/cohorts/build.py scales the events by the subset's units per event.
SELECT
    count(*) FILTER (WHERE exclusion IS NULL) AS events,
    count(*) FILTER (WHERE exclusion IS NULL AND in_subset) AS subset_events,
    count(DISTINCT (person_id, event_date)) FILTER (WHERE exclusion IS NULL AND in_subset) AS subset_units
FROM (
    SELECT *, hash(event_date, person_id) < 576460752303423488 AS in_subset  -- 2^64 / 32
    FROM candidate_event_rows($index_lag_days, $index_shift_days, $first_index, $last_index, $pool,
                              $before_days, $after_days, $waiting_days, $data_start, $cutoff)
);
