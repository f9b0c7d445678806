"""Omnilog's benchmark harness: raw limits of the database and web stack, then project figures.

Run with ``make bench`` (see ``bench/README.md``).
"""
