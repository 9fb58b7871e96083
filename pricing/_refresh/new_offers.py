"""Offers a refresh may create from the fal and OpenRouter APIs: which model an API id serves,
which id, operations and prices the new offer gets.

A refresh updates the offers whose ``name`` starts with an API id (:func:`offers_by_endpoint`).
An API record that no offer names becomes a *new* offer (see ``plan_fal`` and
``plan_openrouter`` in :mod:`pricing._refresh.additions`) when its id maps to a model of
``data/models.toml`` (:func:`model_for`):

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
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pricing._base.money import MILLION
from pricing._cards.loader import LoadedData
from pricing._cards.schema import (
    API_ID_PATTERN,
    OPERATIONS,
    SOURCE_PRECEDENCE,
    ImageModel,
    Offer,
    PriceVersion,
    RateCard,
    TokenPrice,
)
from pricing._refresh.http import RefreshError
from pricing._refresh.sources import OpenRouterModel, validation_reason

if TYPE_CHECKING:  # the plan imports this module; it is needed here for types only
    from pricing._refresh.additions import Additions, Context


#: An API id (``owner/name[/...]``, lowercase), as the ``api_ids`` of a model must be written.
API_ID = re.compile(API_ID_PATTERN)
_OFFER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*$")
#: fal endpoint ids a refresh asks fal to price when a model lists them in ``api_ids``.
FAL_PREFIX = "fal-ai/"
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
#: Last segments of fal endpoint ids that say which operation the endpoint serves.
_ENDPOINT_OPERATION = {
    **{op: op for op in OPERATIONS},
    "text-to-image": "generate",
    "image-to-image": "edit",
    "inpainting": "inpaint",
}


def offers_by_endpoint(card: RateCard | None) -> dict[str, Offer]:
    """Offers of a card keyed by the API model id at the start of their ``name``."""
    out: dict[str, Offer] = {}
    for o in card.offers if card else []:
        token = (o.name or "").split(" ", 1)[0]
        if API_ID.match(token):
            out.setdefault(token, o)
    return out


def fal_endpoints(data: LoadedData) -> list[str]:
    """The endpoint ids to ask fal for: names of the ``fal`` card's offers, and every
    ``api_ids`` entry of a model that starts with ``fal-ai/``."""
    named = set(offers_by_endpoint(data.cards.get("fal")))
    listed = {a for m in data.models.model for a in m.api_ids if a.startswith(FAL_PREFIX)}
    return sorted(named | listed)


def fix_hint(api_id: str) -> str:
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
        slug = re.sub(r"[^a-z0-9.]+", "-", candidate.lower()).strip("-.")[:100].strip("-.")
        offer_id = f"{provider}/{slug}"
        if _OFFER_ID.match(offer_id) and offer_id not in taken:
            return offer_id
    return None


def fal_operations(endpoint: str, model: ImageModel) -> list[str]:
    """The model's operations, or only the one the endpoint's last segment names
    (``.../edit``, ``.../text-to-image``) when the model has it."""
    named = _ENDPOINT_OPERATION.get(endpoint.rsplit("/", 1)[-1])
    return [named] if named in model.operations else list(model.operations)


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
        if v.in_force(day) and any(isinstance(c, TokenPrice) for c in v.components)
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


# --------------------------------------------------------------------------- fal


def create_fal(
    adds: Additions,
    ctx: Context,
    source: str,
    endpoint: str,
    model: ImageModel,
    version: dict[str, Any],
    taken: set[str],
) -> bool:
    """Add a new offer ``fal/<endpoint slug>`` priced by the raw ``version``; whether it was."""
    offer_id = new_offer_id("fal", [endpoint.removeprefix(FAL_PREFIX), endpoint], taken)
    if offer_id is None:
        adds.skip(source, endpoint, "its offer ids are taken; add the offer by hand")
        return False
    offer = build_offer(source, {
        "id": offer_id,
        "model": model.id,
        "name": endpoint,
        "operations": fal_operations(endpoint, model),
        "notes": f"Created by `pricing refresh` from fal's pricing API ({endpoint}); limits "
        "and input-image prices are not given by the API.",
        "versions": [version],
    })  # fmt: skip
    adds.add_offer(ctx, source, offer)
    taken.add(offer_id)
    return True


# --------------------------------------------------------------------------- OpenRouter


def create_openrouter(
    adds: Additions,
    ctx: Context,
    source: str,
    sid: str,
    record: OpenRouterModel,
    taken: set[str],
) -> None:
    """Add a new ``openrouter/<model id>`` offer for ``record``, or a skipped row saying why
    not. Prices are OpenRouter's (USD per token x 1M); output tokens per image, qualities and
    size brackets are copied from :func:`token_base`'s offer, named in the version's notes."""
    model = model_for(record.id, ctx.data, ctx.day)
    if isinstance(model, str):
        why = f"no offer in rate-cards/openrouter.toml has this name and {model}"
        adds.skip(source, record.id, why)
        return
    if not record.pricing.image_output:
        adds.skip(source, record.id, "no image_output price (missing or 0) to create an offer")
        return
    card = ctx.data.cards.get("openrouter")
    named = offers_by_endpoint(card).values()
    unnamed = [o.id for o in card.offers if o.model == model.id and o not in named] if card else []
    if unnamed:
        why = f"offer {unnamed[0]} serves {model.id!r} but its name is no API id"
        adds.skip(source, record.id, f'{why}; start its name with "{record.id}" to update it')
        return
    found = token_base(ctx.data, model.id, ctx.day)
    if found is None:
        adds.skip(
            source,
            record.id,
            f"no offer of model {model.id!r} has a token-priced version in force on {ctx.day} "
            "to copy its output tokens per image from; add one to the vendor's card first",
        )
        return
    base_offer, base = found
    operations = _openrouter_operations(record, base_offer, model)
    components = _openrouter_components(record, base, operations)
    offer_id = new_offer_id("openrouter", [model.id, record.id], taken)
    if not operations or not components or offer_id is None:
        why = "its offer ids are taken" if offer_id is None else "no operation it can serve"
        adds.skip(source, record.id, f"{why} (copying {base_offer.id}); add the offer by hand")
        return
    offer = build_offer(source, {
        "id": offer_id,
        "model": model.id,
        "name": record.id,
        "operations": operations,
        "brackets": [b.model_dump() for b in base_offer.brackets],
        "qualities": base_offer.qualities,
        "default_quality": base_offer.default_quality,
        "notes": f"Created by `pricing refresh` from OpenRouter's models API ({record.id}).",
        "versions": [{
            "effective_from": ctx.day,
            "source": sid,
            "currency": "USD",
            "components": components,
            "notes": "OpenRouter models API, USD per token x 1M (prompt -> text_input, image "
            "-> image_input, image_output); output tokens per image copied from offer "
            f"{base_offer.id} (version {base.version_id}).",
        }],
    })  # fmt: skip
    adds.add_offer(ctx, source, offer)
    taken.add(offer_id)


def _openrouter_operations(record: OpenRouterModel, base: Offer, model: ImageModel) -> list[str]:
    """The base offer's operations that OpenRouter can serve: ``generate``, and the others
    (which take an input image) when the model accepts images on OpenRouter."""
    takes_images = "image" in record.architecture.input_modalities
    return [
        op
        for op in base.operations
        if op in model.operations and (op == "generate" or takes_images)
    ]


def _openrouter_components(
    record: OpenRouterModel, base: PriceVersion, operations: list[str]
) -> list[dict[str, Any]]:
    """The base version's token components (those ``operations`` can use) at OpenRouter's
    prices: USD per token x 1M; a price OpenRouter does not give is left unset."""
    p = record.pricing
    out: list[dict[str, Any]] = []
    if p.image_output is None:
        return out
    for c in base.components:
        if not isinstance(c, TokenPrice):
            continue
        if c.when.operation is not None and c.when.operation not in operations:
            continue
        c = c.model_copy(
            update={
                "image_output": _per_million(p.image_output),
                "text_input": None if p.prompt is None else _per_million(p.prompt),
                "image_input": None if p.image is None else _per_million(p.image),
                "output_tokens_note": None,
            }
        )
        out.append(c.model_dump())
    return out


def _per_million(per_token: Decimal) -> Decimal:
    """USD per token -> USD per 1M tokens, without trailing zeros (``0.000042`` -> ``42``)."""
    value = per_token * MILLION
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
