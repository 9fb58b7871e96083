"""What a refresh adds: parsed records compared with the data, as new dated entries.

Nothing here writes. Each ``plan_*`` function turns one source's parsed records into
:class:`Additions` (new price versions, offers, GPU offers, FX rows) plus the diff rows that
explain them. History is never edited: a changed price becomes a *new* entry dated the fetch
day and citing a new source whose URL is the one fetched.

When is a price "unchanged"? A rate-card price is unchanged when a version in force on the fetch
day, from a source of the same or higher precedence (official > provider-reseller >
third-party > seed), already has the same components. A GPU price is unchanged when the latest
entry with the same id (provider/sku-category-region, plus a ``.YYYY-MM-DD`` tag on later
figures) has the same price. An FX rate is unchanged when the same day and currency already has
it; a different rate for a day already recorded is a conflict, reported and not written.

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

from pricing._base.money import MILLION
from pricing._cards.catalog import describe_component
from pricing._cards.loader import LoadedData
from pricing._cards.schema import (
    SOURCE_PRECEDENCE,
    ImagePrice,
    Offer,
    PriceVersion,
    RateCard,
    SourceKind,
    TokenPrice,
)
from pricing._gpus.gpus import GpuData, GpuOffer
from pricing._refresh.http import RefreshError
from pricing._refresh.new_offers import (
    NEW_CARDS,
    create_fal,
    create_openrouter,
    model_for,
    offer_ids,
    offers_by_endpoint,
)
from pricing._refresh.sources import (
    FalPrice,
    FalPricing,
    OpenRouterModel,
    validation_reason,
)


@dataclass(frozen=True)
class Context:
    """The data a refresh compares against, and the fetch time (UTC, aware)."""

    data: LoadedData
    gpus: GpuData
    fx: pl.DataFrame
    fetched_at: datetime

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

    def add_offer(self, ctx: Context, source: str, offer: Offer) -> None:
        """A new offer of the card named by its id's prefix (a new card when the data has
        none: :data:`pricing._refresh.new_offers.NEW_CARDS`), and its "new offer" diff row."""
        provider = offer.id.split("/", 1)[0]
        if provider in ctx.data.cards:
            self.offers.setdefault(provider, []).append(offer)
        else:
            card = self.cards.get(provider) or NEW_CARDS[provider]
            self.cards[provider] = card.model_copy(update={"offers": [*card.offers, offer]})
        self.change(source, offer.id, "new offer", None, _describe(offer.versions[0]), None)


def _pct(old: Decimal | None, new: Decimal | None) -> float | None:
    if old is None or new is None or old == 0:
        return None
    return float((new - old) / old * 100)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")


# --------------------------------------------------------------------------- rate cards


def _content(v: PriceVersion) -> dict[str, Any]:
    return v.model_dump(exclude={"effective_from", "effective_to", "source", "notes"})


def _headline(v: PriceVersion) -> tuple[str, Decimal | None]:
    """(unit, main price) of a version's first component, for the % change of the diff."""
    c = v.components[0]
    value = None
    for name in ("image_output", "monthly_fee", "first", "price"):
        value = getattr(c, name, None)
        if value is not None:
            break
    if isinstance(c, ImagePrice) and c.tiers:
        value = c.tiers[0].price
    if c.unit == "credit" and v.credit_value is not None:
        value = getattr(c, "credits", Decimal(0)) * v.credit_value
    return f"{c.unit}/{v.currency}", value


def _describe(v: PriceVersion) -> str:
    return "; ".join(describe_component(c, v) for c in v.components)


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
    old_unit, old_value = _headline(best) if best else ("", None)
    new_unit, new_value = _headline(new)
    adds.change(
        source,
        offer.id,
        f"price version from {new.effective_from}",
        None if best is None else f"{_describe(best)} ({best.version_id})",
        _describe(new),
        _pct(old_value, new_value) if old_unit == new_unit else None,
    )


def _revalidate(source: str, item: str, raw: dict[str, Any]) -> PriceVersion:
    try:
        return PriceVersion.model_validate(raw)
    except ValidationError as exc:
        raise RefreshError(
            source, f"{item}: invalid price version: {validation_reason(exc)}"
        ) from None


def plan_cards(
    cards: list[RateCard], ctx: Context, source: str, url: str, kind: SourceKind, sid: str
) -> Additions:
    """New versions and offers from a registry's cards (the version each card has in force)."""
    adds = Additions()
    for card in cards:
        local = ctx.data.cards.get(card.provider)
        local_offers = {o.id: o for o in local.offers} if local else {}
        new_offers: list[Offer] = []
        for remote in card.offers:
            current = [v for v in remote.versions if v.in_force(ctx.day)]
            if not current:
                adds.skip(source, remote.id, f"no price version in force on {ctx.day}")
                continue
            picked = max(current, key=lambda v: v.effective_from)
            note = f"Pulled from {url}; the registry's version {picked.version_id}."
            raw = picked.model_dump()
            raw.update(
                effective_from=ctx.day,
                source=sid,
                notes=f"{note} {picked.notes}" if picked.notes else note,
                effective_to=picked.effective_to
                if picked.effective_to and picked.effective_to > ctx.day
                else None,
            )
            new = _revalidate(source, remote.id, raw)
            if remote.id in local_offers:
                offer_update(adds, ctx, source, kind, card.provider, local_offers[remote.id], new)
                continue
            new_offers.append(remote.model_copy(update={"versions": [new]}))
            adds.change(source, remote.id, "new offer", None, _describe(new), None)
        if local is None and new_offers:
            adds.cards[card.provider] = card.model_copy(update={"offers": new_offers})
        elif new_offers:
            adds.offers[card.provider] = new_offers
    return adds


