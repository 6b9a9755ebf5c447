-- The programmes in the data, with their numbers of starts.
SELECT programme, count(*) AS starts FROM participants GROUP BY programme ORDER BY programme;
