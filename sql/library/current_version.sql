-- current_version: the version of an evaluation the library pools now, if any.
SELECT data_cutoff, finished, se_log_rate_ratio FROM evaluations WHERE study_key = $study_key AND is_current;
