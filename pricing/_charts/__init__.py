"""Altair chart builders, the dashboard page and its export (imported lazily).

May import :mod:`pricing._plan` and everything below it; never :mod:`pricing.cli`.
"""
