-- evaluations_columns: the columns of its evaluations table, in order.
SELECT column_name FROM information_schema.columns WHERE table_name = 'evaluations' ORDER BY ordinal_position;
