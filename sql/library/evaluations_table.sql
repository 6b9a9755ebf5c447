-- evaluations_table: the library's one table, one row per version of an evaluation.
CREATE TABLE IF NOT EXISTS evaluations (
    study_key VARCHAR NOT NULL, name VARCHAR NOT NULL, title VARCHAR, council VARCHAR,
    programme_type VARCHAR, programme_setting VARCHAR, data_cutoff VARCHAR, index_from VARCHAR, index_to VARCHAR,
    finished VARCHAR, code_version VARCHAR, participants BIGINT, comparison BIGINT,
    rate_ratio DOUBLE, ci_low DOUBLE, ci_high DOUBLE, p_value DOUBLE, log_rate_ratio DOUBLE,
    se_log_rate_ratio DOUBLE, maryland INTEGER, nesta INTEGER, falsification_fired BOOLEAN, headline VARCHAR,
    results_json VARCHAR NOT NULL, manifest_json VARCHAR NOT NULL, is_current BOOLEAN NOT NULL, added VARCHAR NOT NULL
);
