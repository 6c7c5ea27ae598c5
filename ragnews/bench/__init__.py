"""Benchmark ragnews: question sets, retrieval metrics and answer metrics."""
