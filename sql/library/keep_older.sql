-- keep_older: every version of an evaluation becomes an older one (kept, not pooled).
UPDATE evaluations SET is_current = false WHERE study_key = $study_key;
