"""Rate-card registries: cards in this project's own format (TOML, or JSON of the same shape).

A registry's card is checked by the same :class:`~pricing.RateCard` model as local data; the
version each offer has in force on the fetch day becomes a new version dated that day (or a
new offer, or a new card), citing the registry's URL.

A registry may write only the providers it is allowed to: by default the one its URL's file
names (``https://prices.example.com/cards/bfl.toml`` may set ``bfl``'s prices, not
``openai``'s), or those passed as ``providers`` (``--provider``); a card for any other
provider fails the pull with the reason. A version with a price of 0 is skipped with the
reason (a free tier is added by hand). Every string is made plain before it is used
(:mod:`pricing._refresh.text`), and the URL is recorded without credentials.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from pricing._base.urls import redact_url
from pricing._cards.loader import problems_from_validation
from pricing._cards.plausible import figures, oversized
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
from pricing._refresh.text import clean_doc
from pricing.errors import RefreshError

_PROVIDER = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
#: Why a registry's version with a price of 0 is not imported.
ZERO = (
    "a price of 0 is not imported (a free tier or a missing figure); add a free tier by hand, "
    "as a version whose every price is 0"
)


def card_feed(
    url: str,
    kind: SourceKind = "third-party",
    auth: EnvAuth | None = None,
    name: str | None = None,
    providers: Sequence[str] | None = None,
) -> Feed:
    """A rate-card registry URL as a source (cited with ``kind``).

    ``providers``: the providers whose cards it may write; default the one its URL's file
    names (``.../cards/bfl.toml`` may write ``bfl`` only, see :func:`url_provider`).
    """
    where = redact_url(url).split("://", 1)[-1].split("?", 1)[0]
    host = where.split("/", 1)[0]
    prefix = "cards-" + slug(where)[:50].strip("-.")
    named = url_provider(url)
    allowed = tuple(providers) if providers else ((named,) if named else ())
    return Feed(
        name or redact_url(url), "cards", url, kind, f"Rate cards at {where}", host, prefix, auth,
        providers=allowed,
    )  # fmt: skip


def url_provider(url: str) -> str | None:
    """The provider a registry URL's file names: its last path segment without ``.toml`` or
    ``.json`` (``https://x/cards/bfl.toml`` -> ``bfl``), when that is a provider id."""
    try:
        last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    except ValueError:
        return None
    stem = re.sub(r"\.(toml|json)$", "", last, flags=re.IGNORECASE).lower()
    return stem if _PROVIDER.match(stem) else None


def check_providers(cards: list[RateCard], feed: Feed) -> None:
    """Refuse a card for a provider the registry may not write, with the reason and fix."""
    for card in cards:
        if card.provider in feed.providers:
            continue
        allowed = (
            f"it may write {', '.join(feed.providers)} only"
            if feed.providers
            else "its URL names no provider file (like .../bfl.toml)"
        )
        raise RefreshError(
            feed.name,
            f"the registry holds a card for provider {card.provider!r}, and {allowed}: a "
            "registry may set only the prices of the providers it is allowed to (by default "
            "the one its URL names); refused. If this registry may set "
            f"{card.provider!r}'s prices, pull it with --provider {card.provider} "
            f"(providers=[{card.provider!r}])",
        )


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
            raws = [clean_doc(tomllib.loads(text, parse_float=Decimal))]
        except RecursionError:
            raise RefreshError(source, "the rate card is nested too deep to read") from None
        except tomllib.TOMLDecodeError as exc:
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
    for i, card in enumerate(cards):
        for field, value in oversized(card.model_dump()):
            raise RefreshError(
                source, f"card #{i + 1} ({card.provider}): `{field}` {value} is larger than any "
                "real figure",
            )  # fmt: skip
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
            if any(value == 0 for _, _, value in figures(picked)):
                adds.skip(source, remote.id, ZERO)
                continue
            note = f"Pulled from {redact_url(url)}; the registry's version {picked.version_id}."
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
    check_providers(cards, feed)
    return plan_cards(cards, ctx, feed.name, feed.url, feed.source_kind, sid)
