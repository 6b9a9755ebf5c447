"""Prefect flows and the `reoffend` command, over the `evaluation` library."""
