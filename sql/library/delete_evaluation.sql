-- delete_evaluation: every version of an evaluation (library remove).
DELETE FROM evaluations WHERE study_key = $study_key;
