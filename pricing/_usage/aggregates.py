"""Per-batch sums of a priced usage log at ledger scale, and their sums over batches.

A replay keeps only aggregates of each batch: cost by day and price
(:mod:`pricing._usage.days`), unpriced calls by reason (:func:`unpriced_counts`) and billed
against computed cost (:func:`billed_sums`). Every cost is rounded to :data:`LEDGER_PLACES`
places per row before any sum (:func:`ledger_money`), so that sums are exact Decimals whatever
the batches; :func:`summed` adds the batches' sums up, and :func:`folded` keeps their number
bounded on a long log.
"""

from __future__ import annotations

import polars as pl

from pricing._base.money import LEDGER_MONEY, LEDGER_PLACES
from pricing._usage.by_shape import CALLS


def ledger_money(expr: pl.Expr) -> pl.Expr:
    """A float cost per row as ledger money: rounded to LEDGER_PLACES places, then Decimal."""
    return expr.round(LEDGER_PLACES).cast(LEDGER_MONEY)


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of a small frame that shares no memory with the batch it was computed from."""
    return pl.DataFrame(frame.rows(), schema=frame.schema, orient="row")


def priced_sum(cost: pl.Expr) -> pl.Expr:
    """Exact sum of the priced rows; null (never 0) when no row of the group has a price."""
    return pl.when(cost.is_not_null().any()).then(ledger_money(cost).sum())


def unpriced_counts(priced: pl.DataFrame) -> pl.DataFrame:
    """reason, rows: the batch's calls without a price, counted by reason (``priced`` may be
    priced shapes, each standing for its ``_n`` calls: :mod:`pricing._usage.by_shape`)."""
    if CALLS in priced.columns:
        return (
            priced.lazy()
            .filter(pl.col("reason").is_not_null())
            .group_by(pl.col("reason").cast(pl.String))
            .agg(rows=pl.col(CALLS).sum().cast(pl.UInt32))
            .collect()
        )
    return (
        priced.lazy()
        .select(pl.col("reason").drop_nulls().cast(pl.String))
        .group_by("reason")
        .agg(rows=pl.len())
        .collect()
    )


def billed_sums(priced: pl.DataFrame) -> pl.DataFrame:
    """Billed against computed on the calls that have both; the others counted apart.

    Summed by day first, on the categorical columns as they are: cheaper keys than a month
    and strings per row."""
    has_price = pl.col("reason").is_null()
    has_bill = pl.col("billed_cost").is_not_null()
    both = has_price & has_bill
    sums = [
        "billed",
        "computed",
        "billed_unpriced",
        "rows_compared",
        "rows_unpriced",
        "rows_unbilled",
    ]
    return (
        priced.lazy()
        .group_by("priced_on", "provider")
        .agg(
            currency=pl.col("currency").drop_nulls().first(),
            billed=ledger_money(pl.col("billed_cost").filter(both)).sum(),
            computed=ledger_money(pl.col("cost").filter(both)).sum(),
            billed_unpriced=ledger_money(pl.col("billed_cost").filter(~has_price)).sum(),
            rows_compared=both.sum(),
            rows_unpriced=(~has_price).sum(),
            rows_unbilled=(has_price & ~has_bill).sum(),
        )
        .sort("priced_on")
        .group_by(
            pl.col("priced_on").dt.truncate("1mo").alias("month"),
            pl.col("provider").cast(pl.String),
        )
        .agg(pl.col("currency").drop_nulls().first().cast(pl.String), pl.col(sums).sum())
        .collect()
    )


def reconciliation(billed: list[pl.DataFrame]) -> pl.DataFrame:
    """Billed against computed per month and provider (``Replay.reconciliation``), from the
    batches' :func:`billed_sums`: variance = billed - computed, and as a share of computed."""
    frame = summed(billed, ["month", "provider", "currency"]).select(
        "month",
        "provider",
        "currency",
        "billed",
        "computed",
        "billed_unpriced",
        "rows_compared",
        "rows_unpriced",
        "rows_unbilled",
    )
    return frame.with_columns(
        variance=pl.col("billed") - pl.col("computed"),
    ).with_columns(
        variance_pct=pl.when(pl.col("computed") != 0).then(
            pl.col("variance").cast(pl.Float64) / pl.col("computed").cast(pl.Float64) * 100
        )
    )


def summed(parts: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """The batches' sums ``parts`` added up by ``keys``, sorted by them; a money column stays
    null where every batch's is (never 0). No parts: an empty frame of the sums' columns."""
    if not parts:
        return _EMPTY.get(tuple(keys), pl.DataFrame())
    frame = pl.concat(parts, how="vertical_relaxed")
    sums = [
        pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).alias(c)
        if frame.schema[c] == LEDGER_MONEY
        else pl.col(c).sum()
        for c in frame.columns
        if c not in keys
    ]
    return frame.group_by(keys).agg(sums).sort(keys, nulls_last=True)


#: Batches' sums kept apart before :func:`folded` adds them up into one frame.
FOLD_EVERY = 32


def folded(parts: list[pl.DataFrame], keys: list[str]) -> list[pl.DataFrame]:
    """``parts``, or their :func:`summed` frame once they are :data:`FOLD_EVERY`: a long log's
    batches then keep a few frames, not one per batch (exact sums add up in any order)."""
    return [summed(parts, keys)] if len(parts) >= FOLD_EVERY else parts


_EMPTY: dict[tuple[str, ...], pl.DataFrame] = {
    ("reason",): pl.DataFrame(schema={"reason": pl.String, "rows": pl.UInt32}),
    ("month", "provider", "currency"): pl.DataFrame(
        schema={
            "month": pl.Date,
            "provider": pl.String,
            "currency": pl.String,
            "billed": LEDGER_MONEY,
            "computed": LEDGER_MONEY,
            "billed_unpriced": LEDGER_MONEY,
            "rows_compared": pl.UInt32,
            "rows_unpriced": pl.UInt32,
            "rows_unbilled": pl.UInt32,
        }
    ),
}
