"""files stage."""
