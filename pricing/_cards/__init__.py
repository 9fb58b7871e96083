"""What providers charge: the rate-card schema, its loader, the catalog and evidence.

May import :mod:`pricing._base` and :mod:`pricing.errors`.
"""
