"""A chunk of a usage log summed by request shape before it is priced, where that gives the
same sums.

On an offer without running volumes (tiers, allowances, plans, minimum spend) a call's price
depends on its request and its UTC day only, not on its account, its time of day or the other
calls. A chunk whose calls are all on such offers, and re-priced (if at all) only on such
offers, is summed first by day, offer and every column that prices a call
(:data:`SHAPE_KEYS`), and those shapes priced, each weighing as the calls it stands for
(:data:`CALLS`): a chunk of a million calls of the benchmarks' realistic log has about 85,000
shapes. Every sum of the chunk is the same, exactly: a shape's calls all cost the same, and
costs are rounded to ledger scale per call before they are multiplied and summed. The shapes
of several chunks are priced in one call (:class:`pricing._usage.sums.Sums` holds them up to
:data:`pricing._usage.sums.SHAPES_AT_ONCE`): a call costs 50-80 ms however few its rows.

A chunk with calls on volume-priced offers, with bills (``billed_cost``, reconciled call by
call), without a ``count`` column, or priced for a FOCUS dataset is priced call by call.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from pricing._base.dates import day_number
from pricing._cards.catalog import Catalog
from pricing._evidence.trust import whole
from pricing._usage.batches import volume_offers
from pricing._vector.columns import REQUEST_COLUMNS

#: The calls a row of a table summed by shape stands for [calls]; absent: one call a row.
CALLS = "_n"
#: Request columns a call's price depends on, on an offer without running volumes, beside
#: its offer and day.
SHAPE_KEYS = {name for name in REQUEST_COLUMNS if name not in ("timestamp", "offer_id", "account")}


def by_shape(
    chunk: pl.DataFrame, cat: Catalog, pairs: pl.DataFrame | None, per_call: bool
) -> pl.DataFrame | None:
    """``chunk`` summed by UTC day, offer and shape: a timestamp of each (its first call's),
    the shape's columns and :data:`CALLS`; None where the calls must be priced one by one
    (``per_call``: a FOCUS dataset is built of them; see the module's docstring). ``pairs``:
    the (model, alternative offer) pairs the calls are re-priced on, if any."""
    columns = set(chunk.columns)
    if per_call or not chunk.height or "count" not in columns:
        return None
    if not columns <= set(REQUEST_COLUMNS):  # bills, or columns a shape would lose
        return None
    volume = sorted(volume_offers(cat))
    if volume and chunk.select(pl.col("offer_id").is_in(volume).any()).item():
        return None
    if volume and pairs is not None and _volume_alternative(chunk, cat, pairs, volume):
        return None
    keys = [c for c in chunk.columns if c in SHAPE_KEYS]
    # the streaming engine groups a batch of a million calls in about 60% of the time of the
    # in-memory one (85 ms against 145 ms); any timestamp of a shape's day prices it alike
    return (
        chunk.lazy()
        .group_by(day_number(pl.col("timestamp")).alias("_day"), "offer_id", *keys)
        .agg(pl.col("timestamp").first(), pl.len().alias(CALLS))
        .drop("_day")
        .collect(engine="streaming")
    )


def _volume_alternative(
    chunk: pl.DataFrame, cat: Catalog, pairs: pl.DataFrame, volume: Sequence[str]
) -> bool:
    """Whether a model of the chunk's offers is re-priced on a volume-priced offer."""
    model_of = {o.id: o.model for _, o in whole(cat).all_offers()}
    offers = chunk["offer_id"].unique().drop_nulls().to_list()
    models = {model_of[o] for o in offers if o in model_of}
    return any(m in models and alt in volume for m, alt in pairs.iter_rows())


def calls(frame: pl.DataFrame, cond: pl.Expr) -> int:
    """The calls of ``frame`` (priced rows, or shapes standing for :data:`CALLS` calls each)
    for which ``cond`` holds [calls]."""
    if CALLS in frame.columns:
        return int(frame.select((cond.cast(pl.UInt64) * pl.col(CALLS)).sum()).item())
    return int(frame.select(cond.sum()).item())
