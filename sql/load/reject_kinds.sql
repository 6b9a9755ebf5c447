-- reject_kinds: each table's reasons for rejecting rows, by kind (a reason with its quoted
-- values replaced by '...', so that a value, and so a person_id, never appears), most first.
SELECT table_name, regexp_replace(reason, '''[^'']*''', '''...''', 'g') AS kind, count(*) AS rows
FROM rejects
GROUP BY ALL
ORDER BY table_name, rows DESC, kind;
