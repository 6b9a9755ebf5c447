-- While a table with one row per person is written: no dictionary compression of text
-- either (FSST is already off, sql/session_settings.sql). Every person_id in it differs, so
-- a dictionary cannot shrink it, and trying one cost about 0.4 s of the national load
-- (2 million people); the column is stored plainly. Storage only: every value reads back
-- the same. sql/session_settings.sql is run again afterwards to restore the setting.
SET disabled_compression_methods = 'fsst,dictionary';
