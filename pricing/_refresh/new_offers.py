"""Offers a refresh may create from an API's records: which model an API id serves, which id
the new offer gets, and which card it goes into.

A refresh updates the offers whose ``name`` starts with an API id (:func:`offers_by_endpoint`).
An API record that no offer names becomes a *new* offer (see ``plan_fal`` in
:mod:`pricing._refresh.feeds.fal` and ``plan_openrouter`` in
:mod:`pricing._refresh.feeds.openrouter`) when its id maps to a model of ``data/models.toml``
(:func:`model_for`):

1. the model lists the id in ``api_ids`` (``api_ids = ["openai/gpt-image-1"]``);
2. failing that, the id's last path segment is a model id (``fal-ai/flux-2-pro`` ->
   ``flux-2-pro``), when exactly one model matches.

An id that maps to no model is skipped with a reason that names the ``api_ids`` line to add.
A new offer is named by its API id, so the next refresh updates it instead of creating it
again. Nothing here writes: the offers built here go through the same validation and atomic
writing as every other addition.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import ValidationError

from pricing._cards.components import TokenPrice
from pricing._cards.fields import API_ID_PATTERN
from pricing._cards.loader import LoadedData
from pricing._cards.schema import SOURCE_PRECEDENCE, ImageModel, Offer, PriceVersion, RateCard
from pricing._refresh.additions import (
    Additions,
    Context,
    describe_version,
    slug,
    validation_reason,
)
from pricing.errors import RefreshError

#: An API id (``owner/name[/...]``, lowercase), as the ``api_ids`` of a model must be written.
API_ID = re.compile(API_ID_PATTERN)
_OFFER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*$")
#: The card a new offer goes into when the data has none for its provider yet.
NEW_CARDS = {
    "openrouter": RateCard(
        provider="openrouter",
        name="OpenRouter",
        url="https://openrouter.ai/models",
        notes="Offers created by `pricing refresh` from OpenRouter's models API (USD per token "
        "x 1M); output tokens per image are copied from another offer of the same model.",
    ),
    "fal": RateCard(provider="fal", name="fal.ai", url="https://fal.ai/pricing"),
}


def offers_by_endpoint(card: RateCard | None) -> dict[str, Offer]:
    """Offers of a card keyed by the API model id at the start of their ``name``."""
    out: dict[str, Offer] = {}
    for o in card.offers if card else []:
        token = (o.name or "").split(" ", 1)[0]
        if API_ID.match(token):
            out.setdefault(token, o)
    return out


def fix_hint(api_id: str) -> str:
    """The ``api_ids`` line that maps ``api_id`` to a model."""
    return f'add api_ids = ["{api_id}"] to the model in data/models.toml'


def model_for(api_id: str, data: LoadedData, day: date) -> ImageModel | str:
    """The model an API id serves, or why there is none (with the fix, when there is one)."""
    if not API_ID.match(api_id):
        return "the id is not a lowercase owner/name path, so no model can list it in api_ids"
    listed = [m for m in data.models.model if api_id in m.api_ids]
    if len(listed) > 1:
        names = ", ".join(m.id for m in listed)
        return f"several models list this id in api_ids ({names}); keep it on one"
    last = api_id.rsplit("/", 1)[-1]
    matches = listed or [m for m in data.models.model if m.id == last]
    if len(matches) != 1:
        return f"no model in data/models.toml serves this id; {fix_hint(api_id)}"
    model = matches[0]
    if model.retired is not None and day >= model.retired:
        return f"model {model.id!r} was retired on {model.retired} (data/models.toml)"
    return model


def new_offer_id(provider: str, candidates: list[str], taken: set[str]) -> str | None:
    """The first ``<provider>/<candidate slug>`` that is a valid offer id and not taken."""
    for candidate in candidates:
        offer_id = f"{provider}/{slug(candidate)[:100].strip('-.')}"
        if _OFFER_ID.match(offer_id) and offer_id not in taken:
            return offer_id
    return None


def token_base(data: LoadedData, model_id: str, day: date) -> tuple[Offer, PriceVersion] | None:
    """The offer version of ``model_id`` whose output-token table a new token-priced offer
    copies: in force on ``day``, with a token component; highest source precedence
    (official first), then the latest start, then the offer id."""
    kinds = {s.id: s.kind for s in data.sources.source}
    found = [
        (SOURCE_PRECEDENCE.index(kinds[v.source]) if v.source in kinds else 9,
         -v.effective_from.toordinal(), o.id, o, v)
        for card in data.cards.values()
        for o in card.offers
        if o.model == model_id
        for v in o.versions
        if v.in_force(day) and v.components_of(TokenPrice)
    ]  # fmt: skip
    if not found:
        return None
    *_, offer, version = min(found, key=lambda f: f[:3])
    return offer, version


def offer_ids(data: LoadedData) -> set[str]:
    """Every offer id of the data (offer ids are unique across cards)."""
    return {o.id for card in data.cards.values() for o in card.offers}


def build_offer(source: str, raw: dict[str, Any]) -> Offer:
    """``raw`` (versions included) as an :class:`Offer`, or a :class:`RefreshError` naming
    the offer and the field."""
    try:
        return Offer.model_validate(raw)
    except ValidationError as exc:
        raise RefreshError(
            source, f"{raw.get('id')}: invalid new offer: {validation_reason(exc)}"
        ) from None


def add_new_offer(adds: Additions, ctx: Context, source: str, offer: Offer) -> None:
    """Add ``offer`` to the card named by its id's prefix (a new card from :data:`NEW_CARDS`
    when the data has none), with its "new offer" diff row."""
    provider = offer.id.split("/", 1)[0]
    if provider in ctx.data.cards:
        adds.offers.setdefault(provider, []).append(offer)
    else:
        card = adds.cards.get(provider) or NEW_CARDS[provider]
        adds.cards[provider] = card.model_copy(update={"offers": [*card.offers, offer]})
    adds.change(source, offer.id, "new offer", None, describe_version(offer.versions[0]), None)
