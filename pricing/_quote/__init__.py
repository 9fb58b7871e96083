"""Exact quotes and comparisons: the price version a request gets on an offer under the trust
policy, its line items (from :mod:`pricing._price`), the spread across sources and the evidence.

May import :mod:`pricing._evidence`, :mod:`pricing._price` and the data rooms below them.
"""
