"""What a refresh adds: parsed records compared with the data, as new dated entries.

Nothing here writes. Each feed (:mod:`pricing._refresh.feeds`) turns its parsed records into
:class:`Additions` (new price versions, offers, GPU offers, FX rows) plus the diff rows that
explain them. History is never edited: a changed price becomes a *new* entry dated the fetch
day and citing a new source whose URL is the one fetched.

When is a price "unchanged"? A rate-card price is unchanged when a version in force on the fetch
day, from a source of the same or higher precedence (official > provider-reseller >
third-party > seed), already has the same components (:func:`offer_update`). A GPU price is
unchanged when the latest entry with the same id (provider/sku-category-region, plus a
``.YYYY-MM-DD`` tag on later figures) has the same price. An FX rate is unchanged when the same
day and currency already has it; a different rate for a day already recorded is a conflict,
reported and not written.

fal and OpenRouter records update the offers whose ``name`` starts with their API id; a record
no offer names becomes a new offer when its id maps to a model of ``data/models.toml`` (its
``api_ids``, or a last path segment equal to a model id), otherwise it is skipped with the
``api_ids`` line that would map it (:mod:`pricing._refresh.new_offers`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
from pydantic import ValidationError

from pricing._cards.loader import LoadedData
from pricing._cards.schema import SOURCE_PRECEDENCE, Offer, PriceVersion, RateCard, SourceKind
from pricing._gpus.gpus import GpuData
from pricing._gpus.offers import GpuOffer
from pricing._refresh.changes import version_change
from pricing.errors import RefreshError


@dataclass(frozen=True)
class Context:
    """The data a refresh compares against, and the fetch time (UTC, aware)."""

    data: LoadedData
    gpus: GpuData
    fx: pl.DataFrame
    fetched_at: datetime
    #: Whether a change beyond :data:`pricing._cards.plausible.LARGE_CHANGE` may be written.
    accept_large_change: bool = False

    @property
    def day(self) -> date:
        return self.fetched_at.date()


@dataclass
class Additions:
    """New entries for the data files, and the rows of the diff report."""

    gpu_offers: list[GpuOffer] = field(default_factory=list)
    versions: dict[str, dict[str, list[PriceVersion]]] = field(default_factory=dict)
    offers: dict[str, list[Offer]] = field(default_factory=dict)
    cards: dict[str, RateCard] = field(default_factory=dict)
    fx_rows: list[tuple[date, str, Decimal, str]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    #: Changes beyond the accepted factor, in words (:mod:`pricing._refresh.changes`).
    large: list[str] = field(default_factory=list)

    @property
    def writes(self) -> bool:
        """Whether anything would be written."""
        return bool(self.gpu_offers or self.versions or self.offers or self.cards or self.fx_rows)

    def merge(self, other: Additions) -> None:
        """Add ``other``'s entries to these (another source of the same refresh)."""
        self.gpu_offers += other.gpu_offers
        for provider, by_offer in other.versions.items():
            mine = self.versions.setdefault(provider, {})
            for offer_id, versions in by_offer.items():
                mine.setdefault(offer_id, []).extend(versions)
        for provider, offers in other.offers.items():
            self.offers.setdefault(provider, []).extend(offers)
        for provider, card in other.cards.items():
            if provider in self.cards:
                offers = [*self.cards[provider].offers, *card.offers]
                card = card.model_copy(update={"offers": offers})
            self.cards[provider] = card
        self.fx_rows += other.fx_rows
        self.changes += other.changes
        self.skipped += other.skipped
        self.unchanged += other.unchanged
        self.large += other.large

    def change(
        self, source: str, item: str, detail: str, old: str | None, new: str, pct: float | None
    ) -> None:
        status = "new" if old is None else "changed"
        self.changes.append(
            {
                "source": source,
                "item": item,
                "detail": detail,
                "old": old,
                "new": new,
                "change_pct": pct,
                "status": status,
            }
        )

    def skip(self, source: str, item: str, reason: str) -> None:
        self.skipped.append({"source": source, "item": item, "reason": reason})


def pct(old: Decimal | None, new: Decimal | None) -> float | None:
    """The change from ``old`` to ``new`` [%]; None when either is unknown or ``old`` is 0."""
    if old is None or new is None or old == 0:
        return None
    try:
        return float((new - old) / old * 100)
    except ArithmeticError:  # a figure the guard refuses (pricing._refresh.guard)
        return None


def slug(text: str) -> str:
    """``text`` as an id part: lowercase, runs of other characters than ``a-z0-9.`` as ``-``."""
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")


def validation_reason(exc: ValidationError, limit: int = 3) -> str:
    """The first ``limit`` errors of ``exc`` as ``field: message (got value)``."""
    parts = []
    for err in exc.errors()[:limit]:
        loc = ".".join(str(p) for p in err["loc"]) or "document"
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {str(value)[:60]!r})"
        parts.append(f"{loc}: {err['msg']}{shown}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _content(v: PriceVersion) -> dict[str, Any]:
    return v.model_dump(exclude={"effective_from", "effective_to", "source", "notes"})


def _headline(v: PriceVersion) -> tuple[str, Decimal | None]:
    """(unit, main price) of a version's first component, for the % change of the diff."""
    c = v.components[0]
    return f"{c.unit}/{v.currency}", c.headline_price(v)


def describe_version(v: PriceVersion) -> str:
    """A version's components in words, ``; ``-separated (the diff's old and new columns)."""
    return v.describe()


def offer_update(
    adds: Additions,
    ctx: Context,
    source: str,
    kind: SourceKind,
    provider: str,
    offer: Offer,
    new: PriceVersion,
) -> None:
    """Record ``new`` for ``offer`` unless a version of equal or higher rank already says it."""
    rank = SOURCE_PRECEDENCE.index(kind)
    sources = {s.id: s for s in ctx.data.sources.source}
    in_force = [v for v in offer.versions if v.in_force(ctx.day) and v.source in sources]

    def rank_of(v: PriceVersion) -> int:
        return SOURCE_PRECEDENCE.index(sources[v.source].kind)

    if any(rank_of(v) <= rank and _content(v) == _content(new) for v in in_force):
        adds.unchanged += 1
        return
    best = min(in_force, key=lambda v: (rank_of(v), -v.effective_from.toordinal()), default=None)
    adds.versions.setdefault(provider, {}).setdefault(offer.id, []).append(new)
    large = None if best is None else version_change(offer, best, new)
    if large is not None:
        adds.large.append(f"{large}, replacing version {best.version_id}" if best else large)
    old_unit, old_value = _headline(best) if best else ("", None)
    new_unit, new_value = _headline(new)
    adds.change(
        source,
        offer.id,
        f"price version from {new.effective_from}",
        None if best is None else f"{describe_version(best)} ({best.version_id})",
        describe_version(new),
        pct(old_value, new_value) if old_unit == new_unit else None,
    )


def revalidate(source: str, item: str, raw: dict[str, Any]) -> PriceVersion:
    """``raw`` as a :class:`PriceVersion`, or a :class:`RefreshError` naming ``item``."""
    try:
        return PriceVersion.model_validate(raw)
    except ValidationError as exc:
        raise RefreshError(
            source, f"{item}: invalid price version: {validation_reason(exc)}"
        ) from None
