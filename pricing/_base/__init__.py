"""The floor: fields, data files, dates, money scales, atomic writes and progress.

May import only :mod:`pricing.errors`, the standard library, pydantic and polars.
"""
