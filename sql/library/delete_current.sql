-- delete_current: the pooled version of an evaluation, replaced by a newer one.
DELETE FROM evaluations WHERE study_key = $study_key AND is_current;
