"""The ``reoffend`` command line: thin commands over the evaluation library (cli/main.py)."""
