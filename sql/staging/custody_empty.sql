-- custody when the data folder has no custody file: the contract's columns, no rows.
CREATE OR REPLACE TABLE custody (person_id VARCHAR, custody_start DATE, custody_end DATE);
