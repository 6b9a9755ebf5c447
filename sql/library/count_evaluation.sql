-- count_evaluation: how many versions of an evaluation the library holds.
SELECT count(*) FROM evaluations WHERE study_key = $study_key;
