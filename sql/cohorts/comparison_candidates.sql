-- comparison_candidates: the potential comparison units (candidate_events.sql), every
-- one, or when the pool is very large a sample: each event is kept with probability
-- $sample_fraction by a seeded hash of the event, independent of the person's other
-- events (evaluation/cohorts/build.py sizes it).
CREATE OR REPLACE TABLE comparison_candidates AS
SELECT * EXCLUDE (event_date)
FROM candidate_events($index_lag_days, $index_shift_days, $first_index, $last_index, $pool,
                      $before_days, $after_days, $waiting_days, $data_start, $cutoff)
WHERE $sample_fraction >= 1.0 OR hash(person_id, event_date, $seed) < $sample_fraction * 18446744073709551615.0
ORDER BY person_id, index_date;
