"""settings stage."""
