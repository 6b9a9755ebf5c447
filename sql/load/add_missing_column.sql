-- An optional contract column the file does not have, added as empty text.
ALTER TABLE {{ table }} ADD COLUMN {{ column }} VARCHAR;
