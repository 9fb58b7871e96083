"""Replay a usage log: what it cost, what it would have cost elsewhere, and what was billed.

A log is CSV, Parquet or NDJSON with one row per call (:mod:`pricing._usage.log`). Rows are
checked first: a line that is not a row (ragged, not UTF-8, not JSON), a row with an
unreadable timestamp, a number out of its range (:mod:`pricing._price.bounds`), an unknown
provider, model or operation, or a provider that contradicts its offer_id goes to the
quarantine table with its line number and reason, and the rest of the log is priced. Nothing
is dropped silently: ``rows_read == rows_priced + rows_unpriced + rows_quarantined`` always
holds.

:func:`replay` runs in four phases: prepare (read, check, resolve offers), tally (rows per
offer and month, and the quarantine), price the batches (:mod:`pricing._usage.batches`, keeping
only their sums: :mod:`pricing._usage.days`, :mod:`pricing._usage.aggregates`,
:mod:`pricing._usage.alternatives` and, when asked, :mod:`pricing._usage.focus_parts`), and
assemble the :class:`Replay`. The log is priced once: month costs, a budget's days and the
FOCUS dataset all come from the sums of that one pass.
"""

from __future__ import annotations

import tempfile
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from pricing._base.progress import Progress
from pricing._cards.catalog import Catalog
from pricing._dataset import DataSet, pick_catalog
from pricing._evidence.grades import TrustPolicy
from pricing._evidence.trust import LEADS_SCHEMA, Trusted, trusted
from pricing._fx.convert import Conversion
from pricing._quote.fx import FxInput, check_target, converter_for
from pricing._usage.aggregates import (
    billed_sums,
    detached,
    folded,
    reconciliation,
    summed,
    unpriced_counts,
)
from pricing._usage.alternatives import alternative_costs, alternative_pairs, alternatives_frame
from pricing._usage.batches import log_chunks, month_offers
from pricing._usage.days import DAY_KEYS, DAY_SCHEMA, day_sums, month_costs
from pricing._usage.focus import check_granularity
from pricing._usage.focus_columns import Granularity
from pricing._usage.focus_parts import FocusParts
from pricing._usage.fx_rows import UsageFx, fx_rates_frame, priced_elsewhere
from pricing._usage.log import first_line, unknown_columns
from pricing._usage.offers import prepare_log, request_table
from pricing._usage.reading import LogReading
from pricing._usage.tally import tally
from pricing._vector.requests import price_requests
from pricing.errors import PricingError


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
        Rows that could not be read: line (1-based line in the log's file, the header of a
        CSV being line 1; 1-based row of a Parquet file or a table), reason (a fixed text, so
        rows count by reason), value (the offending value, if one; the whole line for a line
        that is not a row), then the log's columns as text.
    unpriced : DataFrame
        reason, rows: readable rows that no price applies to (never counted as 0).
    days : DataFrame
        The sums ``costs`` is made of, per UTC day and price: day, provider, model,
        operation, offer_id, price_version, source_id, currency, reason (why the calls have
        no price; null: priced), requests, images (made by the calls, priced or not), cost
        [currency, Decimal] (null where no call has a price), top_ups (calls that carry a
        minimum-spend top-up). A few thousand rows for a year; budgets read them.
    focus : DataFrame or None
        With ``replay(..., focus=granularity)``: the FOCUS 1.3 dataset of the priced calls,
        as :func:`pricing.to_focus` makes it of the whole priced log (its unpriced calls, left
        out, are ``rows_unpriced``).
    month : str or None
        "YYYY-MM" when only that month was replayed (``month=``); None: the whole log.
    unknown_columns : dict
        Columns of the log that are not read (neither standard, mapped nor OpenAI's ``n`` and
        ``size``) -> the standard column each is likely meant to be, or None. Each has a note.
    rows_default_size : int
        Readable calls without a size, priced at 1024x1024 [calls]; said in ``notes``.
    rows_default_count : int
        Readable calls without an image count, priced as one image [calls]; said in ``notes``.
    evidence : str
        The trust policy the log was priced under, in words.
    leads : DataFrame
        Prices of the log's models that the policy excluded on the log's last day (see
        :meth:`pricing.Trusted.leads`): never an alternative or a saving, listed with their
        figure and reason.
    currency : str or None
        With ``replay(..., currency=)``: the currency of ``costs``, ``days``, ``alternatives``
        and the totals, each call converted at the rate of its own day (see
        :attr:`fx_rates`). ``reconciliation`` and ``focus`` stay in the currency billed.
    conversions : tuple of Conversion
        The exchange rates used, one per currency and day; ``rows_unpriced_fx`` calls had no
        rate for their day and are unpriced (counted in ``rows_unpriced``, never as 0).
    root : Path or None
        The data directory the log was priced with (a budget reads its FX rates).
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
    days: pl.DataFrame = field(kw_only=True)
    focus: pl.DataFrame | None = field(default=None, kw_only=True)
    month: str | None = field(default=None, kw_only=True)
    unknown_columns: dict[str, str | None] = field(default_factory=dict, kw_only=True)
    rows_default_size: int = field(default=0, kw_only=True)
    rows_default_count: int = field(default=0, kw_only=True)
    evidence: str = field(default="", kw_only=True)
    leads: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=LEADS_SCHEMA), kw_only=True
    )
    currency: str | None = field(default=None, kw_only=True)
    conversions: tuple[Conversion, ...] = field(default=(), kw_only=True)
    rows_unpriced_fx: int = field(default=0, kw_only=True)
    root: Path | None = field(default=None, kw_only=True)

    @property
    def fx_rates(self) -> pl.DataFrame:
        """The exchange rates used: day, from, to, rate [to/from], rate_day, source, kind."""
        return fx_rates_frame(self.conversions)

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

    def totals(self) -> dict[str, Decimal]:
        """:meth:`total` sorted by currency, for reports [currency, Decimal].

        A group of wholly unpriced calls has no currency; it is counted as unpriced (see
        ``rows_unpriced``), not as money.
        """
        return {
            cur: value
            for cur, value in sorted(self.total().items(), key=lambda kv: str(kv[0]))
            if cur is not None or value != 0
        }

    def costs_shown(self) -> pl.DataFrame:
        """``costs`` as reports show them: ``cost`` null where no call of the group has a
        price (never 0)."""
        return self.costs.with_columns(
            cost=pl.when(pl.col("unpriced") < pl.col("requests")).then(pl.col("cost"))
        )

    def alternatives_by_model(self) -> pl.DataFrame:
        """``alternatives`` summed over the months, per model and offer: cheapest first within
        a model, offers that cannot price every call last; ``cost`` null where none of the
        calls has a price on the offer, ``saving`` and ``saving_pct`` on the calls both price."""
        summed_alt = self.alternatives.group_by("model", "offer_id", "provider", "currency").agg(
            pl.col(
                "requests", "images", "cost", "unpriced", "actual_cost", "alt_cost_same_rows"
            ).sum()
        )
        saving = pl.col("actual_cost") - pl.col("alt_cost_same_rows")
        return summed_alt.with_columns(
            cost=pl.when(pl.col("unpriced") < pl.col("requests")).then(pl.col("cost")),
            saving=saving,
            saving_pct=pl.when(pl.col("actual_cost") != 0).then(
                saving.cast(pl.Float64) / pl.col("actual_cost").cast(pl.Float64) * 100
            ),
        ).sort(
            [pl.col("model"), pl.col("unpriced") > 0, "currency", "cost", "offer_id"],
            nulls_last=True,
        )

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
    focus: Granularity | None = None,
    data: DataSet | None = None,
    evidence: TrustPolicy | str | None = None,
    currency: str | None = None,
    fx: FxInput = None,
    max_fx_age_days: int = 7,
) -> Replay:
    """Price a usage log as logged, on alternative offers, and against what was billed.

    The log is priced once, in batches, keeping only sums: by month (``costs``), by day
    (``days``, which :func:`pricing.budget_status` reads) and, with ``focus``, the FOCUS
    dataset, so each works on logs larger than memory.

    Parameters
    ----------
    log : path or DataFrame/LazyFrame
        CSV, Parquet or NDJSON (by extension) with the columns of ``LOG_COLUMNS``. A path is
        one file, read as it is spelt (``usage[1].csv`` is never a pattern); to replay several
        files, pass a LazyFrame of them, e.g. ``pl.scan_csv("logs/*.csv", infer_schema=False)``.
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
    focus : {"row", "hour", "day", "month"}, optional
        Build ``Replay.focus`` at this charge-period granularity while pricing: the dataset
        ``to_focus(price_requests(log_requests(log, ...).collect()), granularity=focus)``
        would give, batch by batch. Under "row" it has a row per priced call.
    data : DataSet, optional
        The data set to price with (its rate cards and FX rates), instead of ``catalog``.
    evidence : TrustPolicy or str, optional
        Which prices may price the log and its alternatives (default: official, provider and
        third-party prices with no excluding flag, judged today). Calls on an offer it leaves
        without a price are unpriced, with the reason; such offers of the log's models are
        in ``leads``, never among the alternatives or savings.
    currency : str, optional
        ISO 4217 code to report the costs, days, alternatives and totals in, e.g. ``"EUR"``:
        each call is converted at the ECB reference rate of its UTC day (a weekend takes the
        last business day's), never a planning rate; a call whose day has no rate at most
        ``max_fx_age_days`` old is unpriced with the reason. The reconciliation and the
        FOCUS dataset stay in the currency billed (FOCUS's BillingCurrency is the invoice's).
    fx : DataFrame, list or dict of your rates, or Converter, optional
        The rates (default: those of the data directory); your rates, e.g.
        ``["EURUSD=1.08"]``, replace the ECB's on every day.
    max_fx_age_days : int  [days]
        Oldest ECB rate accepted for a call's day.

    Raises
    ------
    PricingError
        An unreadable log (no such file, not CSV/Parquet/NDJSON, a header naming a column
        twice) or a bad argument (an unknown offer, mapping or month). A malformed line or
        row is quarantined, never raised.
    FocusError
        An unknown ``focus`` granularity.
    """
    if focus is not None:
        check_granularity(focus)
    full = pick_catalog(catalog, data)
    trust = trusted(full, evidence)
    source = str(log) if isinstance(log, str | Path) else type(log).__name__
    if against is not None:
        for offer_id in against:
            full.offer(offer_id)
    converter = converter_for(currency, fx, max_fx_age_days, root=full.root, planning=False)
    usage_fx = None if converter is None else UsageFx(converter)
    if converter is not None and priced_elsewhere(full, converter.target):
        check_target(converter)
    terms = _Terms(against, month, mapping, offer_map, alternatives, batch_rows, focus, usage_fx)
    # Every file replay writes (a text log's rows, months of volume-priced rows) lives in one
    # temporary directory, removed on the way out whatever happens (an error, an interrupt).
    with tempfile.TemporaryDirectory(prefix="pricing-replay-") as tmp:
        try:
            result = _replay(log, full, trust, terms, Path(tmp), progress)
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
            # a file polars cannot read (a corrupt Parquet page can even make it panic)
            raise PricingError(
                f"cannot read the usage log {source}: {first_line(exc)}; check that it is a "
                "valid CSV, Parquet or NDJSON log"
            ) from exc
    return replace(result, source=source, root=full.root)


