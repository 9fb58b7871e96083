"""Replay a usage log: what it cost, what it would have cost elsewhere, and what was billed.

A log is CSV, Parquet or NDJSON with one row per call (:mod:`pricing._usage.log`). Rows are
checked first: a row with an unreadable timestamp, a missing or non-positive size or count, an
unknown provider, model or operation goes to the quarantine table with its line number and
reason. Nothing is dropped silently: ``rows_read == rows_priced + rows_unpriced +
rows_quarantined`` always holds.

:func:`replay` runs in four phases: prepare (read, check, resolve offers), tally (rows per
offer and month, and the quarantine), price the batches (:mod:`pricing._usage.batches`, keeping
only their sums: :mod:`pricing._usage.aggregates`, :mod:`pricing._usage.alternatives`), and
assemble the :class:`Replay`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

from pricing._base.dates import DAY_US
from pricing._base.progress import Progress
from pricing._cards.catalog import Catalog, load_catalog
from pricing._usage.aggregates import billed_sums, cost_sums, detached, summed, unpriced_counts
from pricing._usage.alternatives import alternative_costs, alternative_pairs, alternatives_frame
from pricing._usage.batches import log_chunks, month_offers
from pricing._usage.log import Message, quarantine_reason
from pricing._usage.offers import prepare_log, request_table
from pricing._vector.requests import price_requests


@dataclass(frozen=True)
class Replay:
    """What a usage log cost, re-priced elsewhere, reconciled, and what could not be read.

    Attributes
    ----------
    costs : DataFrame
        month, provider, model, operation, offer_id, currency, requests, images, cost
        [currency, Decimal], unpriced (rows left unpriced in the group).
    alternatives : DataFrame
        The same usage on each alternative offer, per month and model: month, model,
        offer_id, provider, currency, requests, images, cost, unpriced, actual_cost (what the
        rows priced on both cost as logged), saving (actual_cost - cost), saving_pct.
    reconciliation : DataFrame or None
        With a ``billed_cost`` column: month, provider, currency, billed and computed (on the
        rows_compared calls that have both a bill and a price), variance (billed - computed),
        variance_pct; billed_unpriced / rows_unpriced for billed calls no price applies to,
        and rows_unbilled for priced calls without a billed cost.
    quarantine : DataFrame
        Rows that could not be read: line (1-based data row), reason (a fixed text, so rows
        count by reason), value (the offending value, if one), then the log's columns as
        text.
    unpriced : DataFrame
        reason, rows: readable rows that no price applies to (never counted as 0).
    """

    costs: pl.DataFrame
    alternatives: pl.DataFrame
    reconciliation: pl.DataFrame | None
    quarantine: pl.DataFrame
    unpriced: pl.DataFrame
    rows_read: int
    rows_priced: int
    months: tuple[str, ...]
    source: str
    notes: tuple[str, ...] = field(default=())

    @property
    def rows_quarantined(self) -> int:
        return self.quarantine.height

    @property
    def rows_unpriced(self) -> int:
        return int(self.unpriced["rows"].sum()) if self.unpriced.height else 0

    @property
    def quarantine_counts(self) -> pl.DataFrame:
        """reason, rows: quarantined rows counted by reason, most frequent first."""
        return (
            self.quarantine.group_by("reason")
            .agg(rows=pl.len())
            .sort(["rows", "reason"], descending=[True, False])
        )

    def total(self) -> dict[str, Decimal]:
        """Exact total cost per currency: the sum of ``costs`` (unpriced calls excluded)."""
        priced = self.costs.filter(pl.col("cost").is_not_null())
        totals = priced.group_by("currency").agg(pl.col("cost").sum())
        return {row["currency"]: row["cost"] for row in totals.iter_rows(named=True)}

    def by(self, *keys: str) -> pl.DataFrame:
        """Cost summed by any of month, provider, model, operation, offer_id (and currency).

        A group none of whose calls has a price has a null cost, never 0.
        """
        group = [*keys, "currency"]
        cost = pl.col("cost")
        return (
            self.costs.group_by(group)
            .agg(
                pl.col("requests", "images", "unpriced").sum(),
                pl.when(cost.is_not_null().any()).then(cost.sum()).alias("cost"),
            )
            .sort(group, nulls_last=True)
        )


def replay(
    log: str | Path | pl.DataFrame | pl.LazyFrame,
    *,
    against: Sequence[str] | None = None,
    month: str | None = None,
    mapping: Mapping[str, str] | None = None,
    offer_map: Mapping[str, str] | None = None,
    catalog: Catalog | None = None,
    alternatives: bool = True,
    batch_rows: int = 1_000_000,
    progress: Progress | None = None,
) -> Replay:
    """Price a usage log as logged, on alternative offers, and against what was billed.

    Parameters
    ----------
    log : path or DataFrame/LazyFrame
        CSV, Parquet or NDJSON (by extension) with the columns of ``LOG_COLUMNS``.
    against : list of offer ids, optional
        Re-price every row on these offers, whatever model they serve (substitutes). Default:
        every offer that serves the row's model.
    month : "YYYY-MM", optional
        Replay only this calendar month (UTC).
    mapping : dict, optional
        Log column name -> standard name, e.g. ``{"ts": "timestamp", "vendor": "provider"}``.
    offer_map : dict, optional
        ``"provider/model"`` -> offer id, for providers with several offers of one model.
    alternatives : bool
        Set False to skip re-pricing (faster on very large logs).
    batch_rows : int
        Rows per batch when the log is streamed. Rows that need whole months (volume-priced
        offers) are spilled to a temporary directory (``TMPDIR``) and priced a month, or a
        group of its accounts of about this many rows, at a time.
    progress : callable(done, total, label), optional
        Called after each batch or month; the CLI draws a progress bar with it.
    """
    cat = catalog if catalog is not None else load_catalog()
    source = str(log) if isinstance(log, str | Path) else type(log).__name__
    if against is not None:
        for offer_id in against:
            cat.offer(offer_id)
    resolved, messages, names, ambiguous = prepare_log(log, cat, month, mapping, offer_map)
    quarantine, counts = _tally(resolved, messages, names)
    requests = request_table(resolved.filter(pl.col("_bad").is_null()), names)

    # Offers in use decide whether months must be replayed whole (running volumes).
    in_use = counts["offer_id"].unique()
    pairs = alternative_pairs(cat, in_use, against) if alternatives else None
    whole_months = month_offers(cat, set(in_use.to_list()), pairs, against)
    chunks = log_chunks(requests, counts, whole_months, batch_rows)
    sums = _Sums(cat, pairs, substitute=against is not None, has_bills="billed_cost" in names)
    rows_read = quarantine.height + sums.add(chunks, progress)
    return sums.replay(quarantine, ambiguous, rows_read, source)


def _tally(
    resolved: pl.LazyFrame, messages: list[Message], names: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The quarantine (the rows that cannot be read), and the readable rows per offer_id and
    month: in one pass over the log, and the bad rows in a second only if there are any."""
    reason, value = quarantine_reason(messages)
    bad = resolved.filter(pl.col("_bad").is_not_null()).select(
        pl.col("_line").alias("line"),
        reason.alias("reason"),
        value.alias("value"),
        *[pl.col(n).cast(pl.String) for n in names],
    )
    day = (pl.col("_ts").dt.cast_time_unit("us").to_physical() // DAY_US).alias("day")
    tally = (
        resolved.group_by(pl.col("_bad").is_not_null().alias("bad"), "_offer", day)
        .agg(rows=pl.len())
        .collect(engine="streaming")
    )
    quarantine = (
        bad.collect(engine="streaming")
        if tally["bad"].any()
        else pl.DataFrame(schema=bad.collect_schema())
    )
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
    return quarantine, counts


@dataclass
class _Sums:
    """The sums kept from each priced batch of a log, and the :class:`Replay` they make."""

    cat: Catalog
    pairs: pl.DataFrame | None  # (model, alternative offer) to re-price on; None: no re-pricing
    substitute: bool  # re-priced on offers given with ``against``, whatever their model
    has_bills: bool  # the log has a billed_cost column: reconcile
    costs: list[pl.DataFrame] = field(default_factory=list)
    unpriced: list[pl.DataFrame] = field(default_factory=list)
    billed: list[pl.DataFrame] = field(default_factory=list)
    alternatives: list[pl.DataFrame] = field(default_factory=list)

    def add(
        self, chunks: Iterator[tuple[pl.DataFrame, str, int, int]], progress: Progress | None
    ) -> int:
        """Price each chunk and keep its sums; the rows priced."""
        rows = 0
        for chunk, label, done, total in chunks:
            rows += chunk.height
            priced = price_requests(chunk, self.cat)
            # Kept as fresh copies: a batch's small aggregates must not pin its big buffers.
            self.costs.append(detached(cost_sums(priced)))
            self.unpriced.append(detached(unpriced_counts(priced)))
            if "billed_cost" in chunk.columns:
                self.billed.append(detached(billed_sums(priced)))
            if self.pairs is not None and chunk.height:
                self.alternatives.append(
                    detached(
                        alternative_costs(chunk, priced, self.pairs, self.cat, self.substitute)
                    )
                )
            if progress is not None:
                progress(done, total, label)
        return rows

    def replay(
        self, quarantine: pl.DataFrame, ambiguous: dict[str, str], rows_read: int, source: str
    ) -> Replay:
        """The sums added up over the batches, with the quarantine and its notes."""
        costs = summed(
            self.costs, ["month", "provider", "model", "operation", "offer_id", "currency"]
        )
        unpriced = summed(self.unpriced, ["reason"]).sort(
            ["rows", "reason"], descending=[True, False]
        )
        months = tuple(sorted({m.strftime("%Y-%m") for m in costs["month"].to_list()}))
        rows_priced = int(costs["requests"].sum()) if costs.height else 0
        rows_priced -= int(costs["unpriced"].sum()) if costs.height else 0
        return Replay(
            costs=costs,
            alternatives=alternatives_frame(self.alternatives),
            reconciliation=self._reconciliation(),
            quarantine=quarantine,
            unpriced=unpriced,
            rows_read=rows_read,
            rows_priced=rows_priced,
            months=months,
            source=source,
            notes=_notes(quarantine, ambiguous),
        )

    def _reconciliation(self) -> pl.DataFrame | None:
        """Billed against computed per month and provider; None when the log has no bills."""
        if not self.has_bills:
            return None
        billed = summed(self.billed, ["month", "provider", "currency"])
        billed = billed.select(
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
        return billed.with_columns(
            variance=pl.col("billed") - pl.col("computed"),
        ).with_columns(
            variance_pct=pl.when(pl.col("computed") != 0).then(
                pl.col("variance").cast(pl.Float64) / pl.col("computed").cast(pl.Float64) * 100
            )
        )


def _notes(quarantine: pl.DataFrame, ambiguous: dict[str, str]) -> tuple[str, ...]:
    """The providers with several offers of one model that the log's quarantined rows name."""
    reasons = set(quarantine["reason"].unique().to_list()) if quarantine.height else set()
    hit = sorted(key for key, message in ambiguous.items() if message in reasons)
    if not hit:
        return ()
    return (
        "providers with several offers of one model need an offer_id column or offer_map: "
        + "; ".join(hit),
    )
