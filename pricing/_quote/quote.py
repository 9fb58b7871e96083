"""Exact quotes for one request on one offer, and comparisons across every offer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from pricing._base.dates import to_date
from pricing._cards.catalog import Catalog, load_catalog
from pricing._cards.schema import Offer, PriceVersion
from pricing._evidence.grades import Evidence, TrustPolicy
from pricing._price.bounds import CALLS, VOLUME, check_number
from pricing._price.line_items import Priced, price_version
from pricing._price.request import ImageRequest, check_numbers
from pricing._price.units import LineItem
from pricing._quote.choice import (
    check_request,
    choose_version,
    named_source_note,
    price_able,
    with_edit_input,
)
from pricing._quote.fx import FxInput, converter_for, times
from pricing.errors import PriceNotFound, PricingError, UnsupportedRequest

if TYPE_CHECKING:
    from pricing._fx.convert import Conversion


@dataclass(frozen=True)
class SourcePrice:
    """The request's price under one source's version in force."""

    source_id: str
    source_kind: str
    version: str
    total: Decimal
    total_high: Decimal | None
    grade: str = "official"


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
    currency : str
        ISO 4217 code of every amount: the price's own, or the one asked with ``currency=``.
    total_high : Decimal or None  [currency]
        Upper end when the chosen source states a price range.
    spread : Spread
        Totals under every source in force (the chosen one included).
    seen, published : date, date or None
        When the figure was read from its source, and the date the source itself shows
        (``None``: the page is undated, so ``seen`` is not a date of the price).
    grade : str
        Evidence grade of the chosen source: official, provider, third-party or claim.
    flags : tuple of str
        The chosen version's flags, each ``name: reason``.
    evidence : str
        The trust policy the quote was made under, in words.
    fx : Conversion or None
        With ``currency=`` another than the price's: how every amount was converted (rate
        [currency/list_currency], its day, source and kind; a day after the ECB data ends
        uses its latest rate as a stated planning rate). None: not converted.
    list_currency, list_total : str, Decimal or None  [list_currency]
        When converted: the price's own currency and the total in it, as the rate card lists
        it (``total = list_total x fx.rate`` exactly).
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
    grade: str = "official"
    flags: tuple[str, ...] = ()
    evidence: str = ""
    fx: Conversion | None = None
    list_currency: str | None = None
    list_total: Decimal | None = None

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
            "grade": self.grade,
            "flags": list(self.flags),
            "evidence": self.evidence,
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
                        "grade": s.grade,
                        "version": s.version,
                        "total": str(s.total),
                        "total_high": None if s.total_high is None else str(s.total_high),
                    }
                    for s in self.spread.by_source
                ],
            },
            "notes": list(self.notes),
            "list_currency": self.list_currency,
            "list_total": None if self.list_total is None else str(self.list_total),
            "fx": None if self.fx is None else self.fx.as_dict(),
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
    evidence: TrustPolicy | str | None = None,
    currency: str | None = None,
    fx: FxInput = None,
    max_fx_age_days: int = 7,
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
    evidence : TrustPolicy or str, optional
        Which prices may answer (default: official, provider and third-party prices with no
        excluding flag; ``"all"`` lets claims and flagged prices in). A named ``source`` is
        used whatever its grade; the quote still carries its grade and flags.
    currency : str, optional
        ISO 4217 code to answer in, e.g. ``"EUR"``: every amount is converted exactly at the
        ECB reference rate of ``as_of`` (a weekend or holiday takes the last business day's;
        a day after the data ends takes its latest rate as a planning rate, and says so);
        ``Quote.fx`` states the rate, its day and source. Default: the price's own currency.
    fx : DataFrame, list or dict of your rates, or Converter, optional
        The rates to convert with (default: the catalog's ``data/fx``); your rates, e.g.
        ``["EURUSD=1.08"]`` (1 EUR = 1.08 USD), replace the ECB's on every day.
    max_fx_age_days : int  [days]
        Oldest ECB rate accepted for ``as_of`` within the data.

    Raises
    ------
    UnsupportedRequest
        The offer cannot serve the request (model, operation, size, quality, retired...).
    PriceExcluded
        The offer has prices in force, but the evidence policy excludes every one; the
        message gives each with its reason.
    PriceNotFound
        No price applies on that day (never priced as zero).
    FxError
        A bad currency code or rate of yours, or no exchange rate for ``as_of``.
    """
    listed = _quote(
        request,
        offer,
        as_of=as_of,
        source=source,
        prior=monthly_volume or 0,
        calls=1,
        committed=committed,
        catalog=catalog,
        evidence=evidence,
    )
    return in_currency(listed, currency, fx, max_fx_age_days, catalog)


