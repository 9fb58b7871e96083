"""Rows to their shapes: each row's shape key mapped to the shape's position, without hashing.

:func:`shape_index` maps the keys of :mod:`pricing._vector.shape_keys` to positions among the
distinct keys by a lookup table, indexed by the key itself when its span is small and by the
key modulo a prime otherwise; :func:`dense_codes` numbers a column's distinct values densely.
"""

from __future__ import annotations

import polars as pl
from polars import col


def shape_index(keys: pl.Series, distinct: pl.Series, span: int) -> pl.Series:
    """Each row's shape (UInt32): the position of its key among the ``distinct`` keys.

    A lookup table is much quicker than hashing every key: indexed by the key itself when its
    span is not large, else by ``key % m`` for a prime ``m`` under which the distinct keys
    (almost) never share a remainder; the rows of keys that do are looked up by hash.
    """
    d = distinct.len()
    ids = pl.int_range(d, dtype=pl.UInt32, eager=True)
    limit = max(2 * keys.len(), 1 << 16)  # table entries
    key = col("_key")
    if span <= limit:
        table = pl.zeros(span, dtype=pl.UInt32, eager=True).scatter(distinct, ids)
        return keys.to_frame("_key").select(pl.lit(table).gather(key)).to_series()
    m = _modulus(distinct, limit)
    if m is None:
        return keys.replace_strict(distinct, ids, return_dtype=pl.UInt32)
    slots = distinct % m
    shared = slots.filter(slots.is_duplicated()).unique()
    # a slot of two keys or more holds d + its number among such slots
    marks = pl.int_range(d, d + shared.len(), dtype=pl.UInt32, eager=True)
    table = pl.zeros(m, dtype=pl.UInt32, eager=True).scatter(slots, ids).scatter(shared, marks)
    index = keys.to_frame("_key").select(pl.lit(table).gather(key % m)).to_series()
    if shared.len():
        rows = (index >= d).arg_true()
        found = keys.gather(rows).replace_strict(distinct, ids, return_dtype=pl.UInt32)
        index = index.scatter(rows, found)
    return index.rename("_shape")


def _modulus(distinct: pl.Series, limit: int) -> int | None:
    """A prime below ``limit`` under which the ``distinct`` keys leave (almost) distinct
    remainders; None when the keys are too many for a table of ``limit`` entries."""
    d = distinct.len()
    m = max(2 * d**2, 1 << 10)  # each works with a fair chance when m is twice d squared
    if m >= limit:
        m = limit // 2  # fewer chances each: more tries, and a few shared slots allowed
    best: tuple[int, int] | None = None  # (keys sharing a slot, m)
    for _ in range(32):
        m = _next_prime(m)
        if m >= limit:
            break
        shared = d - (distinct % m).n_unique()
        if best is None or shared < best[0]:
            best = (shared, m)
        if shared == 0:
            break
        m += 1 + limit // 64
    if best is None or best[0] > d // 16:
        return None
    return best[1]


def _next_prime(m: int) -> int:
    """The least prime >= ``m``."""
    while not _is_prime(m):
        m += 1
    return m


def _is_prime(m: int) -> bool:
    """Miller-Rabin with the first 12 primes as bases: exact for every ``m`` below 3e23."""
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
    if m < 2 or any(m % p == 0 for p in bases):
        return m in bases
    d, r = m - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in bases:
        x = pow(a, d, m)
        if x in (1, m - 1):
            continue
        for _ in range(r - 1):
            x = x * x % m
            if x == m - 1:
                break
        else:
            return False
    return True


def dense_codes(values: pl.Series) -> tuple[pl.Series, int]:
    """Codes 1..d for the d distinct values (0 for null), and the radix d + 1."""
    distinct = values.drop_nulls().unique()
    codes = values.replace_strict(
        distinct,
        pl.int_range(1, distinct.len() + 1, dtype=pl.Int64, eager=True),
        default=0,
        return_dtype=pl.Int64,
    )
    if (codes == 0).sum() != values.null_count():  # pragma: no cover - a value without code
        return pl.int_range(1, values.len() + 1, dtype=pl.Int64, eager=True), values.len() + 1
    return codes, distinct.len() + 1
