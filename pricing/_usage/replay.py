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
only their sums: :func:`pricing._usage.sums.price_chunk`), and assemble the :class:`Replay`.
The log is priced once: month costs, a budget's days and the FOCUS dataset all come from the
sums of that one pass. The phases run in this process (``engine="local"``) or on a Ray cluster
(``engine="ray"``, :mod:`pricing._usage.ray_engine`), with the same pricing function and the
same sums.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from pricing._base.choices import ENGINES, Engine
from pricing._base.progress import Progress
from pricing._cards.catalog import Catalog
from pricing._dataset import DataSet, pick_catalog
from pricing._evidence.grades import TrustPolicy
from pricing._evidence.trust import LEADS_SCHEMA, trusted
from pricing._fx.convert import Conversion
from pricing._quote.fx import FxInput, check_target, converter_for
from pricing._usage.aggregates import reconciliation, summed
from pricing._usage.alternatives import alternatives_frame
from pricing._usage.batches import log_chunks
from pricing._usage.days import DAY_KEYS, DAY_SCHEMA, month_costs
from pricing._usage.focus import check_granularity
from pricing._usage.focus_columns import Granularity
from pricing._usage.focus_parts import FocusParts
from pricing._usage.fx_rows import UsageFx, fx_rates_frame, priced_elsewhere
from pricing._usage.log import first_line, unknown_columns
from pricing._usage.offers import prepare_log
from pricing._usage.parquet_dir import log_files_state
from pricing._usage.reading import LogReading
from pricing._usage.sums import Sums, Tallied, Terms, plan
from pricing._usage.tally import tallied_requests
from pricing.errors import PricingError

#: Where ``replay`` prices: "local" (this process, streaming) or "ray" (a Ray cluster).


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
    engine: Engine = "local",
    address: str | None = None,
) -> Replay:
    """Price a usage log as logged, on alternative offers, and against what was billed.

    The log is priced once, in batches, keeping only sums: by month (``costs``), by day
    (``days``, which :func:`pricing.budget_status` reads) and, with ``focus``, the FOCUS
    dataset, so each works on logs larger than memory.

    Parameters
    ----------
    log : path or DataFrame/LazyFrame
        CSV, Parquet or NDJSON (by extension) with the columns of ``LOG_COLUMNS``. A path is
        one file, read as it is spelt (``usage[1].csv`` is never a pattern), or a directory of
        Parquet files, Hive-partitioned (``month=2026-03/part-0.parquet``) or not; to replay
        several text files, pass a LazyFrame of them, e.g.
        ``pl.scan_csv("logs/*.csv", infer_schema=False)``. With ``engine="ray"``: a Parquet
        file or directory, local or in object storage (``"s3://bucket/usage/"``).
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
    engine : {"local", "ray"}
        "local": this process, streaming. "ray": a Ray cluster (``pip install
        'pricing[ray]'``) reads the Parquet log with Ray Data and prices each (account, offer,
        month) group with the same pricing function (:mod:`pricing._usage.ray_engine`); the
        result is the same, to the cent.
    address : str, optional
        With ``engine="ray"``: the cluster to run on (``"ray://head:10001"``, ``"auto"``).
        Default: the one ``ray.init`` finds (``RAY_ADDRESS``, a cluster started with
        ``ray start`` on this machine), else a local one for the call.

    Raises
    ------
    PricingError
        An unreadable log (no such file, not CSV/Parquet/NDJSON, a header naming a column
        twice) or a bad argument (an unknown offer, mapping, month or engine; ray not
        installed, or its cluster out of reach). A malformed line or row is quarantined,
        never raised.
    FocusError
        An unknown ``focus`` granularity.
    """
    if focus is not None:
        check_granularity(focus)
    _check_engine(log, engine, address)
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
    terms = Terms(
        against, month, mapping, offer_map, alternatives, batch_rows, focus, usage_fx, address
    )
    # Every file replay writes (a text log's rows, months of volume-priced rows) lives in one
    # temporary directory, removed on the way out whatever happens (an error, an interrupt).
    with tempfile.TemporaryDirectory(prefix="pricing-replay-") as tmp:
        try:
            if engine == "ray":  # imported only when asked for: it imports ray
                from pricing._usage.ray_engine import ray_sums

                tallied, sums = ray_sums(log, full, trust.catalog, terms, progress)
            else:
                tallied, sums = _local_sums(log, full, trust.catalog, terms, Path(tmp), progress)
            result = _assembled(sums, tallied, source, month)
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
            # a file polars cannot read (a corrupt Parquet page can even make it panic)
            raise PricingError(
                f"cannot read the usage log {source}: {first_line(exc)}; check that it is a "
                "valid CSV, Parquet or NDJSON log"
            ) from exc
    model_of = {o.id: o.model for _, o in full.all_offers()}
    models = {model_of[o] for o in tallied.counts["offer_id"].unique().to_list() if o in model_of}
    last = result.days["day"].max() if result.days.height else None
    return replace(
        result,
        # judged on the log's last day: a price that turned stale since priced the log fairly
        leads=trust.leads(last if isinstance(last, date) else trust.day, models),
        evidence=f"{trust.policy.name} evidence policy: {trust.policy.describe()}",
        root=full.root,
    )


