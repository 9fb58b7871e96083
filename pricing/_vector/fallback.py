"""The next source when the primary cannot price a shape.

Where the version in force with the highest precedence cannot price a request shape (its
limits, size brackets, qualities or components do not cover it), the next version in force
by precedence that can prices it, as :func:`pricing.quote` does; the row's ``price_version``
and ``source_id`` name the one used. Reasons that follow the month's running volume (a plan
without overage) are not retried: they hold for every source.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from polars import col

from pricing._vector.compiled import Compiled, gather
from pricing._vector.reasons import CODE, REASONS

#: Reason codes a later version may not share: those of a version's own terms.
RETRY_CODES = [CODE[name] for name, scope in REASONS if scope == "version" and name != "no_overage"]


def with_fallbacks(
    shapes: pl.DataFrame, c: Compiled, price: Callable[[pl.DataFrame], pl.DataFrame]
) -> pl.DataFrame:
    """``price(shapes)``, then each shape its primary version cannot price priced again on
    the 2nd, 3rd... version in force (``c.fallbacks``), the first that can being kept.

    Every shape is priced on every version in force on its day at once (one ``price`` call:
    planning its query costs more than pricing a few more shapes), then the versions are
    taken in turn, as :func:`pricing.quote` tries them."""
    if not c.fallbacks or shapes.height == 0:
        return price(shapes)
    pos = (col("_dayn") - c.day0 + 1).clip(0, c.n_days - 1)
    oi = pl.when(col("_oi") >= 0).then(col("_oi"))
    tries, at = [shapes], []
    for grid in c.fallbacks:
        alt = shapes.select(gather(grid, oi * c.n_days + pos).cast(pl.Int64))["grid"]
        has = (alt >= 0).fill_null(False)
        tries.append(shapes.filter(has).with_columns(_state=alt.filter(has)))
        at.append(has.arg_true())
    every = price(pl.concat(tries, how="vertical_relaxed"))
    priced = every.slice(0, shapes.height)
    start = shapes.height
    for rows in at:
        again = every.slice(start, rows.len())
        start += rows.len()
        retry = priced["_code0"].gather(rows).is_in(RETRY_CODES)
        ok = retry & (again["_code0"] == CODE["ok"])
        if not ok.any():
            continue
        better = again.filter(ok)
        priced = priced.with_columns(
            priced[name].scatter(rows.filter(ok), better[name]) for name in priced.columns
        )
    return priced
