"""What a priced chunk of a usage log leaves, and those sums added up over the whole log.

:func:`price_chunk` is the one pricing step of a replay, the same on one machine and on a
cluster: a chunk of request rows in (with every row of each (account, offer, month) whose offer
runs a monthly volume: :mod:`pricing._usage.batches`), its sums out (:class:`ChunkSums`): cost
by day and price (:mod:`pricing._usage.days`), unpriced calls by reason, billed against
computed cost, the calls re-priced on their alternatives and, when asked, the FOCUS sums. Only
these small frames outlive the chunk. :class:`Sums` adds the chunks' sums up, in any order
(every cost is rounded to ledger scale per call before any sum, so the sums are exact); locally
it holds the shapes of several streamed chunks and prices them in one call (:func:`price_table`),
to the sums of each chunk priced alone.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from pricing._base.progress import Progress
from pricing._cards.catalog import Catalog
from pricing._usage.aggregates import (
    FOLD_EVERY,
    billed_sums,
    detached,
    folded,
    unpriced_counts,
)
from pricing._usage.alternatives import alternative_costs, alternative_pairs
from pricing._usage.batches import month_offers
from pricing._usage.by_shape import by_shape, calls
from pricing._usage.days import DAY_KEYS, day_sums
from pricing._usage.focus import sum_keys
from pricing._usage.focus_columns import Granularity
from pricing._usage.focus_parts import FocusParts
from pricing._usage.fx_rows import UsageFx
from pricing._usage.reading import LogReading
from pricing._vector.requests import price_requests

#: Shape rows of streamed chunks held before they are priced together: a ``price_requests``
#: call costs 50-80 ms however few its rows (planning its queries), a batch of a million calls
#: has 45,000-85,000 shapes; at this many rows a call's fixed cost is about a quarter of it.
SHAPES_AT_ONCE = 400_000
#: FOCUS usage-sum rows kept apart before they are added up, at least (as ``FocusParts``).
FOCUS_FOLD_ROWS = 100_000


@dataclass(frozen=True)
class Terms:
    """The arguments of ``replay`` that say what to price and how."""

    against: Sequence[str] | None
    month: str | None
    mapping: Mapping[str, str] | None
    offer_map: Mapping[str, str] | None
    alternatives: bool
    batch_rows: int
    focus: Granularity | None
    fx: UsageFx | None  # converts the costs; None: each in its price's currency
    address: str | None = None  # the Ray cluster's, with the ray engine


@dataclass(frozen=True)
class Tallied:
    """What the first pass over a log found: the quarantine (by line), the readable rows per
    offer_id and month (``rows``), how the log was read, its columns and its providers with
    several offers of one model (and what to do)."""

    quarantine: pl.DataFrame
    counts: pl.DataFrame
    reading: LogReading
    names: list[str]
    ambiguous: dict[str, str]


@dataclass(frozen=True)
class Pricing:
    """What prices a chunk, the same wherever it runs (it is pickled to a cluster's workers)."""

    cat: Catalog  # the catalog the trust policy allows
    pairs: pl.DataFrame | None  # (model, alternative offer) to re-price on; None: no re-pricing
    substitute: bool  # re-priced on offers given with ``against``, whatever their model
    fx: UsageFx | None = None  # converts the costs (not the bills, not FOCUS)
    focus: Granularity | None = None  # the FOCUS sums' granularity, when asked for


@dataclass(frozen=True)
class ChunkSums:
    """The sums of one priced chunk (fresh frames: none holds the chunk's buffers)."""

    rows: int  # [calls]
    days: pl.DataFrame  # day_sums
    unpriced: pl.DataFrame  # reason, rows
    billed: pl.DataFrame | None = None  # billed_sums, when the log has bills
    alternatives: pl.DataFrame | None = None  # alternative_costs, when re-priced
    focus: FocusParts | None = None  # the chunk's FOCUS sums, when asked for
    unpriced_fx: int = 0  # priced calls left without a price for want of an exchange rate
    conversions: tuple[tuple[date, str], ...] = ()  # (day, currency) converted, so far


def plan(cat: Catalog, counts: pl.DataFrame, terms: Terms) -> tuple[Pricing, set[str]]:
    """How to price the log whose readable rows per offer and month are ``counts``, and the
    offers in use whose rows need whole months (running volumes: tiers, allowances, plans,
    minimum spend, theirs or those of an offer they are re-priced on)."""
    in_use = counts["offer_id"].unique()
    against = terms.against
    pairs = alternative_pairs(cat, in_use, against) if terms.alternatives else None
    whole = month_offers(cat, set(in_use.to_list()), pairs, against)
    return Pricing(cat, pairs, against is not None, terms.fx, terms.focus), whole


def price_chunk(chunk: pl.DataFrame, how: Pricing) -> ChunkSums:
    """Price a chunk of request rows (``request_table``'s columns) and keep only its sums.

    Running monthly volumes see the chunk's rows only: a chunk holds every row of the
    (account, offer, month) groups of volume-priced offers it has a row of. A chunk whose
    calls no running volume prices is priced by request shape (:mod:`pricing._usage.by_shape`),
    to the same sums.
    """
    shapes = _by_shape(chunk, how)
    return price_table(chunk if shapes is None else shapes, chunk.height, how)


def _by_shape(chunk: pl.DataFrame, how: Pricing) -> pl.DataFrame | None:
    """``chunk`` summed by shape, or None where its calls are priced one by one
    (:func:`pricing._usage.by_shape.by_shape`; a FOCUS dataset is built of the calls)."""
    return by_shape(chunk, how.cat, how.pairs, per_call=how.focus is not None)


def price_table(table: pl.DataFrame, rows: int, how: Pricing) -> ChunkSums:
    """The sums of ``table``: request rows, or shapes standing for
    :data:`pricing._usage.by_shape.CALLS` calls each (of one chunk, or of several: their sums
    add up), ``rows`` calls in all."""
    priced = price_requests(table, how.cat)  # in each price's currency, as billed
    fx = how.fx
    costs = priced if fx is None else fx.rows(priced)
    lost = 0
    if fx is not None:  # priced calls whose day has no exchange rate
        has_price = pl.col("reason").is_null()
        lost = calls(priced, has_price) - calls(costs, has_price)
    alternatives = None
    if how.pairs is not None and table.height:
        convert = None if fx is None else fx.rows
        alt = alternative_costs(table, costs, how.pairs, how.cat, how.substitute, convert)
        alternatives = detached(alt)
    focus = None
    if how.focus is not None:
        focus = FocusParts(how.focus)
        focus.add(priced)
    # Kept as fresh copies: a chunk's small aggregates must not pin its big buffers.
    return ChunkSums(
        rows=rows,
        days=detached(day_sums(costs)),
        unpriced=detached(unpriced_counts(costs)),
        billed=detached(billed_sums(priced)) if "billed_cost" in table.columns else None,
        alternatives=alternatives,
        focus=focus,
        unpriced_fx=lost,
        conversions=() if fx is None else tuple((c.asked, c.from_currency) for c in fx.used()),
    )


@dataclass
class Sums:
    """The sums of the chunks priced so far (:meth:`add`), for the :class:`Replay`."""

    has_bills: bool  # the log has a billed_cost column: reconcile
    fx: UsageFx | None = None  # records the conversions and the calls left without a rate
    focus: FocusParts | None = None  # the FOCUS sums, when asked for
    rows: int = 0  # [calls] priced or not
    days: list[pl.DataFrame] = field(default_factory=list)
    unpriced: list[pl.DataFrame] = field(default_factory=list)
    billed: list[pl.DataFrame] = field(default_factory=list)
    alternatives: list[pl.DataFrame] = field(default_factory=list)

    def add(self, part: ChunkSums) -> None:
        """Keep a chunk's sums (priced here, or by a cluster's worker)."""
        self.rows += part.rows
        self.days = folded([*self.days, part.days], DAY_KEYS)
        self.unpriced.append(part.unpriced)
        if part.billed is not None:
            self.billed.append(part.billed)
        if part.alternatives is not None:
            self.alternatives.append(part.alternatives)
        if self.focus is not None and part.focus is not None:
            merge_focus(self.focus, part.focus)
        if self.fx is not None:
            self.fx.unpriced_calls += part.unpriced_fx
            for day, currency in part.conversions:  # the same rates, found again here
                self.fx.lookup(day, currency)

    def add_chunks(
        self,
        chunks: Generator[tuple[pl.DataFrame, str, int, int]],
        how: Pricing,
        progress: Progress | None,
    ) -> int:
        """Price each chunk (:func:`price_chunk`) and keep its sums; the rows priced. The
        chunks are closed on the way out (their reading thread stopped), whatever happens."""
        try:
            return self._add_chunks(chunks, how, progress)
        finally:
            chunks.close()

    def _add_chunks(
        self,
        chunks: Iterator[tuple[pl.DataFrame, str, int, int]],
        how: Pricing,
        progress: Progress | None,
    ) -> int:
        rows = 0
        held = _Held()
        for chunk, label, done, total in chunks:
            rows += chunk.height
            shapes = _by_shape(chunk, how)
            if shapes is None:
                self.add(price_table(chunk, chunk.height, how))
            elif held.keep(shapes, chunk.height):
                self.add(held.priced(how))
            if progress is not None:
                progress(done, total, label)
        if held.tables:
            self.add(held.priced(how))
        return rows


@dataclass
class _Held:
    """Chunks summed by shape, held until they are priced in one call (their sums add up)."""

    tables: list[pl.DataFrame] = field(default_factory=list)
    rows: int = 0  # [calls] the held shapes stand for

    def keep(self, shapes: pl.DataFrame, rows: int) -> bool:
        """Hold a chunk's shapes; whether the held shapes are now worth a call."""
        self.tables.append(shapes)
        self.rows += rows
        return sum(t.height for t in self.tables) >= SHAPES_AT_ONCE

    def priced(self, how: Pricing) -> ChunkSums:
        """The sums of the held shapes, which are let go."""
        table = pl.concat(self.tables, how="vertical") if len(self.tables) > 1 else self.tables[0]
        sums = price_table(table, self.rows, how)
        self.tables, self.rows = [], 0
        return sums


def merge_focus(into: FocusParts, part: FocusParts) -> None:
    """Add a chunk's FOCUS sums ``part`` to ``into``, adding them up now and then as
    ``FocusParts`` does (every ``FOLD_EVERY`` chunks, or once the usage sums kept since the
    last time are as many rows as those added up, at least ``FOCUS_FOLD_ROWS``)."""
    into.usage.extend(part.usage)
    into.fees.extend(part.fees)
    into.top_ups.extend(part.top_ups)
    into.problems.extend(part.problems)
    pending = sum(frame.height for frame in into.usage[1:])
    many = into.granularity != "row" and pending >= max(into.usage[0].height, FOCUS_FOLD_ROWS)
    if len(into.problems) < FOLD_EVERY and not many:
        return
    keys = sum_keys(into.granularity)
    if into.granularity != "row":  # a usage row per call: nothing to add up
        into.usage = _added(into.usage, keys.usage)
    into.fees = _added(into.fees, keys.fees)
    into.top_ups = _added(into.top_ups, keys.top_ups)
    into.problems = _added(into.problems, ["problem"])


def _added(parts: list[pl.DataFrame], keys: list[str]) -> list[pl.DataFrame]:
    """``parts`` added up by ``keys`` into one frame (in the order keys first appear)."""
    if len(parts) < 2:
        return parts
    frame = pl.concat(parts, how="vertical")
    return [frame.group_by(keys, maintain_order=True).agg(pl.all().sum())]
