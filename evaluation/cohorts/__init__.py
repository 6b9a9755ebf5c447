"""cohorts stage."""
