"""Arrow batches in and out of polars on Ray workers, and what a worker keeps between batches.

Pure polars, no ray: the Ray engines (``replay(engine="ray")``, ``price_requests(engine="ray")``)
hand Ray Data functions that take a batch as a ``pyarrow.Table`` (:func:`frame_of`) and return
one (:func:`arrow`, of the oldest Arrow types, categorical columns as text: :func:`plain`).
The terms of a run are pickled once by the driver and unpickled once per worker process
(:func:`unpickled`), so each worker compiles the catalog once. Rows that must be priced
together (an account's month on an offer with running volumes) share a bucket
(:func:`bucket`), a hash of their group's key, for ``groupby(...).map_groups``.
"""

from __future__ import annotations

import pickle
from typing import Any

import polars as pl

#: The seed of :func:`bucket`'s hash: the same bucket for a key on every worker and run.
SEED = 20261207

_KEPT: dict[str, object] = {}


def unpickled(token: str, blob: bytes) -> Any:
    """The object pickled as ``blob``, unpickled once per worker process and run
    (``token``); a worker keeps one run's at a time."""
    if token not in _KEPT:
        _KEPT.clear()
        _KEPT[token] = pickle.loads(blob)  # the driver's own terms
    return _KEPT[token]


def frame_of(batch: Any) -> pl.DataFrame:
    """A pyarrow Table as a polars DataFrame."""
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame


def plain(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with categorical and enum columns as strings (blocks of Ray Data concatenate
    then, whatever their dictionaries)."""
    coded = [n for n, t in frame.schema.items() if isinstance(t, pl.Categorical | pl.Enum)]
    return frame.with_columns(pl.col(coded).cast(pl.String)) if coded else frame


def arrow(frame: pl.DataFrame) -> Any:
    """``frame`` as a pyarrow Table of the oldest Arrow types (large strings, not views), so
    that any Ray version concatenates and shuffles them."""
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())


def bucket(key: list[pl.Expr], buckets: int) -> pl.Expr:
    """Which of ``buckets`` the rows of a group go to: a hash of its ``key`` (text parts)."""
    joined = pl.concat_str(key, separator="\x1f")
    return (joined.hash(seed=SEED) % max(buckets, 1)).cast(pl.Int64)
