"""Rate-card registries: cards in this project's own format (TOML, or JSON of the same shape).

A registry's card is checked by the same :class:`~pricing.RateCard` model as local data; the
version each offer has in force on the fetch day becomes a new version dated that day (or a
new offer, or a new card), citing the registry's URL.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from pricing._cards.loader import problems_from_validation
from pricing._cards.schema import Offer, RateCard, SourceKind
from pricing._refresh.additions import (
    Additions,
    Context,
    describe_version,
    offer_update,
    revalidate,
    slug,
)
from pricing._refresh.feed import Feed, FeedFetch, body_json, body_text
from pricing._refresh.http import EnvAuth
from pricing.errors import RefreshError


def card_feed(
    url: str, kind: SourceKind = "third-party", auth: EnvAuth | None = None, name: str | None = None
) -> Feed:
    """A rate-card registry URL as a source (cited with ``kind``)."""
    where = url.split("://", 1)[-1].split("?", 1)[0]
    host = where.split("/", 1)[0]
    prefix = "cards-" + slug(where)[:50].strip("-.")
    return Feed(name or url, "cards", url, kind, f"Rate cards at {where}", host, prefix, auth)


def parse_cards(data: bytes, source: str) -> list[RateCard]:
    """Rate cards from a registry: one TOML card, or JSON of one card or a list of cards.

    Raises
    ------
    RefreshError
        Not UTF-8, not TOML/JSON, or a card the :class:`~pricing.RateCard` model rejects (the
        message locates the offer, version and field, as ``pricing cards validate`` does).
    """
    text = body_text(data, source, "the rate card")
    head = text.lstrip()[:1]
    raws: list[Any]
    if head in ("{", "["):
        doc = body_json(data, source, "the rate card")
        if isinstance(doc, dict) and isinstance(doc.get("cards"), list):
            raws = doc["cards"]
        else:
            raws = doc if isinstance(doc, list) else [doc]
    else:
        try:
            raws = [tomllib.loads(text, parse_float=Decimal)]
        except (tomllib.TOMLDecodeError, RecursionError) as exc:
            raise RefreshError(source, f"the rate card is not valid TOML ({exc})") from None
    if not raws:
        raise RefreshError(source, "the document holds no rate card")
    cards: list[RateCard] = []
    for i, raw in enumerate(raws):
        if not isinstance(raw, dict):
            raise RefreshError(source, f"card #{i + 1} is not a table/object of a rate card")
        try:
            cards.append(RateCard.model_validate(raw))
        except ValidationError as exc:
            problems = problems_from_validation(f"card #{i + 1}", raw, exc)
            shown = "; ".join(str(p) for p in problems[:3])
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise RefreshError(source, f"invalid rate card: {shown}{more}") from None
    providers = [c.provider for c in cards]
    if len(set(providers)) != len(providers):
        raise RefreshError(source, f"the document repeats a provider: {providers}")
    return cards


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
            new = revalidate(source, remote.id, raw)
            if remote.id in local_offers:
                offer_update(adds, ctx, source, kind, card.provider, local_offers[remote.id], new)
                continue
            new_offers.append(remote.model_copy(update={"versions": [new]}))
            adds.change(source, remote.id, "new offer", None, describe_version(new), None)
        if local is None and new_offers:
            adds.cards[card.provider] = card.model_copy(update={"offers": new_offers})
        elif new_offers:
            adds.offers[card.provider] = new_offers
    return adds


def run(feed: Feed, ctx: Context, sid: str, fetch: FeedFetch) -> Additions:
    """Fetch the registry, parse its cards and compare them with the data."""
    cards = parse_cards(fetch(feed.url).body, feed.name)
    return plan_cards(cards, ctx, feed.name, feed.url, feed.source_kind, sid)
