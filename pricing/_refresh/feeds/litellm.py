"""LiteLLM's price map (``model_prices_and_context_window.json``): third-party image prices.

The map is community-maintained (BerriAI, MIT) and undated: its figures cite a ``third-party``
source (``litellm-<day>``; ``litellm-<version>-<day>`` for an installed package's copy), so an
official version in force keeps answering quotes (see ``offer_update``). Only image entries are
read (unknown fields ignored, a bad value a :class:`~pricing.errors.RefreshError` naming the
key); those of one provider and model part (:func:`pricing._cards.coverage.split_key`) make
one :class:`LiteLLMModel`, in USD:

- ``output_cost_per_image`` per image. Older entries give a generated image's price as
  ``input_cost_per_image`` when nothing else prices the output (LiteLLM's image cost
  calculator reads them so); otherwise ``input_cost_per_image`` is per input image.
- ``output_cost_per_pixel`` (else ``input_cost_per_pixel``, again the generated pixels): per
  MP, x 1,000,000 or x 1,048,576 px, whichever gives the shorter figure; on a key naming a
  size, x width x height per image, to 6 significant digits.
- A key's size and quality (``high/1024-x-1024/...``), and ``output_cost_per_image_<1K|2K|
  0.5K|512...>`` (a size bracket, ``<n>K`` = longest side n x 1,024 px): per image ``when``
  those hold; steps (``50-steps``) only when one step count is priced for the size. A flat
  price beside them is LiteLLM's fallback, left out unless every keyed price equals it.
- ``output_cost_per_image_token``, ``input_cost_per_image_token``, ``input_cost_per_token``:
  per token x 1M; the output tokens per image are copied from a token-priced offer.

A model is imported only when ``data/models.toml`` lists its id in ``api_ids``
(:func:`~pricing._cards.coverage.match_model`), else skipped with the line to add. It updates
the provider's offer named by that id or its one offer of the model (``match_offer``), else
becomes a new offer, in the form (tokens, per MP, per image by size, flat) that offer uses
when the map has it. A version with an implausible figure (:mod:`pricing._cards.plausible`)
is skipped with the reason; one already in force (components in any order) is unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from pricing._base.money import MILLION
from pricing._cards.components import ImagePrice, MegapixelPrice, TokenPrice
from pricing._cards.coverage import (
    LiteLLMKey,
    api_id,
    match_model,
    match_offer,
    our_provider,
    split_key,
)
from pricing._cards.plausible import LARGEST, is_free, price_issues
from pricing._cards.schema import ImageModel, Offer, PriceVersion
from pricing._refresh.additions import Additions, Context, offer_update, validation_reason
from pricing._refresh.feed import ApiRecord, Feed, FeedFetch, body_json
from pricing._refresh.feeds.fal import fal_operations
from pricing._refresh.new_offers import (
    NEW_CARDS,
    add_new_offer,
    new_offer_id,
    offer_ids,
    token_base,
)
from pricing._refresh.text import clean_text
from pricing.errors import RefreshError

LITELLM_URL = (
    "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
)
IMAGE_MODES = ("image_generation", "image_edit")
_TIER = re.compile(r"^output_cost_per_image_([0-9]+(?:\.[0-9]+)?K|[1-9][0-9]*)$")
_DIGITS = 6  # significant digits of a per-pixel price x width x height
_ENDPOINTS = {"/v1/images/generations": "generate", "/v1/images/edits": "edit"}
_QUALITIES = ("low", "standard", "medium", "hd", "high", "xhigh", "max", "auto")
Form = Literal["sized", "pixel", "flat", "tokens"]
Cost = Annotated[Decimal, Field(ge=0, le=LARGEST, allow_inf_nan=False)]


class LiteLLMEntry(ApiRecord):
    """One image entry of the map [USD per the field's unit]; other fields are ignored.
    :meth:`per_image` and :meth:`per_pixel` are the generated image's and pixel's prices
    (None when not given, or 0), ``legacy``: ``input_cost_per_image`` is one (see the module).
    """

    litellm_provider: str = Field(min_length=1, max_length=80)
    mode: Literal["image_generation", "image_edit"]
    output_cost_per_image: Cost | None = None
    input_cost_per_image: Cost | None = None
    output_cost_per_pixel: Cost | None = None
    input_cost_per_pixel: Cost | None = None
    output_cost_per_image_token: Cost | None = None
    input_cost_per_image_token: Cost | None = None
    input_cost_per_token: Cost | None = None
    deprecation_date: date | None = None
    supported_endpoints: list[str] = Field(default_factory=list)
    #: ``output_cost_per_image_<bracket>`` fields, by bracket name (``1K``, ``512``).
    resolutions: dict[str, Cost] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _brackets(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            tiers = {m.group(1): v for k, v in raw.items() if (m := _TIER.match(str(k)))}
            raw = {**raw, "resolutions": tiers}
        return raw

    @property
    def legacy(self) -> bool:
        output = self.output_cost_per_image_token or self.resolutions
        return self.output_cost_per_image is None and not output

    def per_image(self) -> Decimal | None:
        legacy = self.input_cost_per_image if self.legacy else None
        return self.output_cost_per_image or legacy or None

    def per_pixel(self) -> Decimal | None:
        return self.output_cost_per_pixel or self.input_cost_per_pixel or None

    def operations(self) -> set[str]:
        ops = {_ENDPOINTS[e] for e in self.supported_endpoints if e in _ENDPOINTS}
        return ops or {"edit" if self.mode == "image_edit" else "generate"}


@dataclass(frozen=True)
class Figure:
    """One price of a generated image [USD/image], the key it came from and what it is for."""

    key: str
    price: Decimal
    size: tuple[int, int] | None = None  # (width, height) [px]
    quality: str | None = None
    bracket: str | None = None
    steps: str | None = None


@dataclass
class LiteLLMModel:
    """The entries of one provider and model part (see the module)."""

    provider: str  # litellm_provider
    name: str  # the model part of the keys
    keys: list[str] = field(default_factory=list)
    flat: Figure | None = None
    per_pixel: tuple[str, Decimal] | None = None  # (key, USD/px) at any size
    sized: list[Figure] = field(default_factory=list)  # by size and quality, or bracket
    tokens: tuple[str, LiteLLMEntry] | None = None
    input_image: Decimal | None = None  # [USD/input image]
    operations: set[str] = field(default_factory=set)
    deprecated: date | None = None

    @property
    def api_id(self) -> str:
        return api_id(self.name, self.provider)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.provider})"

    def forms(self) -> list[Form]:
        """The forms the map prices this model in, most precise first."""
        given = (("sized", self.sized), ("pixel", self.per_pixel), ("flat", self.flat))
        found: list[Form] = [f for f, ok in given if ok]  # type: ignore[misc]
        return [*found, "tokens"] if self.tokens else found


# --------------------------------------------------------------------------- parse


def parse_litellm(data: bytes, source: str) -> dict[str, LiteLLMEntry]:
    """The image entries of LiteLLM's map (``{"<model name>": {...}, ...}``), by key.

    Raises
    ------
    RefreshError
        Not JSON, not an object, no image entry, or an image entry with a bad value (a
        negative or non-numeric price, a bad date), naming its key.
    """
    doc = body_json(data, source, "the price map")
    if not isinstance(doc, dict):
        raise RefreshError(source, 'the price map is not a JSON object {"<model>": {...}}')
    out: dict[str, LiteLLMEntry] = {}
    for key, raw in doc.items():
        if not isinstance(raw, dict) or raw.get("mode") not in IMAGE_MODES:
            continue
        try:
            out[str(key)] = LiteLLMEntry.model_validate(raw)
        except ValidationError as exc:
            raise RefreshError(
                source, f"entry {str(key)[:200]!r}: {validation_reason(exc)}"
            ) from None
    if not out:
        raise RefreshError(source, "the price map has no image_generation or image_edit entry")
    return out


def litellm_models(entries: dict[str, LiteLLMEntry]) -> list[LiteLLMModel]:
    """The entries grouped by (provider, model part), in the map's order."""
    groups: dict[tuple[str, str], LiteLLMModel] = {}
    for key, entry in entries.items():
        k = split_key(key, entry.litellm_provider)
        group = (entry.litellm_provider, k.model.lower())
        lm = groups.setdefault(group, LiteLLMModel(entry.litellm_provider, k.model))
        _fold(lm, k, entry)
    return list(groups.values())


def _fold(lm: LiteLLMModel, k: LiteLLMKey, e: LiteLLMEntry) -> None:
    """Add one entry's figures to its model."""
    lm.keys.append(k.key)
    lm.operations |= e.operations()
    if e.deprecation_date is not None:
        lm.deprecated = min(lm.deprecated or e.deprecation_date, e.deprecation_date)
    if not e.legacy and e.input_cost_per_image and lm.input_image is None:
        lm.input_image = e.input_cost_per_image
    if k.sized:  # a key naming "max-x-max", or no price for the size, says nothing usable
        lm.sized += [f for f in (_sized(k, e),) if f is not None]
        return
    if lm.flat is None and (price := e.per_image()):
        lm.flat = Figure(k.key, price)
    if lm.per_pixel is None and (px := e.per_pixel()):
        lm.per_pixel = (k.key, px)
    lm.sized += [Figure(k.key, p, bracket=b) for b, p in e.resolutions.items() if p]
    if lm.tokens is None and e.output_cost_per_image_token:
        lm.tokens = (k.key, e)


def _sized(k: LiteLLMKey, e: LiteLLMEntry) -> Figure | None:
    price, px = e.per_image(), e.per_pixel()
    if k.size is not None and price is None and px is not None:
        price = significant(px * k.size[0] * k.size[1])
    if k.size is None or price is None:
        return None
    return Figure(k.key, price, k.size, k.quality, steps=k.steps)


def significant(value: Decimal, digits: int = _DIGITS) -> Decimal:
    """``value`` to ``digits`` significant digits, without trailing zeros."""
    places = digits - 1 - value.adjusted()
    return value.quantize(Decimal(1).scaleb(-places)).normalize() if value else value


def per_megapixel(per_pixel: Decimal) -> tuple[Decimal, int]:
    """A per-pixel price as (price per MP, pixels in one MP): the MP definition that gives
    the shorter figure, 1,000,000 px on a tie."""
    options = [(per_pixel * mp).normalize() for mp in (1_000_000, 1_048_576)]
    short = min(range(2), key=lambda i: len(options[i].as_tuple().digits))
    return options[short], (1_000_000, 1_048_576)[short]


# --------------------------------------------------------------------------- versions


@dataclass(frozen=True)
class Built:
    """A price version built from the map, and what a new offer needs to hold it."""

    version: PriceVersion
    qualities: list[str]
    brackets: list[dict[str, Any]]


def plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros or an exponent (``0.0250`` -> ``0.025``)."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def offer_form(offer: Offer, day: date) -> Form | None:
    """The form of ``offer``'s prices in force on ``day``, if it is one the map can give."""
    comps = [c for v in offer.versions if v.in_force(day) for c in v.components]
    if any(isinstance(c, TokenPrice) for c in comps):
        return "tokens"
    if any(isinstance(c, MegapixelPrice) for c in comps):
        return "pixel"
    images = [c for c in comps if isinstance(c, ImagePrice)]
    if any(c.when.size or c.when.quality or c.when.bracket for c in images):
        return "sized"
    return "flat" if images else None


def _order(f: Figure) -> tuple[int, int, int]:
    """Figures by quality (low first), then pixels, then bracket (a card's usual order)."""
    rank = _QUALITIES.index(f.quality) if f.quality in _QUALITIES else len(_QUALITIES)
    pixels = f.size[0] * f.size[1] if f.size else 0
    return rank, pixels, _bracket_side(f.bracket) if f.bracket else 0


def _bracket_side(name: str) -> int:
    """Longest side of a LiteLLM resolution bracket [px]: ``2K`` -> 2,048, ``512`` -> 512."""
    return int(Decimal(name[:-1]) * 1024) if name.endswith("K") else int(name)


def _sized_components(
    lm: LiteLLMModel, offer: Offer | None, notes: list[str]
) -> tuple[list[dict[str, Any]], list[str], list[dict[str, Any]]]:
    """Per-image components by size and quality or bracket: (components, qualities, brackets)."""
    figures = sorted(lm.sized, key=_order)
    if lm.flat and all(f.price == lm.flat.price for f in figures):
        return [{"unit": "image", "price": lm.flat.price}], [], []
    by_bracket = [f for f in figures if f.bracket]
    by_size = [f for f in figures if not f.bracket]
    if by_bracket and by_size:  # both kinds cannot apply to one request: keep the larger
        figures = by_bracket if len(by_bracket) > len(by_size) else by_size
        notes.append(f"{len(lm.sized) - len(figures)} figure(s) of the other kind left out")
    steps: dict[tuple[Any, ...], set[str | None]] = {}
    for f in figures:
        steps.setdefault((f.size, f.quality), set()).add(f.steps)
    quality_sizes = {f.size for f in figures if f.quality}
    comps: dict[tuple[Any, ...], dict[str, Any]] = {}
    for f in figures:
        if len(steps[(f.size, f.quality)]) > 1:
            notes.append(f"{f.key} left out (priced by steps)")
            continue
        if f.quality is None and f.bracket is None and f.size in quality_sizes:
            continue  # LiteLLM's fallback when a request names no quality
        quality = f.quality if offer is None or f.quality is None else offer.own_quality(f.quality)
        known = offer is None or f.bracket is None or f.bracket in {b.name for b in offer.brackets}
        if (quality is None and f.quality is not None) or not known:
            notes.append(f"{f.key} left out (the offer has no {f.quality or f.bracket})")
            continue
        size = None if f.size is None else f"{f.size[0]}x{f.size[1]}"
        when = {
            k: v for k, v in (("size", size), ("quality", quality), ("bracket", f.bracket)) if v
        }
        comps.setdefault(tuple(when.items()), {"unit": "image", "price": f.price, "when": when})
    qualities = list(
        dict.fromkeys(c["when"]["quality"] for c in comps.values() if "quality" in c["when"])
    )
    names = sorted({f.bracket for f in figures if f.bracket}, key=_bracket_side)
    brackets = [{"name": n, "max_side": _bracket_side(n)} for n in names]
    return list(comps.values()), qualities, brackets


def _token_components(
    lm: LiteLLMModel, offer: Offer | None, model: ImageModel, ctx: Context
) -> list[dict[str, Any]] | str:
    """Token components at the map's prices, the rest (output tokens per image, a price the
    map does not give) copied from ``offer``'s token version in force, else from
    :func:`~pricing._refresh.new_offers.token_base`."""
    assert lm.tokens is not None
    e = lm.tokens[1]
    own = [v for v in offer.versions if v.in_force(ctx.day)] if offer else []
    base = next((v for v in own if v.components_of(TokenPrice)), None)
    found = (offer, base) if base else token_base(ctx.data, model.id, ctx.day)
    if found is None:
        return f"no offer of {model.id} has a token-priced version in force to copy from"
    given = (e.output_cost_per_image_token, e.input_cost_per_image_token, e.input_cost_per_token)
    names = ("image_output", "image_input", "text_input")
    per_m = {k: plain(v * MILLION) for k, v in zip(names, given, strict=True) if v}
    return [c.model_copy(update=per_m).model_dump() for c in found[1].components_of(TokenPrice)]


def build_version(
    lm: LiteLLMModel, offer: Offer | None, model: ImageModel, ctx: Context, sid: str
) -> Built | str:
    """The price version ``lm`` gives (see the module), checked, or why it gives none."""
    forms = lm.forms()
    mine = offer_form(offer, ctx.day) if offer else None
    form = mine if mine in forms else next(iter(forms), None)
    notes: list[str] = []
    qualities: list[str] = []
    brackets: list[dict[str, Any]] = []
    megapixel = 1_000_000
    if form == "tokens":
        comps = _token_components(lm, offer, model, ctx)
        if isinstance(comps, str):
            return comps
    elif form == "sized":
        comps, qualities, brackets = _sized_components(lm, offer, notes)
    elif form == "pixel" and lm.per_pixel:
        price, megapixel = per_megapixel(lm.per_pixel[1])
        comps = [{"unit": "megapixel", "price": plain(price)}]
        notes.append(f"{lm.per_pixel[1]} USD/px x {megapixel:,} px")
    elif form == "flat" and lm.flat:
        comps = [{"unit": "image", "price": lm.flat.price}]
    else:
        return "no price this project can use (no per-image, per-pixel or image-token price)"
    if not comps:
        return "no figure left to record: " + "; ".join(notes)
    if lm.input_image and form != "tokens":
        comps.append({"unit": "input_image", "price": lm.input_image})
    keys = ", ".join(lm.keys[:4]) + (f" and {len(lm.keys) - 4} more" if len(lm.keys) > 4 else "")
    words = [f"LiteLLM price map (third-party), keys {keys}", *notes[:3]]
    if lm.deprecated:
        words.append(f"LiteLLM dates its deprecation {lm.deprecated}")
    raw = {"effective_from": ctx.day, "source": sid, "currency": "USD", "megapixel": megapixel,
           "components": comps, "notes": clean_text("; ".join(words) + ".")}  # fmt: skip
    try:
        version = PriceVersion.model_validate(raw)
    except ValidationError as exc:
        return f"its prices make no price version: {validation_reason(exc)}"
    issues = [] if is_free(version) else price_issues(version)
    if is_free(version) or issues:
        why = "; ".join(f"`{i.field}` {i.message}" for i in issues[:2]) or "every price is 0"
        return f"implausible ({why}); not recorded"
    return Built(version, qualities, brackets)


# --------------------------------------------------------------------------- plan


def plan_litellm(models: list[LiteLLMModel], ctx: Context, source: str, sid: str) -> Additions:
    """New third-party versions and offers from the map's models (see the module); every
    model not imported is a skipped row saying why (and the ``api_ids`` line to add)."""
    adds = Additions()
    taken = offer_ids(ctx.data)
    for lm in models:
        why = _plan_model(adds, ctx, source, sid, lm, taken)
        if why is not None:
            adds.skip(source, lm.label, why)
    return adds


def _plan_model(
    adds: Additions, ctx: Context, source: str, sid: str, lm: LiteLLMModel, taken: set[str]
) -> str | None:
    """Record ``lm``'s prices; why not, when they are not recorded."""
    found = match_model(lm.api_id, ctx.data.models.model, ctx.day)
    if isinstance(found, str):
        return found
    model = found[0]
    if lm.deprecated is not None and lm.deprecated <= ctx.day:
        return f"LiteLLM dates its deprecation {lm.deprecated}, on or before {ctx.day}"
    provider = our_provider(lm.provider)
    card = ctx.data.cards.get(provider)
    if card is None and provider not in NEW_CARDS:
        return (
            f"no rate card for provider {provider!r} (LiteLLM's {lm.provider}); add "
            f"data/rate-cards/{provider}.toml to import its prices"
        )
    offer = match_offer(lm.api_id, model, card)
    if isinstance(offer, str):
        return offer
    built = build_version(lm, offer, model, ctx, sid)
    if isinstance(built, str):
        return built
    same = [offer] if offer else [o for o in card.offers if o.model == model.id] if card else []
    if any(said(o, built.version, ctx) for o in same):
        adds.unchanged += 1  # in any order, or on another offer of the model (another id)
    elif offer is not None:
        offer_update(adds, ctx, source, "third-party", provider, offer, built.version)
    else:
        return _create(adds, ctx, source, lm, model, built, taken)
    return None


def said(offer: Offer, new: PriceVersion, ctx: Context) -> bool:
    """Whether a version of ``offer`` in force, from a source ranked third-party or above,
    has ``new``'s prices, its components in any order."""
    ranked = {s.id for s in ctx.data.sources.source if s.kind != "seed"}
    skip = {"effective_from", "effective_to", "source", "notes"}
    mine = new.model_dump(exclude=skip)
    comps = mine.pop("components")
    for v in (v for v in offer.versions if v.in_force(ctx.day) and v.source in ranked):
        theirs = v.model_dump(exclude=skip)
        listed = theirs.pop("components")
        if theirs == mine and len(listed) == len(comps) and all(c in listed for c in comps):
            return True
    return False


def _create(
    adds: Additions,
    ctx: Context,
    source: str,
    lm: LiteLLMModel,
    model: ImageModel,
    built: Built,
    taken: set[str],
) -> str | None:
    """Add a new offer ``<provider>/<model id>`` for ``lm``; why not, when it cannot be."""
    provider = our_provider(lm.provider)
    operations = [op for op in fal_operations(lm.name.lower(), model) if op in lm.operations]
    offer_id = new_offer_id(provider, [model.id, lm.api_id.split("/", 1)[-1]], taken)
    if offer_id is None:
        return "its offer ids are taken; add the offer by hand"
    if not operations:
        return f"it serves {sorted(lm.operations)}, not operations of model {model.id!r}"
    note = f"Created by `pricing refresh` from LiteLLM's price map ({lm.label}), a third-party "
    try:
        offer = Offer.model_validate({
            "id": offer_id, "model": model.id, "name": lm.api_id, "operations": operations,
            "brackets": built.brackets, "qualities": built.qualities,
            "notes": note + "figure: check it against the provider's own page.",
            "versions": [built.version.model_dump()],
        })  # fmt: skip
    except ValidationError as exc:
        return f"its new offer is not valid: {validation_reason(exc)}"
    add_new_offer(adds, ctx, source, offer)
    taken.add(offer_id)
    return None


def run(feed: Feed, ctx: Context, sid: str, fetch: FeedFetch) -> Additions:
    """Fetch (or read) the map, parse its image entries and compare them with the data."""
    models = litellm_models(parse_litellm(fetch(feed.url).body, feed.name))
    return plan_litellm(models, ctx, feed.name, sid)
