"""The benchmark (make bench): see bench.py."""
