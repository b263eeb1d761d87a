"""Benchmarks: each module prints rates and ratios against a baseline measured in the same run."""
