"""Benchmarks: `make bench` runs every one and writes JSON to bench/results/."""
