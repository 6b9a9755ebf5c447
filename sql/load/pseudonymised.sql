-- A table with its identifier column replaced by a keyed hash: HMAC-SHA256 of the
-- trimmed identifier under the data owner's key, computed from its definition
-- H((K xor opad) || H((K xor ipad) || m)) with the padded keys bound as parameters.
-- Empty identifiers stay empty. The key never appears in SQL text. The columns named in
-- $dropped (direct identifiers: names, dates of birth, ...) are left out. Written to $path
-- in $format (csv, with a header, or parquet); returns the number of rows written.
COPY (
SELECT COLUMNS(c -> NOT list_contains($dropped, c))
FROM (
SELECT * REPLACE (
    CASE
        WHEN {{ id_column }} IS NULL OR trim(CAST({{ id_column }} AS VARCHAR)) = '' THEN CAST({{ id_column }} AS VARCHAR)
        ELSE lower(sha256($outer_pad || unhex(sha256($inner_pad || encode(trim(CAST({{ id_column }} AS VARCHAR)))))))
    END AS {{ id_column }}
)
FROM pseudonymise_source
)
) TO $path (FORMAT $format);
