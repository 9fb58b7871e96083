"""fal's pricing API (``GET /v1/models/pricing``): prices per image or per megapixel.

fal prices the endpoints it is asked for: the ``fal`` card's offers named by an endpoint id,
and the ``fal-ai/`` ids in the models' ``api_ids``. A price updates the offer whose ``name`` is
its endpoint id; an endpoint no offer names becomes a new offer ``fal/<endpoint slug>`` when the
id maps to a model (:func:`pricing._refresh.new_offers.model_for`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from pydantic import Field, ValidationError

from pricing._cards.fields import OPERATIONS, Currency
from pricing._cards.loader import LoadedData
from pricing._cards.plausible import LARGEST
from pricing._cards.schema import ImageModel
from pricing._refresh.additions import (
    Additions,
    Context,
    offer_update,
    revalidate,
    validation_reason,
)
from pricing._refresh.feed import ApiRecord, Feed, FeedFetch, body_json
from pricing._refresh.new_offers import (
    add_new_offer,
    build_offer,
    model_for,
    new_offer_id,
    offer_ids,
    offers_by_endpoint,
)
from pricing.errors import RefreshError

#: fal endpoint ids a refresh asks fal to price when a model lists them in ``api_ids``.
FAL_PREFIX = "fal-ai/"
_FAL_CHUNK = 50  # endpoint ids per request
_MAX_PAGES = 20  # cursor pages followed per request
#: Last segments of fal endpoint ids that say which operation the endpoint serves.
_ENDPOINT_OPERATION = {
    **{op: op for op in OPERATIONS},
    "text-to-image": "generate",
    "image-to-image": "edit",
    "inpainting": "inpaint",
}


class FalPrice(ApiRecord):
    """One endpoint's price: ``unit_price`` [currency per ``unit``]."""

    endpoint_id: str = Field(min_length=1, max_length=200)
    unit_price: Decimal = Field(ge=0, le=LARGEST, allow_inf_nan=False)
    unit: str = Field(min_length=1)
    currency: Currency


class FalPricing(ApiRecord):
    prices: list[FalPrice]
    next_cursor: str | None = None
    has_more: bool = False


def parse_fal(data: bytes, source: str) -> FalPricing:
    """One page of fal's ``/v1/models/pricing`` response.

    Raises
    ------
    RefreshError
        Not JSON, no ``prices`` list, or a price without endpoint, unit, currency, or with a
        negative or non-numeric ``unit_price``.
    """
    doc = body_json(data, source, "the pricing response")
    if not isinstance(doc, dict):
        raise RefreshError(source, 'the pricing response is not a JSON object {"prices": [...]}')
    try:
        return FalPricing.model_validate(doc)
    except ValidationError as exc:
        raise RefreshError(
            source, f"unexpected pricing response: {validation_reason(exc)}"
        ) from None


def fal_endpoints(data: LoadedData) -> list[str]:
    """The endpoint ids to ask fal for: names of the ``fal`` card's offers, and every
    ``api_ids`` entry of a model that starts with ``fal-ai/``."""
    named = set(offers_by_endpoint(data.cards.get("fal")))
    listed = {a for m in data.models.model for a in m.api_ids if a.startswith(FAL_PREFIX)}
    return sorted(named | listed)


def fal_operations(endpoint: str, model: ImageModel) -> list[str]:
    """The model's operations, or only the one the endpoint's last segment names
    (``.../edit``, ``.../text-to-image``) when the model has it."""
    named = _ENDPOINT_OPERATION.get(endpoint.rsplit("/", 1)[-1])
    return [named] if named in model.operations else list(model.operations)


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
    its operations are the model's (:func:`fal_operations`).
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
                new = revalidate(source, offer.id, raw)
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
    add_new_offer(adds, ctx, source, offer)
    taken.add(offer_id)
    return True


def run(feed: Feed, ctx: Context, sid: str, fetch: FeedFetch) -> Additions:
    """fal prices the endpoints it is asked for: the ``fal`` card's offer names, and the
    ``fal-ai/`` ids of the models' ``api_ids``."""
    endpoints = fal_endpoints(ctx.data)
    if not endpoints:
        raise RefreshError(
            feed.name,
            "no offer in rate-cards/fal.toml is named by a fal endpoint id, and no model lists "
            "a fal-ai/ endpoint in api_ids: nothing to price",
        )
    pages: list[FalPricing] = []
    for i in range(0, len(endpoints), _FAL_CHUNK):
        query = urlencode([("endpoint_id", e) for e in endpoints[i : i + _FAL_CHUNK]])
        url = f"{feed.url}?{query}"
        for _ in range(_MAX_PAGES):
            page = parse_fal(fetch(url).body, feed.name)
            pages.append(page)
            if not (page.has_more and page.next_cursor):
                break
            url = f"{feed.url}?{query}&{urlencode({'cursor': page.next_cursor})}"
    return plan_fal(pages, ctx, feed.name, sid)
