"""Generic queries over a whitelisted table name."""
