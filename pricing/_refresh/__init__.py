"""Feeds that refresh ``data/`` on request: HTTP, cache, one module per feed, safe writes.

May import the data rooms and :mod:`pricing._base`; never the orchestrator, charts or CLI.
"""
