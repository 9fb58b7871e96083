"""What self-hosting needs: GPU offers, throughput profiles and model licences.

May import :mod:`pricing._cards`, :mod:`pricing._base` and :mod:`pricing.errors`.
"""
