"""Benchmarks: `python -m benchmarks` (or `make bench`) prints one JSON document. See README.md."""