@dataclass(frozen=True)
class _Terms:
    """The arguments of :func:`replay` that say what to price and how."""

    against: Sequence[str] | None
    month: str | None
    mapping: Mapping[str, str] | None
    offer_map: Mapping[str, str] | None
    alternatives: bool
    batch_rows: int
    focus: Granularity | None
    fx: UsageFx | None  # converts the costs; None: each in its price's currency


def _replay(
    log: str | Path | pl.DataFrame | pl.LazyFrame,
    full: Catalog,
    trust: Trusted,
    terms: _Terms,
    spill: Path,
    progress: Progress | None,
) -> Replay:
    """:func:`replay`, writing its files to ``spill``."""
    cat = trust.catalog
    prepared = prepare_log(log, full, terms.month, terms.mapping, terms.offer_map, spill / "log")
    names = prepared.names
    quarantine, counts, defaults = tally(prepared)
    reading = LogReading(unknown_columns(names), *defaults)
    requests = request_table(prepared.resolved.filter(pl.col("_bad").is_null()), names)

    # Offers in use decide whether months must be replayed whole (running volumes).
    in_use = counts["offer_id"].unique()
    against = terms.against
    pairs = alternative_pairs(cat, in_use, against) if terms.alternatives else None
    whole_months = month_offers(cat, set(in_use.to_list()), pairs, against)
    chunks = log_chunks(requests, counts, whole_months, terms.batch_rows, spill / "months")
    sums = _Sums(cat, pairs, against is not None, "billed_cost" in names, terms.fx)
    sums.focus = None if terms.focus is None else FocusParts(terms.focus)  # built while pricing
    rows_read = quarantine.height + sums.add(chunks, progress)
    read = (prepared.ambiguous, reading)
    result = sums.replay(quarantine, read, rows_read, "", terms.month)
    model_of = {o.id: o.model for _, o in full.all_offers()}
    models = {model_of[o] for o in in_use.to_list() if o in model_of}
    last = result.days["day"].max() if result.days.height else None
    return replace(
        result,
        # judged on the log's last day: a price that turned stale since priced the log fairly
        leads=trust.leads(last if isinstance(last, date) else trust.day, models),
        evidence=f"{trust.policy.name} evidence policy: {trust.policy.describe()}",
    )


