"""Loading mechanics: reading files, counting lines, collecting rejects (not models)."""
