-- Settings for every connection: no DuckDB progress bar (the command prints its own).
SET enable_progress_bar = false;
