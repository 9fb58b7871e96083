"""The floor: dates, money scales, the atomic writer and the progress protocol.

May import only :mod:`pricing.errors`, the standard library, pydantic and polars.
"""
