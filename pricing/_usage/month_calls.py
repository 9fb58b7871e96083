"""The calls of one month of a usage log: priced one by one, checked against the replay.

:func:`pricing.replay` keeps only month totals. A budget needs the spend of each day, so
:func:`month_calls` prices the month's calls again one by one, exactly as ``replay`` prices
them (each cost rounded to ledger scale per call), and raises unless they add up to the
replay's month: the same calls, the same unpriced ones, the same cost per currency.
:func:`by_day` and :func:`by_price` sum them up for a budget's tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from pricing._base.money import LEDGER_MONEY
from pricing._cards.catalog import Catalog
from pricing._usage.aggregates import ledger_money
from pricing._usage.offers import log_requests
from pricing._usage.replay import Replay
from pricing._vector.requests import price_requests
from pricing.errors import PricingError

#: What a usage log can be read from (as for :func:`pricing.replay`).
Log = str | Path | pl.DataFrame | pl.LazyFrame


def month_calls(
    result: Replay,
    log: Log | None,
    start: date,
    mapping: Mapping[str, str] | None,
    offer_map: Mapping[str, str] | None,
    cat: Catalog,
) -> pl.DataFrame:
    """Every readable call of the month from ``start``, priced one by one as ``replay`` prices
    them: day, offer_id, provider, price_version, source_id, currency, reason, images, cost
    (ledger money) and top_up.

    ``log`` is what ``result`` was replayed from (default: the file it was read from).

    Raises
    ------
    PricingError
        No log to read, or calls that do not add up to the replay's month.
    """
    calls = _priced_calls(_log_of(result, log), start, mapping, offer_map, cat)
    _reconcile(calls, result, start)
    return calls


def _log_of(result: Replay, log: Log | None) -> Log:
    if log is not None:
        return log
    path = Path(result.source)
    if result.source not in ("DataFrame", "LazyFrame") and path.is_file():
        return path
    raise PricingError(
        f"budget_status needs the calls of the log by day, and the replay was read from a "
        f"{result.source}: pass log=<the same log> (and the mapping, offer_map and catalog "
        "given to replay)"
    )


def _priced_calls(
    log: Log,
    start: date,
    mapping: Mapping[str, str] | None,
    offer_map: Mapping[str, str] | None,
    cat: Catalog,
) -> pl.DataFrame:
    """Every readable call of the month, priced one by one as ``replay`` prices them."""
    requests = log_requests(
        log, month=f"{start:%Y-%m}", mapping=mapping, offer_map=offer_map, catalog=cat
    )
    priced = price_requests(requests.collect(engine="streaming"), cat)
    return priced.select(
        day=pl.col("timestamp").dt.date(),
        offer_id=pl.col("offer_id").cast(pl.String),
        provider=pl.col("provider").cast(pl.String),
        price_version=pl.col("price_version").cast(pl.String),
        source_id=pl.col("source_id").cast(pl.String),
        currency=pl.col("currency").cast(pl.String),
        reason=pl.col("reason").cast(pl.String),
        images=pl.col("count"),
        # rounded per call exactly as Replay sums, so the days add up to its month
        cost=ledger_money(pl.col("cost")),
        top_up=pl.col("top_up"),
    )


def _reconcile(calls: pl.DataFrame, result: Replay, start: date) -> None:
    """Raise unless the month's calls, priced by day, add up to the replay's month exactly."""
    month = result.costs.filter(pl.col("month") == start)
    theirs = (
        int(month["requests"].sum()),
        int(month["unpriced"].sum()),
        _by_currency(month.drop_nulls("cost")),
    )
    mine = (
        calls.height,
        calls.filter(pl.col("reason").is_not_null()).height,
        _by_currency(calls.filter(pl.col("reason").is_null())),
    )
    if mine != theirs:
        raise PricingError(
            f"the log priced by day does not add up to the replay of {start:%Y-%m}: "
            f"{mine[0]} calls, {mine[1]} unpriced, cost {mine[2]} against {theirs[0]} calls, "
            f"{theirs[1]} unpriced, cost {theirs[2]}. Pass budget_status the same log, mapping, "
            "offer_map and catalog as replay (and a replay that covers that month)"
        )


def _by_currency(frame: pl.DataFrame) -> dict[str, Decimal]:
    sums = frame.group_by("currency").agg(pl.col("cost").sum())
    return {str(c): Decimal(v) for c, v in sums.iter_rows() if v != 0}


def by_day(calls: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """One row per day from ``start`` to ``end``: a day without calls costs 0, a day whose
    calls all lack a price has a null cost (never 0)."""
    priced = pl.col("reason").is_null()
    per_day = calls.group_by("day").agg(
        requests=pl.len().cast(pl.Int64),
        images=pl.col("images").filter(priced).sum().cast(pl.Int64),
        unpriced=(~priced).sum().cast(pl.Int64),
        cost=pl.when(priced.any()).then(pl.col("cost").filter(priced).sum()),
    )
    days = pl.DataFrame({"day": pl.date_range(start, end, eager=True)})
    frame = days.join(per_day, on="day", how="left", maintain_order="left")
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


def by_price(calls: pl.DataFrame) -> pl.DataFrame:
    """offer_id, provider, price_version, source_id, currency, reason, requests, images, cost:
    where the calls' numbers come from (cost null where none of a group's calls has a price)."""
    keys = ["offer_id", "provider", "price_version", "source_id", "currency", "reason"]
    return (
        calls.group_by(keys)
        .agg(
            requests=pl.len(),
            images=pl.col("images").sum(),
            cost=pl.when(pl.col("cost").is_not_null().any()).then(pl.col("cost").sum()),
        )
        .sort(keys, nulls_last=True)
    )
