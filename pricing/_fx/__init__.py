"""Dated exchange rates: the ECB reference rates, their store and the rate in force.

May import :mod:`pricing._cards`, :mod:`pricing._base` and :mod:`pricing.errors`.
"""
