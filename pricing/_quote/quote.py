"""Exact quotes for one request on one offer, and comparisons across every offer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial

import polars as pl

from pricing._base.dates import to_date
from pricing._base.money import QUOTE_MONEY
from pricing._cards.catalog import Catalog, load_catalog, unknown_model
from pricing._cards.schema import Offer, PriceVersion
from pricing._quote.line_items import Priced, price_version
from pricing._quote.request import ImageRequest
from pricing._quote.units import LineItem
from pricing.errors import PriceNotFound, PricingError, UnsupportedRequest


@dataclass(frozen=True)
class SourcePrice:
    """The request's price under one source's version in force."""

    source_id: str
    source_kind: str
    version: str
    total: Decimal
    total_high: Decimal | None


@dataclass(frozen=True)
class Spread:
    """Range of the request's price across every source in force for the offer."""

    low: Decimal
    high: Decimal
    by_source: tuple[SourcePrice, ...]

    @property
    def sources(self) -> int:
        return len(self.by_source)


@dataclass(frozen=True)
class Quote:
    """The exact price of one request on one offer.

    Attributes
    ----------
    total : Decimal  [currency]
        Exact sum of ``line_items``; round only for display.
    total_high : Decimal or None  [currency]
        Upper end when the chosen source states a price range.
    spread : Spread
        Totals under every source in force (the chosen one included).
    seen, published : date, date or None
        When the figure was read from its source, and the date the source itself shows
        (``None``: the page is undated, so ``seen`` is not a date of the price).
    """

    request: ImageRequest
    offer_id: str
    provider: str
    model: str
    total: Decimal
    total_high: Decimal | None
    currency: str
    line_items: tuple[LineItem, ...]
    price_version: str
    effective_from: date
    effective_to: date | None
    source_id: str
    source_kind: str
    source_title: str
    seen: date
    as_of: date
    spread: Spread
    images: int
    notes: tuple[str, ...] = ()
    published: date | None = None

    @property
    def per_image(self) -> Decimal:
        """Total divided by every image priced [currency/image]."""
        return self.total / self.images

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly form; money as strings so no digit is lost."""
        return {
            "offer_id": self.offer_id,
            "provider": self.provider,
            "model": self.model,
            "request": self.request.model_dump(mode="json"),
            "total": str(self.total),
            "total_high": None if self.total_high is None else str(self.total_high),
            "per_image": str(self.per_image),
            "images": self.images,
            "currency": self.currency,
            "price_version": self.price_version,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": None if self.effective_to is None else self.effective_to.isoformat(),
            "source_id": self.source_id,
            "source_kind": self.source_kind,
            "source_title": self.source_title,
            "seen": self.seen.isoformat(),
            "published": None if self.published is None else self.published.isoformat(),
            "as_of": self.as_of.isoformat(),
            "line_items": [
                {
                    "description": i.description,
                    "quantity": str(i.quantity),
                    "unit": i.unit,
                    "unit_price": str(i.unit_price),
                    "amount": str(i.amount),
                }
                for i in self.line_items
            ],
            "spread": {
                "low": str(self.spread.low),
                "high": str(self.spread.high),
                "by_source": [
                    {
                        "source_id": s.source_id,
                        "source_kind": s.source_kind,
                        "version": s.version,
                        "total": str(s.total),
                        "total_high": None if s.total_high is None else str(s.total_high),
                    }
                    for s in self.spread.by_source
                ],
            },
            "notes": list(self.notes),
        }


def _resolve(offer: Offer | str, catalog: Catalog | None) -> tuple[Offer, Catalog]:
    cat = catalog if catalog is not None else load_catalog()
    if isinstance(offer, str):
        return cat.offer(offer), cat
    return offer, cat


def versions_in_force(offer: Offer, day: date, catalog: Catalog) -> list[PriceVersion]:
    """Versions in force on ``day``, preferred first (source precedence, then newest)."""
    return sorted((v for v in offer.versions if v.in_force(day)), key=catalog.precedence)


def quote(
    request: ImageRequest,
    offer: Offer | str,
    *,
    as_of: date | datetime | str | None = None,
    source: str | None = None,
    monthly_volume: int | None = None,
    committed: bool = False,
    catalog: Catalog | None = None,
) -> Quote:
    """Price ``request`` on ``offer`` exactly.

    Parameters
    ----------
    request : ImageRequest
    offer : Offer or str
        The offer or its id (``"bfl/flux-2-pro"``).
    as_of : date, aware datetime or ISO string
        Day whose prices apply; default the catalog's snapshot day, else today (UTC).
    source : str, optional
        Price by this source id instead of the highest-precedence source in force.
    monthly_volume : int, optional  [images]
        Images already billed on this offer this month, before this request; drives volume
        tiers, free allowances and subscription allowances. Default 0 (first of the month,
        so a subscription's monthly fee is charged).
    committed : bool
        Apply the version's committed-use discount, if it has one.

    Raises
    ------
    UnsupportedRequest
        The offer cannot serve the request (model, operation, size, quality, retired...).
    PriceNotFound
        No price applies on that day (never priced as zero).
    """
    return _quote(
        request,
        offer,
        as_of=as_of,
        source=source,
        prior=monthly_volume or 0,
        calls=1,
        committed=committed,
        catalog=catalog,
    )


def monthly_cost(
    request: ImageRequest,
    offer: Offer | str,
    *,
    requests: int,
    as_of: date | datetime | str | None = None,
    source: str | None = None,
    committed: bool = False,
    catalog: Catalog | None = None,
) -> Quote:
    """Price a month of ``requests`` identical requests, from the start of the month.

    Applies everything a single quote does, plus the version's minimum monthly spend as a
    top-up line item. ``requests`` [calls/month].
    """
    if requests < 1:
        raise PricingError(f"requests must be at least 1, got {requests}")
    return _quote(
        request,
        offer,
        as_of=as_of,
        source=source,
        prior=0,
        calls=requests,
        committed=committed,
        catalog=catalog,
        minimum_spend=True,
    )


def _quote(
    request: ImageRequest,
    offer: Offer | str,
    *,
    as_of: date | datetime | str | None,
    source: str | None,
    prior: int,
    calls: int,
    committed: bool,
    catalog: Catalog | None,
    minimum_spend: bool = False,
) -> Quote:
    off, cat = _resolve(offer, catalog)
    day = to_date(as_of) if as_of is not None else (cat.snapshot or to_date(None))
    if prior < 0:
        raise PricingError(f"monthly_volume cannot be negative, got {prior}")
    if off.model != request.model:
        raise UnsupportedRequest(f"{off.id} serves model {off.model!r}, not {request.model!r}")
    model = cat.models.get(off.model)
    if model is not None and model.retired is not None and day >= model.retired:
        raise UnsupportedRequest(
            f"model {model.id!r} was retired on {model.retired.isoformat()}; "
            f"as_of {day.isoformat()} is after that (pass an earlier as_of to price past usage)"
        )
    candidates = versions_in_force(off, day, cat)
    primary = _primary(off, day, candidates, source)
    price = partial(
        price_version, request, off, prior=prior, calls=calls, committed=committed,
        minimum_spend=minimum_spend,
    )  # fmt: skip
    priced = price(primary)
    by_source = _by_source(cat, primary, priced, candidates, price)
    totals = [s.total for s in by_source] + [s.total_high for s in by_source if s.total_high]
    src = cat.source(primary.source)
    return Quote(
        request=request,
        offer_id=off.id,
        provider=cat.provider_of(off),
        model=off.model,
        total=priced.total,
        total_high=priced.total_high,
        currency=primary.currency,
        line_items=priced.items,
        price_version=primary.version_id,
        effective_from=primary.effective_from,
        effective_to=primary.effective_to,
        source_id=primary.source,
        source_kind=src.kind,
        source_title=src.title,
        seen=src.seen,
        published=src.published,
        as_of=day,
        spread=Spread(min(totals), max(totals), tuple(by_source)),
        images=request.count * calls,
        notes=priced.notes,
    )


def _primary(
    off: Offer, day: date, candidates: list[PriceVersion], source: str | None
) -> PriceVersion:
    """The version a quote uses: the first in force (from ``source``, when given), or why none."""
    if not candidates:
        ends = [v.effective_to for v in off.versions]
        if all(e is not None and e <= day for e in ends):
            last = max(e for e in ends if e is not None)
            raise UnsupportedRequest(f"{off.id} was retired on {last.isoformat()}")
        periods = ", ".join(
            f"{v.effective_from} to {v.effective_to or 'now'}"
            for v in sorted(off.versions, key=lambda v: v.effective_from)
        )
        raise PriceNotFound(
            f"{off.id} has no price in force on {day.isoformat()}; its prices cover {periods}"
        )
    if source is None:
        return candidates[0]
    chosen = [v for v in candidates if v.source == source]
    if not chosen:
        known = ", ".join(sorted({v.source for v in candidates}))
        raise PriceNotFound(
            f"{off.id} has no price from source {source!r} on {day.isoformat()}; "
            f"sources in force: {known}"
        )
    return chosen[0]


def _by_source(
    cat: Catalog,
    primary: PriceVersion,
    priced: Priced,
    candidates: list[PriceVersion],
    price: Callable[[PriceVersion], Priced],
) -> list[SourcePrice]:
    """The primary version's price, then the first version of each other source in force in
    the same currency (one that cannot price the request is left out)."""
    by_source = [_source_price(cat, primary, priced.total, priced.total_high)]
    seen_sources = {primary.source}
    for v in candidates:
        if v.source in seen_sources or v.currency != primary.currency:
            continue
        seen_sources.add(v.source)
        try:
            alt = price(v)
        except (PriceNotFound, UnsupportedRequest):
            continue
        by_source.append(_source_price(cat, v, alt.total, alt.total_high))
    return by_source


def _source_price(
    cat: Catalog, v: PriceVersion, total: Decimal, high: Decimal | None
) -> SourcePrice:
    return SourcePrice(v.source, cat.source(v.source).kind, v.version_id, total, high)


COMPARE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "offer_id": pl.String,
    "provider": pl.String,
    "model": pl.String,
    "operation": pl.String,
    "per_image": QUOTE_MONEY,
    "total": QUOTE_MONEY,
    "total_high": QUOTE_MONEY,
    "currency": pl.String,
    "min_total": QUOTE_MONEY,
    "max_total": QUOTE_MONEY,
    "sources": pl.Int64,
    "source_id": pl.String,
    "source_kind": pl.String,
    "seen": pl.Date,
    "published": pl.Date,
    "price_version": pl.String,
    "reason": pl.String,
}


def compare(
    request: ImageRequest,
    catalog: Catalog | None = None,
    *,
    as_of: date | datetime | str | None = None,
    monthly_volume: int | None = None,
    include_unavailable: bool = False,
) -> pl.DataFrame:
    """Every offer that can serve ``request``, cheapest first.

    Columns: offer_id, provider, model, operation, per_image [currency/image], total
    [currency], total_high, currency, min_total / max_total (across sources in force),
    sources (how many), source_id, source_kind, seen, published (None: the source shows no
    date), price_version, reason.
    With ``include_unavailable=True`` offers of the model that cannot price the request are
    listed last with a null total and the ``reason`` (a missing price is never shown as 0).
    """
    cat = catalog if catalog is not None else load_catalog()
    if request.model not in cat.models:
        raise PricingError(unknown_model(request.model, cat.models))
    rows: list[dict[str, object]] = []
    for offer in cat.offers(model=request.model):
        try:
            q = quote(request, offer, as_of=as_of, monthly_volume=monthly_volume, catalog=cat)
        except (PriceNotFound, UnsupportedRequest) as exc:
            if include_unavailable:
                rows.append(_unavailable_row(cat, offer, request, str(exc)))
            continue
        rows.append(
            {
                "offer_id": q.offer_id,
                "provider": q.provider,
                "model": q.model,
                "operation": request.operation,
                "per_image": q.per_image,
                "total": q.total,
                "total_high": q.total_high,
                "currency": q.currency,
                "min_total": q.spread.low,
                "max_total": q.spread.high,
                "sources": q.spread.sources,
                "source_id": q.source_id,
                "source_kind": q.source_kind,
                "seen": q.seen,
                "published": q.published,
                "price_version": q.price_version,
                "reason": None,
            }
        )
    frame = pl.DataFrame(rows, schema=COMPARE_SCHEMA)
    return frame.sort(["total", "offer_id"], nulls_last=True)


def _unavailable_row(
    cat: Catalog, offer: Offer, request: ImageRequest, reason: str
) -> dict[str, object]:
    return {
        "offer_id": offer.id,
        "provider": cat.provider_of(offer),
        "model": offer.model,
        "operation": request.operation,
        "per_image": None,
        "total": None,
        "total_high": None,
        "currency": None,
        "min_total": None,
        "max_total": None,
        "sources": 0,
        "source_id": None,
        "source_kind": None,
        "seen": None,
        "published": None,
        "price_version": None,
        "reason": reason,
    }
