"""The day-level sums of a replayed usage log, and the month, day and price tables made of them.

``replay`` keeps, from each priced batch, the calls, images and cost per UTC day and price
(:func:`day_sums`): offer, price version, source, currency and the reason a call has no price.
A year of a log is a few thousand such rows. Summed over batches (exactly: every cost is
rounded to ledger scale per call before any sum) they give the replay's month costs
(:func:`month_costs`) and a budget's days (:func:`by_day`) and prices (:func:`by_price`).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pricing._base.money import LEDGER_MONEY
from pricing._usage.aggregates import ledger_money
from pricing._usage.by_shape import CALLS

#: The keys of a day's sums; every other column of ``Replay.days`` is a sum.
DAY_KEYS = [
    "day",
    "provider",
    "model",
    "operation",
    "offer_id",
    "price_version",
    "source_id",
    "currency",
    "reason",
]
#: ``Replay.days`` with no call.
DAY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "day": pl.Date,
    **dict.fromkeys(DAY_KEYS[1:], pl.String),
    "requests": pl.UInt32,
    "images": pl.Int64,
    "cost": LEDGER_MONEY,
    "top_ups": pl.UInt32,
}
_PRICED = pl.col("reason").is_null()


def day_sums(priced: pl.DataFrame) -> pl.DataFrame:
    """Calls, images and cost of a priced batch per UTC day and price (:data:`DAY_KEYS`).

    ``requests`` counts the calls, ``images`` their images (priced or not: ``reason`` tells),
    ``cost`` sums the priced calls' costs at ledger scale (null, never 0, where none has a
    price) and ``top_ups`` counts the calls that carry a minimum-spend top-up. ``priced_on``
    is the call's UTC day, as ``replay`` gives no as_of. Summed on the categorical columns as
    they are (cheaper keys than strings per row), first by cost too: the calls of one cost
    are rounded to ledger scale once and multiplied by their number, exactly, rather than
    each turned into a Decimal. ``priced`` may be priced shapes, each standing for its
    ``_n`` calls (:mod:`pricing._usage.by_shape`).
    """
    keys = DAY_KEYS[1:]
    cost = pl.col("cost")
    topped = pl.col("top_up").fill_null(0) > 0
    if CALLS in priced.columns:  # rows of calls summed by shape: each weighs as its calls
        n = pl.col(CALLS)
        per_cost = [
            n.sum().alias("requests"),
            (pl.col("count") * n).sum().alias("images"),
            (topped.cast(pl.UInt32) * n).sum().alias("top_ups"),
        ]
    else:
        per_cost = [
            pl.len().alias("requests"),
            pl.col("count").sum().alias("images"),
            topped.sum().alias("top_ups"),
        ]
    return (
        priced.lazy()
        .group_by("priced_on", *keys, "cost")  # calls of one price mostly cost the same
        .agg(per_cost)
        .group_by("priced_on", *keys)
        .agg(
            pl.col("requests", "images", "top_ups").sum(),
            cost=pl.when(cost.is_not_null().any()).then(
                (ledger_money(cost) * pl.col("requests")).sum()
            ),
        )
        .select(
            pl.col("priced_on").alias("day"),
            *[pl.col(k).cast(pl.String) for k in keys],
            "requests",
            "images",
            "cost",
            "top_ups",
        )
        .collect()
    )


def month_costs(days: pl.DataFrame) -> pl.DataFrame:
    """``Replay.costs`` from ``Replay.days``: requests, images (priced calls'), cost and
    unpriced calls by month, provider, model, operation, offer and currency."""
    keys = ["month", "provider", "model", "operation", "offer_id", "currency"]
    cost = pl.col("cost")
    return (
        days.group_by(pl.col("day").dt.truncate("1mo").alias("month"), *keys[1:])
        .agg(
            pl.col("requests").sum(),
            images=pl.col("images").filter(_PRICED).sum(),
            cost=pl.when(cost.is_not_null().any()).then(cost.sum()),
            unpriced=pl.col("requests").filter(~_PRICED).sum(),
        )
        .select(*keys, "requests", "images", "cost", "unpriced")
        .sort(keys, nulls_last=True)
    )


def by_day(days: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """One row per day from ``start`` to ``end`` of ``days`` (day sums of those days): a day
    without calls costs 0, a day whose calls all lack a price has a null cost (never 0)."""
    per_day = days.group_by("day").agg(
        requests=pl.col("requests").sum().cast(pl.Int64),
        images=pl.col("images").filter(_PRICED).sum().cast(pl.Int64),
        unpriced=pl.col("requests").filter(~_PRICED).sum().cast(pl.Int64),
        cost=pl.when(_PRICED.any()).then(pl.col("cost").filter(_PRICED).sum()),
    )
    calendar = pl.DataFrame({"day": pl.date_range(start, end, eager=True)})
    frame = calendar.join(per_day, on="day", how="left", maintain_order="left")
    cost = pl.when(pl.col("requests").is_null()).then(pl.lit(0)).otherwise(pl.col("cost"))
    frame = frame.with_columns(
        pl.col("requests", "images", "unpriced").fill_null(0), cost=cost.cast(LEDGER_MONEY)
    )
    return frame.select(
        "day",
        pl.col("day").dt.day().cast(pl.Int64).alias("day_of_month"),
        "requests",
        "images",
        "unpriced",
        "cost",
        cumulative=pl.col("cost").fill_null(0).cum_sum(),
    )


def by_price(days: pl.DataFrame) -> pl.DataFrame:
    """offer_id, provider, price_version, source_id, currency, reason, requests, images, cost:
    where the numbers of ``days`` come from (cost null where none of a group's calls has a
    price)."""
    keys = ["offer_id", "provider", "price_version", "source_id", "currency", "reason"]
    cost = pl.col("cost")
    return (
        days.group_by(keys)
        .agg(
            pl.col("requests").sum(),
            pl.col("images").sum(),
            cost=pl.when(cost.is_not_null().any()).then(cost.sum()),
        )
        .sort(keys, nulls_last=True)
    )
