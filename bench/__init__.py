"""Benchmarks (`make bench`). App environment."""
