"""The first pass over a usage log: its quarantine, and its readable rows per offer and month.

:func:`tally` reads the checked log once (streaming) to count the readable rows per offer and
day, which plans the pricing pass (which months must be priced whole), and reads the bad rows
once more only when there are any. :func:`tally_once` checks the log once and writes its
request table to a temporary Parquet file as it goes, which it counts and the pricing pass
reads: the checks of a log whose columns are text (parsing timestamps and numbers row by row)
run once. :func:`tallied_requests`, the local engine's, picks between the two: a log whose
columns come typed is checked for little more than reading it, much less than writing and
reading back its request table, so it is tallied with :func:`tally` and read (and checked)
once more for pricing. The lines of a text log that are not rows join the quarantine in line
order.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pricing._base.dates import day_number
from pricing._usage.log import NUMERIC_COLUMNS, defaulted, quarantine_reason, reads_size
from pricing._usage.offers import PreparedLog, request_table


def tally(prepared: PreparedLog) -> tuple[pl.DataFrame, pl.DataFrame, tuple[int, int]]:
    """The quarantine (the rows that cannot be read, and a text log's lines that are not
    rows, by line), the readable rows per offer_id and month, and how many of them have a
    default size and count [rows]: in one pass over the log, and the bad rows in a second
    only if there are any."""
    resolved = prepared.resolved
    typed = resolved.collect_schema().names()
    day = day_number(pl.col("_ts")).alias("day")
    found = (
        resolved.group_by(pl.col("_bad").is_not_null().alias("bad"), "_offer", day)
        .agg(
            pl.len().alias("rows"),
            defaulted(typed, ("width", "height")).sum().alias("default_size"),
            defaulted(typed, ("count",)).sum().alias("default_count"),
        )
        .collect(engine="streaming")
    )
    return _counted(prepared, found)


def tally_once(
    prepared: PreparedLog, spill: Path
) -> tuple[pl.DataFrame, pl.DataFrame, tuple[int, int], pl.LazyFrame]:
    """:func:`tally`, and the readable rows as the request table (``request_table``), the
    log checked once: its request table is written to the Parquet file ``spill`` (with each
    row's quarantine mark and default flags) while it is checked, and counted and priced
    from there; only a log with bad rows is checked once more, for those rows."""
    resolved, names = prepared.resolved, prepared.names
    typed = resolved.collect_schema().names()
    marks = [
        pl.col("_bad"),
        defaulted(typed, ("width", "height")).alias("_default_size"),
        defaulted(typed, ("count",)).alias("_default_count"),
    ]
    request_table(resolved, names, marks).sink_parquet(spill, compression="lz4")
    rows = pl.scan_parquet(spill, glob=False)
    day = day_number(pl.col("timestamp")).alias("day")
    found = (
        rows.group_by(pl.col("_bad").is_not_null().alias("bad"), "offer_id", day)
        .agg(
            pl.len().alias("rows"),
            pl.col("_default_size").sum().alias("default_size"),
            pl.col("_default_count").sum().alias("default_count"),
        )
        .rename({"offer_id": "_offer"})
        .collect(engine="streaming")
    )
    good = rows.filter(pl.col("_bad").is_null()).drop("_bad", "_default_size", "_default_count")
    return (*_counted(prepared, found), good)


def tallied_requests(
    prepared: PreparedLog, spill: Path, reread: bool
) -> tuple[pl.DataFrame, pl.DataFrame, tuple[int, int], pl.LazyFrame]:
    """What :func:`tally_once` gives: with :func:`tally` and the readable rows read (and
    checked) again when ``reread`` allows reading the log twice (a file or a table, not a
    query) and its columns come typed (:func:`typed_log`); else with :func:`tally_once`."""
    if not (reread and typed_log(prepared)):
        return tally_once(prepared, spill)
    quarantine, counts, defaults = tally(prepared)
    good = prepared.resolved.filter(pl.col("_bad").is_null())
    return quarantine, counts, defaults, request_table(good, prepared.names)


def typed_log(prepared: PreparedLog) -> bool:
    """Whether the log's timestamps and numbers come typed (a datetime or date, numbers),
    sizes in width and height: checking its rows then parses no text."""
    names = prepared.names
    schema = prepared.resolved.collect_schema()
    if reads_size(names) or not (
        isinstance(schema["timestamp"], pl.Datetime) or schema["timestamp"] == pl.Date
    ):
        return False
    return all(schema[n].is_numeric() for n in NUMERIC_COLUMNS if n in names)


def _counted(
    prepared: PreparedLog, found: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, tuple[int, int]]:
    """The quarantine, the readable rows per offer_id and month and the rows with a default
    size and count, from the rows ``found`` per quarantine mark, offer and day."""
    resolved, names = prepared.resolved, prepared.names
    reason, value = quarantine_reason(prepared.messages)
    bad = resolved.filter(pl.col("_bad").is_not_null()).select(
        pl.col("_line").alias("line"),
        reason.alias("reason"),
        value.alias("value"),
        *[pl.col(n).cast(pl.String) for n in names],
    )
    quarantine = (
        bad.collect(engine="streaming")
        if found["bad"].any()
        else pl.DataFrame(schema=bad.collect_schema())
    )
    if prepared.malformed.height:
        lines = prepared.malformed.with_columns(pl.col("line").cast(quarantine.schema["line"]))
        quarantine = pl.concat([quarantine, lines], how="diagonal")
    quarantine = quarantine.sort("line")  # in the log's order, however its rows were read
    good = found.filter(~pl.col("bad"))
    counts = good.group_by(
        pl.col("_offer").alias("offer_id"),
        pl.col("day")
        .cast(pl.Int32)
        .cast(pl.Date)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .dt.truncate("1mo")
        .alias("month"),
    ).agg(pl.col("rows").sum())
    return quarantine, counts, (int(good["default_size"].sum()), int(good["default_count"].sum()))
