"""Benchmarks: ``nox -s bench`` (or ``python -m bench [NAME ...]``).

Every figure is a ratio against a baseline measured in the same run on the same data, as
these machines are noisy; peak memory is reported too.
"""
