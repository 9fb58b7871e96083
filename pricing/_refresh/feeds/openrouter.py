"""OpenRouter's models API (``GET /api/v1/models``): token prices of image models.

OpenRouter quotes USD per token; cards hold USD per 1M tokens. A model updates the offer whose
``name`` is its OpenRouter id; an image model no offer names becomes a new offer when its id
maps to a model (:func:`pricing._refresh.new_offers.model_for`) and another offer of that model
has an output-token table to copy (:func:`pricing._refresh.new_offers.token_base`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, ValidationError, field_validator

from pricing._base.money import MILLION
from pricing._cards.components import TokenPrice
from pricing._cards.plausible import LARGEST
from pricing._cards.schema import SOURCE_PRECEDENCE, ImageModel, Offer, PriceVersion
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
    token_base,
)
from pricing.errors import RefreshError


class OpenRouterPricing(ApiRecord):
    """USD per token (``prompt``, ``completion``, ``image``, ``image_output``); -1 = variable."""

    prompt: Decimal | None = None
    completion: Decimal | None = None
    image: Decimal | None = None
    image_output: Decimal | None = None

    @field_validator("prompt", "completion", "image", "image_output")
    @classmethod
    def _price(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and (not value.is_finite() or (value < 0 and value != -1)):
            raise ValueError(f"price {value} is not a non-negative number (or -1 for variable)")
        if value is not None and value > LARGEST:
            raise ValueError(f"price {value:.3e} is larger than any real figure")
        return value

    @property
    def zeros(self) -> list[str]:
        """The prices given as 0 that a card would use (``prompt``, ``image``,
        ``image_output``): a free model or a missing figure, never written."""
        given = {"prompt": self.prompt, "image": self.image, "image_output": self.image_output}
        return [name for name, value in given.items() if value == 0]

    def zero_reason(self) -> str:
        return (
            f"price 0 for {', '.join(self.zeros)} is not recorded (a free model or a missing "
            "figure); add a free tier by hand"
        )

    @property
    def variable(self) -> bool:
        """OpenRouter's -1: the price depends on the model a router picks per request."""
        prices = (self.prompt, self.completion, self.image, self.image_output)
        return any(v is not None and v < 0 for v in prices)


class OpenRouterArchitecture(ApiRecord):
    input_modalities: list[str] = Field(default_factory=list)
    output_modalities: list[str] = Field(default_factory=list)


class OpenRouterModel(ApiRecord):
    id: str = Field(min_length=1, max_length=200)
    name: str | None = None
    architecture: OpenRouterArchitecture = Field(default_factory=OpenRouterArchitecture)
    pricing: OpenRouterPricing

    @property
    def makes_images(self) -> bool:
        return "image" in self.architecture.output_modalities


class OpenRouterModels(ApiRecord):
    data: list[OpenRouterModel]


def parse_openrouter(data: bytes, source: str) -> list[OpenRouterModel]:
    """Models of an OpenRouter ``/api/v1/models`` response (``{"data": [...]}``).

    Raises
    ------
    RefreshError
        Not JSON, no ``data`` list, a model without ``id`` or ``pricing``, or a price that is
        negative (other than OpenRouter's -1 for variable prices) or not a number.
    """
    doc = body_json(data, source, "the models response")
    if not isinstance(doc, dict):
        raise RefreshError(source, 'the models response is not a JSON object {"data": [...]}')
    try:
        return OpenRouterModels.model_validate(doc).data
    except ValidationError as exc:
        raise RefreshError(
            source, f"unexpected models response: {validation_reason(exc)}"
        ) from None


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
        if p.zeros:
            adds.skip(source, offer.id if offer else model.id, p.zero_reason())
            continue
        if offer is None:
            create_openrouter(adds, ctx, source, sid, model, taken)
            continue
        if p.image_output is None:
            adds.skip(source, offer.id, "no image_output price")
            continue
        bases = [v for v in offer.versions if v.in_force(ctx.day) and v.components_of(TokenPrice)]
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
        repriced = {
            id(c): c.model_copy(
                update={
                    "image_output": p.image_output * MILLION,
                    "text_input": c.text_input if p.prompt is None else p.prompt * MILLION,
                    "image_input": c.image_input if p.image is None else p.image * MILLION,
                }
            )
            for c in base.components_of(TokenPrice)
        }
        comps = [repriced.get(id(c), c).model_dump() for c in base.components]
        raw = base.model_dump()
        raw.update(
            effective_from=ctx.day,
            effective_to=None,
            source=sid,
            components=comps,
            notes="OpenRouter models API, USD per token x 1M (prompt -> text_input, image -> "
            f"image_input, image_output); output-token table kept from {base.version_id}.",
        )
        new = revalidate(source, offer.id, raw)
        offer_update(adds, ctx, source, "provider-reseller", "openrouter", offer, new)
    return adds


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
    add_new_offer(adds, ctx, source, offer)
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
    for c in base.components_of(TokenPrice):
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


def run(feed: Feed, ctx: Context, sid: str, fetch: FeedFetch) -> Additions:
    """Fetch the models, parse them and compare the image models' prices with the data."""
    return plan_openrouter(parse_openrouter(fetch(feed.url).body, feed.name), ctx, feed.name, sid)
