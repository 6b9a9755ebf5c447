-- Settings for every connection: no DuckDB progress bar (the command prints its own);
-- and no FSST string compression when a table is written: trying it on every string column
-- took about half a second of the load at national scale, and dictionary compression does
-- nearly as well on person ids (the national working database grows from about 203 to
-- 227 MB). Storage only: every value reads back the same.
SET enable_progress_bar = false;
SET disabled_compression_methods = 'fsst';