@dataclass
class _Sums:
    """The sums kept from each priced batch of a log, and the :class:`Replay` they make."""

    cat: Catalog
    pairs: pl.DataFrame | None  # (model, alternative offer) to re-price on; None: no re-pricing
    substitute: bool  # re-priced on offers given with ``against``, whatever their model
    has_bills: bool  # the log has a billed_cost column: reconcile
    fx: UsageFx | None = None  # converts the costs (not the bills, not FOCUS)
    focus: FocusParts | None = None  # the FOCUS sums, when asked for
    days: list[pl.DataFrame] = field(default_factory=list)
    unpriced: list[pl.DataFrame] = field(default_factory=list)
    billed: list[pl.DataFrame] = field(default_factory=list)
    alternatives: list[pl.DataFrame] = field(default_factory=list)

    def add(
        self, chunks: Generator[tuple[pl.DataFrame, str, int, int]], progress: Progress | None
    ) -> int:
        """Price each chunk and keep its sums; the rows priced. The chunks are closed on the
        way out (their reading thread stopped), whatever happens."""
        try:
            return self._add(chunks, progress)
        finally:
            chunks.close()

    def _add(
        self, chunks: Iterator[tuple[pl.DataFrame, str, int, int]], progress: Progress | None
    ) -> int:
        rows = 0
        for chunk, label, done, total in chunks:
            rows += chunk.height
            priced = price_requests(chunk, self.cat)  # in each price's currency, as billed
            costs = priced if self.fx is None else self.fx.rows(priced, count=True)
            # Kept as fresh copies: a batch's small aggregates must not pin its big buffers.
            self.days = folded([*self.days, detached(day_sums(costs))], DAY_KEYS)
            self.unpriced.append(detached(unpriced_counts(costs)))
            if "billed_cost" in chunk.columns:
                self.billed.append(detached(billed_sums(priced)))
            if self.pairs is not None and chunk.height:
                convert = None if self.fx is None else self.fx.rows
                alt = alternative_costs(
                    chunk, costs, self.pairs, self.cat, self.substitute, convert
                )
                self.alternatives.append(detached(alt))
            if self.focus is not None:
                self.focus.add(priced)
            if progress is not None:
                progress(done, total, label)
        return rows

    def replay(
        self,
        quarantine: pl.DataFrame,
        read: tuple[dict[str, str], LogReading],
        rows_read: int,
        source: str,
        month: str | None,
    ) -> Replay:
        """The sums added up over the batches, with the quarantine and the notes on how the
        log was ``read`` (its ambiguous providers, its unread columns and defaults)."""
        ambiguous, reading = read
        days = summed(self.days, DAY_KEYS) if self.days else pl.DataFrame(schema=DAY_SCHEMA)
        costs = month_costs(days)
        unpriced = summed(self.unpriced, ["reason"]).sort(
            ["rows", "reason"], descending=[True, False]
        )
        months = tuple(sorted({m.strftime("%Y-%m") for m in costs["month"].to_list()}))
        rows_priced = int(costs["requests"].sum()) if costs.height else 0
        rows_priced -= int(costs["unpriced"].sum()) if costs.height else 0
        return Replay(
            costs=costs,
            alternatives=alternatives_frame(self.alternatives),
            reconciliation=reconciliation(self.billed) if self.has_bills else None,
            quarantine=quarantine,
            unpriced=unpriced,
            rows_read=rows_read,
            rows_priced=rows_priced,
            months=months,
            source=source,
            notes=(*reading.notes(), *_notes(quarantine, ambiguous)),
            days=days,
            focus=None if self.focus is None else self.focus.dataset(),
            month=month,
            unknown_columns=reading.unknown_columns,
            rows_default_size=reading.rows_default_size,
            rows_default_count=reading.rows_default_count,
            currency=None if self.fx is None else self.fx.target,
            conversions=() if self.fx is None else self.fx.used(),
            rows_unpriced_fx=0 if self.fx is None else self.fx.unpriced_calls,
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
