-- placebo_schema: a placebo run builds its cohorts in schema placebo, reading the staged
-- tables from main, so the real run's tables are untouched.
CREATE SCHEMA IF NOT EXISTS placebo;
SET search_path = 'placebo,main';
