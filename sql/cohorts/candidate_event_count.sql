-- How many eligible candidate events there are before sampling (candidate_events.sql),
-- to size the sample.
SELECT count(*) FILTER (WHERE exclusion IS NULL)
FROM candidate_events($index_lag_days, $index_shift_days, $first_index, $last_index, $pool,
                      $before_days, $after_days, $waiting_days, $data_start, $cutoff);
