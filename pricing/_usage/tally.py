"""The first pass over a usage log: its quarantine, and its readable rows per offer and month.

:func:`tally` reads the checked log once (streaming) to count the readable rows per offer and
day, which plans the pricing pass (which months must be priced whole), and reads the bad rows
once more only when there are any. The lines of a text log that are not rows join the
quarantine in line order.
"""

from __future__ import annotations

import polars as pl

from pricing._base.dates import DAY_US
from pricing._usage.log import defaulted, quarantine_reason
from pricing._usage.offers import PreparedLog


def tally(prepared: PreparedLog) -> tuple[pl.DataFrame, pl.DataFrame, tuple[int, int]]:
    """The quarantine (the rows that cannot be read, and a text log's lines that are not
    rows, by line), the readable rows per offer_id and month, and how many of them have a
    default size and count [rows]: in one pass over the log, and the bad rows in a second
    only if there are any."""
    resolved, names = prepared.resolved, prepared.names
    reason, value = quarantine_reason(prepared.messages)
    bad = resolved.filter(pl.col("_bad").is_not_null()).select(
        pl.col("_line").alias("line"),
        reason.alias("reason"),
        value.alias("value"),
        *[pl.col(n).cast(pl.String) for n in names],
    )
    day = (pl.col("_ts").dt.cast_time_unit("us").to_physical() // DAY_US).alias("day")
    typed = resolved.collect_schema().names()
    tally = (
        resolved.group_by(pl.col("_bad").is_not_null().alias("bad"), "_offer", day)
        .agg(
            pl.len().alias("rows"),
            defaulted(typed, ("width", "height")).sum().alias("default_size"),
            defaulted(typed, ("count",)).sum().alias("default_count"),
        )
        .collect(engine="streaming")
    )
    quarantine = (
        bad.collect(engine="streaming")
        if tally["bad"].any()
        else pl.DataFrame(schema=bad.collect_schema())
    )
    if prepared.malformed.height:
        lines = prepared.malformed.with_columns(pl.col("line").cast(quarantine.schema["line"]))
        quarantine = pl.concat([quarantine, lines], how="diagonal")
    quarantine = quarantine.sort("line")  # in the log's order, however its rows were read
    counts = (
        tally.filter(~pl.col("bad"))
        .group_by(
            pl.col("_offer").alias("offer_id"),
            pl.col("day")
            .cast(pl.Int32)
            .cast(pl.Date)
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC")
            .dt.truncate("1mo")
            .alias("month"),
        )
        .agg(pl.col("rows").sum())
    )
    good = tally.filter(~pl.col("bad"))
    return quarantine, counts, (int(good["default_size"].sum()), int(good["default_count"].sum()))
