"""Benchmark harness (issue #6): `make bench` runs `bench/run.py`, which writes BENCHMARKS.md."""
