-- See enum_category.sql: the disposal column's ENUM.
CREATE TYPE offence_disposal AS ENUM (SELECT unnest(list_sort($disposals)));