# --------------------------------------------------------------------------- fal, OpenRouter


def _fal_version(price: FalPrice, day: date, sid: str) -> dict[str, Any] | str:
    """A fal price as a raw price version (per image or per MP), or why it cannot be one."""
    unit = price.unit.lower()
    if unit in ("image", "images"):
        comp = {"unit": "image", "price": price.unit_price}
    elif unit in ("megapixel", "megapixels", "mp"):
        comp = {"unit": "megapixel", "price": price.unit_price}
    else:
        return f"unit {price.unit!r} is not per image or per megapixel"
    if price.unit_price == 0:
        return "price 0 is not recorded (check a free endpoint by hand)"
    note = f"fal pricing API: {price.unit_price} {price.currency} per {price.unit}."
    if comp["unit"] == "megapixel":
        note += " Rounding and the megapixel size are not given by the API (exact assumed)."
    return {
        "effective_from": day,
        "source": sid,
        "currency": price.currency,
        "components": [comp],
        "notes": note,
    }


def plan_fal(pages: list[FalPricing], ctx: Context, source: str, sid: str) -> Additions:
    """New versions of ``fal`` offers, matched by name = endpoint id; per image or per MP.

    An endpoint no offer names becomes a new offer ``fal/<endpoint slug>`` named by the
    endpoint id, when the id maps to a model (:func:`pricing._refresh.new_offers.model_for`);
    its operations are the model's (:func:`~pricing._refresh.new_offers.fal_operations`).
    """
    adds = Additions()
    offers = offers_by_endpoint(ctx.data.cards.get("fal"))
    taken = offer_ids(ctx.data)
    created: set[str] = set()
    for price in (p for page in pages for p in page.prices):
        endpoint = price.endpoint_id
        offer = offers.get(endpoint)
        raw = _fal_version(price, ctx.day, sid)
        if offer is not None:
            if isinstance(raw, str):
                adds.skip(source, offer.id, raw)
            else:
                new = _revalidate(source, offer.id, raw)
                offer_update(adds, ctx, source, "official", "fal", offer, new)
            continue
        model = model_for(endpoint, ctx.data, ctx.day)
        if isinstance(model, str):
            adds.skip(
                source, endpoint, f"no offer in rate-cards/fal.toml has this name and {model}"
            )
        elif endpoint in created:
            adds.skip(source, endpoint, "listed twice; the first price was used")
        elif isinstance(raw, str):
            adds.skip(source, endpoint, raw)
        elif create_fal(adds, ctx, source, endpoint, model, raw, taken):
            created.add(endpoint)
    return adds


def plan_openrouter(
    models: list[OpenRouterModel], ctx: Context, source: str, sid: str
) -> Additions:
    """New token prices of ``openrouter`` offers (matched by name = model id).

    OpenRouter quotes USD per token; cards hold USD per 1M tokens. ``image_output`` becomes
    the token component's ``image_output``, ``prompt`` its ``text_input`` and ``image`` its
    ``image_input``; the output-token table is kept from the version in force.

    An image model no offer names becomes a new offer ``openrouter/<model id>`` named by the
    OpenRouter id, when the id maps to a model (:func:`pricing._refresh.new_offers.model_for`) and
    an offer of that model has a token-priced version in force to copy the output-token table
    from (:func:`~pricing._refresh.new_offers.token_base`: official sources first).
    """
    adds = Additions()
    offers = offers_by_endpoint(ctx.data.cards.get("openrouter"))
    sources = {s.id: s for s in ctx.data.sources.source}
    taken = offer_ids(ctx.data)
    for model in (m for m in models if m.makes_images):
        offer = offers.get(model.id)
        p = model.pricing
        if p.variable:
            adds.skip(source, model.id, "price is -1 (varies with the model a router picks)")
            continue
        if offer is None:
            create_openrouter(adds, ctx, source, sid, model, taken)
            continue
        if p.image_output is None:
            adds.skip(source, offer.id, "no image_output price")
            continue
        bases = [
            v
            for v in offer.versions
            if v.in_force(ctx.day) and any(isinstance(c, TokenPrice) for c in v.components)
        ]
        if not bases:
            adds.skip(source, offer.id, "no token-priced version in force to update")
            continue
        base = min(
            bases,
            key=lambda v: (
                SOURCE_PRECEDENCE.index(sources[v.source].kind) if v.source in sources else 9,
                -v.effective_from.toordinal(),
            ),
        )
        comps = []
        for c in base.components:
            if isinstance(c, TokenPrice):
                c = c.model_copy(
                    update={
                        "image_output": p.image_output * MILLION,
                        "text_input": c.text_input if p.prompt is None else p.prompt * MILLION,
                        "image_input": c.image_input if p.image is None else p.image * MILLION,
                    }
                )
            comps.append(c.model_dump())
        raw = base.model_dump()
        raw.update(
            effective_from=ctx.day,
            effective_to=None,
            source=sid,
            components=comps,
            notes="OpenRouter models API, USD per token x 1M (prompt -> text_input, image -> "
            f"image_input, image_output); output-token table kept from {base.version_id}.",
        )
        new = _revalidate(source, offer.id, raw)
        offer_update(adds, ctx, source, "provider-reseller", "openrouter", offer, new)
    return adds
