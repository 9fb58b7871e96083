"""Exact quotes for one request on one offer, and comparisons across every offer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial

from pricing._base.dates import to_date
from pricing._cards.catalog import Catalog, load_catalog
from pricing._cards.schema import Offer, PriceVersion
from pricing._evidence.flags import evidence_on
from pricing._evidence.grades import Evidence, TrustPolicy
from pricing._evidence.trust import narrowing_of
from pricing._price.line_items import Priced, price_version
from pricing._price.request import ImageRequest
from pricing._price.units import LineItem
from pricing.errors import PriceExcluded, PriceNotFound, PricingError, UnsupportedRequest


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

    Raises
    ------
    UnsupportedRequest
        The offer cannot serve the request (model, operation, size, quality, retired...).
    PriceExcluded
        The offer has prices in force, but the evidence policy excludes every one; the
        message gives each with its reason.
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
        evidence=evidence,
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
    evidence: TrustPolicy | str | None = None,
) -> Quote:
    """Price a month of ``requests`` identical requests, from the start of the month.

    Applies everything a single quote does (under the same ``evidence`` policy), plus the
    version's minimum monthly spend as a top-up line item. ``requests`` [calls/month].
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
        evidence=evidence,
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
    off, cat = _resolve(offer, catalog)
    policy = TrustPolicy.parse(evidence)
    day = to_date(as_of) if as_of is not None else (cat.snapshot or to_date(None))
    _check_request(request, off, cat, day, prior)
    in_force = versions_in_force(off, day, cat)
    if not in_force:
        _narrowed_out(cat, off, day)
    judged = _judgement_day(cat, day)
    grades = {(off.id, v.version_id): evidence_on(cat, off.id, v.version_id, judged)
              for v in in_force}  # fmt: skip
    candidates = _allowed(off, day, in_force, source, policy, grades)
    primary = _primary(off, day, candidates, source)
    price = partial(
        price_version, request, off, prior=prior, calls=calls, committed=committed,
        minimum_spend=minimum_spend,
    )  # fmt: skip
    priced = price(primary)
    by_source = _by_source(cat, primary, priced, candidates, price, grades, off.id)
    totals = [s.total for s in by_source] + [s.total_high for s in by_source if s.total_high]
    src = cat.source(primary.source)
    ev = grades[(off.id, primary.version_id)]
    notes = priced.notes + _named_source_note(policy, ev)
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


def _named_source_note(policy: TrustPolicy, ev: Evidence) -> tuple[str, ...]:
    """A note when a named source prices a quote although the policy excludes it."""
    if policy.allows(ev):
        return ()
    return (
        f"source {ev.source_id} was named, so it prices this request although the evidence "
        f"policy excludes it: {policy.why_not(ev)}",
    )


def _check_request(request: ImageRequest, off: Offer, cat: Catalog, day: date, prior: int) -> None:
    """Refuse a request the offer cannot take whatever its prices: another model, a retired
    model, a negative running volume."""
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


def _judgement_day(cat: Catalog, day: date) -> date:
    """The day a quote's evidence is judged on: its own day, or, on a catalog a trust policy
    narrowed, the day that policy judged (so the months of a plan are not judged again)."""
    narrowing = narrowing_of(cat)
    return day if narrowing is None else narrowing.day


def _narrowed_out(cat: Catalog, off: Offer, day: date) -> None:
    """Raise :class:`PriceExcluded` when ``cat`` was narrowed by a trust policy that took out
    every price of ``off`` in force on ``day``."""
    narrowing = narrowing_of(cat)
    if narrowing is None:
        return
    full = narrowing.full.offer(off.id)
    if any(v.in_force(day) for v in full.versions):
        raise PriceExcluded(
            f"{off.id} has no trusted price in force on {day.isoformat()}: "
            f"{narrowing.why_excluded(off.id)}"
        )


def _allowed(
    off: Offer,
    day: date,
    in_force: list[PriceVersion],
    source: str | None,
    policy: TrustPolicy,
    grades: dict[tuple[str, str], Evidence],
) -> list[PriceVersion]:
    """The versions in force that ``policy`` allows (a named ``source`` is kept whatever its
    grade); when it allows none of them, why, as :class:`PriceExcluded`."""
    allowed = [
        v for v in in_force
        if v.source == source or policy.allows(grades[(off.id, v.version_id)])
    ]  # fmt: skip
    if in_force and not allowed:
        why = "; ".join(
            f"{v.version_id} ({policy.why_not(grades[(off.id, v.version_id)])})" for v in in_force
        )
        raise PriceExcluded(
            f"{off.id}: no price in force on {day.isoformat()} passes the {policy.name} evidence "
            f"policy ({policy.describe()}). "
            f"Excluded: {why}. Pass evidence='all' (command line: --evidence all) to price it "
            "anyway as an unverified lead, or source=... to use one source"
        )
    return allowed


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