def _check_engine(log: object, engine: str, address: str | None) -> None:
    """Refuse an unknown engine, an address without Ray, and a URL on this machine."""
    if engine not in ENGINES:
        raise PricingError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine != "ray" and address is not None:
        raise PricingError("address= names a Ray cluster: give it with engine='ray'")
    if engine == "local" and isinstance(log, str) and "://" in log:
        raise PricingError(
            f"usage log {log} is a URL: the local engine reads files on this machine; read "
            "object storage with the ray engine (engine='ray', on the command line --engine "
            "ray; pip install 'pricing[ray]')"
        )


def _local_sums(
    log: str | Path | pl.DataFrame | pl.LazyFrame,
    full: Catalog,
    cat: Catalog,
    terms: Terms,
    spill: Path,
    progress: Progress | None,
) -> tuple[Tallied, Sums]:
    """The log checked on this machine, streaming, and tallied; its request table (read
    again, or written to disk as it is checked: :func:`pricing._usage.tally.tallied_requests`)
    then priced with ``cat`` in batches (:mod:`pricing._usage.batches`; files written to
    ``spill``). The log is read more than once: a log path written to meanwhile is an error,
    never sums of different rows."""
    state = log_files_state(log)
    prepared = prepare_log(log, full, terms.month, terms.mapping, terms.offer_map, spill / "log")
    names = prepared.names
    reread = not isinstance(log, pl.LazyFrame)  # a query's source is read once
    tallied_log = tallied_requests(prepared, spill / "checked.parquet", reread)
    quarantine, counts, defaults, requests = tallied_log
    reading = LogReading(unknown_columns(names), *defaults)
    tallied = Tallied(quarantine, counts, reading, names, prepared.ambiguous)
    how, whole_months = plan(cat, counts, terms)
    chunks = log_chunks(requests, counts, whole_months, terms.batch_rows, spill / "months")
    sums = Sums("billed_cost" in names, terms.fx)
    sums.focus = None if terms.focus is None else FocusParts(terms.focus)  # built while pricing
    sums.add_chunks(chunks, how, progress)
    if log_files_state(log) != state:
        raise PricingError(
            f"usage log {log} changed while it was replayed (a file's size or modification "
            "time is not what it was at the start), so its reads may not agree; replay a copy "
            "that nothing writes to, or the log once it is complete"
        )
    return tallied, sums


def _assembled(sums: Sums, tallied: Tallied, source: str, month: str | None) -> Replay:
    """The :class:`Replay` of the chunks' sums added up, with the quarantine and the notes on
    how the log was read (its ambiguous providers, its unread columns and defaults)."""
    reading, quarantine = tallied.reading, tallied.quarantine
    days = summed(sums.days, DAY_KEYS) if sums.days else pl.DataFrame(schema=DAY_SCHEMA)
    costs = month_costs(days)
    unpriced = summed(sums.unpriced, ["reason"]).sort(["rows", "reason"], descending=[True, False])
    months = tuple(sorted({m.strftime("%Y-%m") for m in costs["month"].to_list()}))
    rows_priced = int(costs["requests"].sum()) if costs.height else 0
    rows_priced -= int(costs["unpriced"].sum()) if costs.height else 0
    fx = sums.fx
    return Replay(
        costs=costs,
        alternatives=alternatives_frame(sums.alternatives),
        reconciliation=reconciliation(sums.billed) if sums.has_bills else None,
        quarantine=quarantine,
        unpriced=unpriced,
        rows_read=quarantine.height + sums.rows,
        rows_priced=rows_priced,
        months=months,
        source=source,
        notes=(*reading.notes(), *_notes(quarantine, tallied.ambiguous)),
        days=days,
        focus=None if sums.focus is None else sums.focus.dataset(),
        month=month,
        unknown_columns=reading.unknown_columns,
        rows_default_size=reading.rows_default_size,
        rows_default_count=reading.rows_default_count,
        currency=None if fx is None else fx.target,
        conversions=() if fx is None else fx.used(),
        rows_unpriced_fx=0 if fx is None else fx.unpriced_calls,
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