def monthly_cost(
    request: ImageRequest,
    offer: Offer | str,
    *,
    requests: int,
    as_of: date | datetime | str | None = None,
    source: str | None = None,
    committed: bool = False,
    catalog: Catalog | None = None,
    evidence: TrustPolicy | str | None = None,
    currency: str | None = None,
    fx: FxInput = None,
    max_fx_age_days: int = 7,
) -> Quote:
    """Price a month of ``requests`` identical requests, from the start of the month.

    Applies everything a single quote does (under the same ``evidence`` policy, and in the
    same ``currency``), plus the version's minimum monthly spend as a top-up line item.
    ``requests`` [calls/month].
    """
    if isinstance(requests, int | float) and not isinstance(requests, bool) and requests < 1:
        raise PricingError(f"requests must be at least 1, got {requests}")
    check_number("requests", requests, CALLS)
    requests = int(requests)  # a whole number, perhaps numpy's or 2.0
    check_number("images (count x requests)", request.count * requests, VOLUME)
    listed = _quote(
        request,
        offer,
        as_of=as_of,
        source=source,
        prior=0,
        calls=requests,
        committed=committed,
        catalog=catalog,
        minimum_spend=True,
        evidence=evidence,
    )
    return in_currency(listed, currency, fx, max_fx_age_days, catalog)


def in_currency(
    q: Quote,
    currency: str | None,
    fx: FxInput,
    max_fx_age_days: int,
    catalog: Catalog | None = None,
) -> Quote:
    """``q`` with every amount in ``currency`` at the rate of its ``as_of`` day (a planning
    rate after the ECB data ends), exactly; ``q`` itself when it is in that currency already.

    The rates are ``fx``'s, else those of the catalog's data directory (see
    :mod:`pricing._quote.fx`). The conversion goes in ``Quote.fx``; the price's own currency
    and total stay in ``list_currency`` and ``list_total``.
    """
    root: Path | None = None if catalog is None else catalog.root
    converter = converter_for(currency, fx, max_fx_age_days, root=root, planning=True)
    if converter is None:
        return q
    c = converter.convert(q.currency, q.as_of)
    if c.kind == "same":
        return q
    rate = c.rate

    def high(value: Decimal | None) -> Decimal | None:
        return None if value is None else times(value, rate)

    items = tuple(
        replace(i, unit_price=times(i.unit_price, rate), amount=times(i.amount, rate))
        for i in q.line_items
    )
    by_source = tuple(
        replace(s, total=times(s.total, rate), total_high=high(s.total_high))
        for s in q.spread.by_source
    )
    return replace(
        q,
        total=times(q.total, rate),
        total_high=high(q.total_high),
        currency=c.to_currency,
        line_items=items,
        spread=Spread(times(q.spread.low, rate), times(q.spread.high, rate), by_source),
        fx=c,
        list_currency=q.currency,
        list_total=q.total,
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
    evidence: TrustPolicy | str | None = None,
) -> Quote:
    check_numbers(request)
    check_number("monthly_volume", prior, VOLUME)
    prior = int(prior)
    off, cat = _resolve(offer, catalog)
    policy = TrustPolicy.parse(evidence)
    request, said = with_edit_input(request)
    day = to_date(as_of) if as_of is not None else (cat.snapshot or to_date(None))
    check_request(request, off, cat, day, prior)
    first, candidates, grades = choose_version(off, cat, day, source, policy)
    price = partial(
        price_version, request, off, prior=prior, calls=calls, committed=committed,
        minimum_spend=minimum_spend,
    )  # fmt: skip
    primary, priced, moved = price_able(request, off, first, candidates, source, price)
    by_source = _by_source(cat, primary, priced, candidates, price, grades, off.id)
    totals = [s.total for s in by_source] + [s.total_high for s in by_source if s.total_high]
    src = cat.source(primary.source)
    ev = grades[(off.id, primary.version_id)]
    notes = said + moved + priced.notes + named_source_note(policy, ev)
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
        notes=notes,
        grade=ev.grade,
        flags=tuple(str(f) for f in ev.flags),
        evidence=policy.describe(),
    )


def _by_source(
    cat: Catalog,
    primary: PriceVersion,
    priced: Priced,
    candidates: list[PriceVersion],
    price: Callable[[PriceVersion], Priced],
    grades: dict[tuple[str, str], Evidence],
    offer_id: str,
) -> list[SourcePrice]:
    """The primary version's price, then the first version of each other allowed source in
    force in the same currency (one that cannot price the request is left out)."""

    def grade(v: PriceVersion) -> str:
        return grades[(offer_id, v.version_id)].grade

    by_source = [_source_price(cat, primary, priced.total, priced.total_high, grade(primary))]
    seen_sources = {primary.source}
    for v in candidates:
        if v.source in seen_sources or v.currency != primary.currency:
            continue
        seen_sources.add(v.source)
        try:
            alt = price(v)
        except (PriceNotFound, UnsupportedRequest):
            continue
        by_source.append(_source_price(cat, v, alt.total, alt.total_high, grade(v)))
    return by_source


def _source_price(
    cat: Catalog, v: PriceVersion, total: Decimal, high: Decimal | None, grade: str
) -> SourcePrice:
    return SourcePrice(v.source, cat.source(v.source).kind, v.version_id, total, high, grade)
