"""Benchmarks: speed goals measured, never asserted in the test suite.

Run them all with ``python -m tests.benchmarks`` (prints a table; see README).
"""
