"""Pydantic models of everything in ``data/``: sources, models and rate cards.

These models are the single definition of the data format. The JSON Schemas under
``data/schema/`` are generated from them (``pricing.schema_documents``) and a test fails when
the committed copies drift.

Money is ``Decimal`` from the TOML file onward (cards are read with ``parse_float=Decimal``).
Every price is in the version's ``currency``; units are stated in each field's description.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SourceKind = Literal["official", "provider-reseller", "third-party", "seed"]
#: Default precedence of source kinds: a quote uses the highest-ranked kind in force.
SOURCE_PRECEDENCE: tuple[SourceKind, ...] = ("official", "provider-reseller", "third-party", "seed")

Operation = Literal["generate", "edit", "inpaint", "upscale", "vectorize", "remove-background"]
OPERATIONS: tuple[str, ...] = Operation.__args__  # type: ignore[attr-defined]

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", min_length=1, max_length=80)]
OfferId = Annotated[
    str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*$", max_length=120)
]
#: An API's id of a model: ``owner/name[/...]`` in lowercase (``openai/gpt-image-1``,
#: ``fal-ai/flux-pro/kontext``).
API_ID_PATTERN = r"^[a-z0-9][a-z0-9._:-]*(/[a-z0-9][a-z0-9._:-]*)+$"
ApiId = Annotated[str, Field(pattern=API_ID_PATTERN, max_length=200)]
Size = Annotated[str, Field(pattern=r"^[1-9][0-9]*x[1-9][0-9]*$", description="WIDTHxHEIGHT [px]")]
Money = Annotated[Decimal, Field(ge=0, description="amount [currency of the price version]")]
Fraction = Annotated[Decimal, Field(ge=0, le=1)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


class Strict(BaseModel):
    """Base of every data model: unknown fields are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- sources


class Source(Strict):
    """Where a number comes from."""

    id: Id
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    url: str | None = Field(default=None, pattern=r"^(https?://|shared/seeds/)")
    kind: SourceKind
    published: date | None = Field(default=None, description="date the source itself shows")
    seen: date = Field(description="date the figure was read from the source")
    locator: str | None = Field(default=None, description="table or section within the source")
    notes: str | None = None


class SourcesFile(Strict):
    source: list[Source]

    @model_validator(mode="after")
    def _unique(self) -> SourcesFile:
        _require_unique([s.id for s in self.source], "source id")
        return self


# --------------------------------------------------------------------------- models


class ImageModel(Strict):
    """A model family (e.g. ``flux-2-pro``), independent of who hosts it."""

    id: Id
    name: str
    vendor: str
    open_weights: bool
    operations: list[Operation] = Field(min_length=1)
    api_ids: list[ApiId] = Field(
        default_factory=list,
        description="ids that API catalogs serve this model under (OpenRouter model ids, fal "
        "endpoint ids); `pricing refresh` creates offers for them",
    )
    max_megapixels: Decimal | None = Field(default=None, gt=0, description="[MP, 10^6 px]")
    max_reference_images: int | None = Field(default=None, ge=0)
    licence: str | None = Field(default=None, description="terms for self-hosting the weights")
    released: date | None = None
    retired: date | None = Field(
        default=None, description="first day the model is no longer served by its vendor"
    )
    sources: list[Id] = Field(default_factory=list)
    notes: str | None = None

    @field_validator("api_ids")
    @classmethod
    def _unique_api_ids(cls, ids: list[str]) -> list[str]:
        _require_unique(ids, "api id")
        return ids


class ModelsFile(Strict):
    model: list[ImageModel]

    @model_validator(mode="after")
    def _unique(self) -> ModelsFile:
        _require_unique([m.id for m in self.model], "model id")
        return self


# --------------------------------------------------------------------------- rate cards


class When(Strict):
    """Conditions under which a price component applies; unset fields match anything."""

    operation: Operation | None = None
    bracket: str | None = Field(default=None, description='size bracket name, e.g. "1K"')
    quality: str | None = None
    size: Size | None = None

    def overlaps(self, other: When) -> bool:
        """Whether some request could satisfy both conditions at once."""
        for key in ("operation", "bracket", "quality", "size"):
            mine, theirs = getattr(self, key), getattr(other, key)
            if mine is not None and theirs is not None and mine != theirs:
                return False
        return True


class Tier(Strict):
    start: int = Field(ge=0, description="monthly image position where the tier starts [images]")
    price: Money = Field(description="[currency/image]")


class ComponentBase(Strict):
    when: When = Field(default_factory=When)


class ImagePrice(ComponentBase):
    """A flat price per output image, optionally tiered by the month's image volume."""

    unit: Literal["image"]
    price: Money | None = Field(default=None, description="[currency/image]")
    price_high: Money | None = Field(
        default=None, description="upper end when the source states a range [currency/image]"
    )
    tiers: list[Tier] = Field(default_factory=list)
    tier_mode: Literal["graduated", "all-units"] = "graduated"

    @model_validator(mode="after")
    def _price_or_tiers(self) -> ImagePrice:
        if (self.price is None) == (not self.tiers):
            raise ValueError("give exactly one of `price` or `tiers`")
        if self.tiers:
            if self.price_high is not None:
                raise ValueError("`price_high` (a stated range) cannot be combined with `tiers`")
            starts = [t.start for t in self.tiers]
            if starts[0] != 0:
                raise ValueError("the first tier must start at 0")
            if starts != sorted(set(starts)):
                raise ValueError(f"tier starts must ascend strictly, got {starts}")
        if self.price_high is not None and self.price is not None and self.price_high < self.price:
            raise ValueError("`price_high` must not be below `price`")
        return self


class InputImagePrice(ComponentBase):
    """A flat price per input (reference) image."""

    unit: Literal["input_image"]
    price: Money = Field(description="[currency/input image]")


class MegapixelPrice(ComponentBase):
    """A price per megapixel of output or of input images.

    Output images cost ``first + max(0, MP - 1) * price`` when ``first`` is set, else
    ``MP * price``; input images cost ``MP * price`` each. MP is measured with the version's
    ``megapixel`` definition and rounded per image by ``rounding``.
    """

    unit: Literal["megapixel"]
    applies_to: Literal["output", "input"] = "output"
    first: Money | None = Field(default=None, description="price of the first MP [currency]")
    price: Money = Field(description="price per (additional) MP [currency/MP]")
    rounding: Literal["exact", "up", "increment"] = "exact"
    increment: Money | None = Field(
        default=None, description="rounding='increment': charge rounded up to this [currency]"
    )
    minimum_mp: Decimal | None = Field(default=None, ge=0, description="[MP per image]")

    @model_validator(mode="after")
    def _increment(self) -> MegapixelPrice:
        if (self.rounding == "increment") != (self.increment is not None):
            raise ValueError("`increment` is required with rounding='increment' and only then")
        if self.increment is not None and self.increment <= 0:
            raise ValueError("`increment` must be positive")
        if self.first is not None and self.applies_to == "input":
            raise ValueError("`first` applies to output megapixels only")
        return self


class SecondsEstimate(Strict):
    """A published run time used when the request gives no seconds, scaled linearly."""

    seconds: Decimal = Field(gt=0, description="[s per image]")
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    steps: int | None = Field(default=None, gt=0)
    source: Id


class GpuSecondPrice(ComponentBase):
    """Hardware time: ``price`` per second of the run, billed by ``granularity_s``."""

    unit: Literal["gpu_second"]
    hardware: str
    price: Money = Field(description="[currency/s]")
    granularity_s: Decimal | None = Field(
        default=None, gt=0, description="[s]; a call's run time is rounded up to it; None = exact"
    )
    minimum_s: Decimal = Field(default=Decimal(0), ge=0, description="[s per call]")
    estimate: SecondsEstimate | None = None


class CreditPrice(ComponentBase):
    """Credits per output image, worth the version's ``credit_value`` each."""

    unit: Literal["credit"]
    credits: Decimal = Field(ge=0, description="[credits/image]")


class TokenCount(Strict):
    size: Size
    quality: str
    tokens: int = Field(gt=0, description="image output tokens per image")


class TokenPrice(ComponentBase):
    """Prices per 1M tokens; output tokens per image come from the size x quality table."""

    unit: Literal["token"]
    text_input: Money | None = Field(default=None, description="[currency/1M tokens]")
    image_input: Money | None = Field(default=None, description="[currency/1M tokens]")
    image_output: Money = Field(description="[currency/1M tokens]")
    output_tokens: list[TokenCount] = Field(min_length=1)
    output_tokens_note: str | None = None

    @model_validator(mode="after")
    def _unique_rows(self) -> TokenPrice:
        _require_unique([f"{r.size}/{r.quality}" for r in self.output_tokens], "token table row")
        return self


class StepPrice(ComponentBase):
    """``price * (w/ref_w) * (h/ref_h) * steps / per_steps`` per image (area scaling optional)."""

    unit: Literal["step"]
    price: Money = Field(description="[currency per `per_steps` steps at the reference size]")
    per_steps: int = Field(default=1, gt=0)
    scale_by_area: bool = True
    reference_width: int = Field(default=1024, gt=0)
    reference_height: int = Field(default=1024, gt=0)
    default_steps: int | None = Field(default=None, gt=0)


class SubscriptionPrice(ComponentBase):
    """A monthly plan: fee, included images or GPU-hours, and overage."""

    unit: Literal["subscription"]
    monthly_fee: Money = Field(description="[currency/month]")
    included_images: int | None = Field(default=None, ge=0, description="[images/month]")
    included_gpu_hours: Decimal | None = Field(default=None, ge=0, description="[h/month]")
    gpu_seconds_per_image: Decimal | None = Field(default=None, gt=0, description="[s/image]")
    overage_per_image: Money | None = Field(default=None, description="[currency/image]")
    overage_per_gpu_hour: Money | None = Field(default=None, description="[currency/h]")

    @model_validator(mode="after")
    def _allowance(self) -> SubscriptionPrice:
        if self.included_gpu_hours is not None and self.gpu_seconds_per_image is None:
            raise ValueError("`included_gpu_hours` needs `gpu_seconds_per_image`")
        if self.included_images is not None and self.included_gpu_hours is not None:
            raise ValueError("give `included_images` or `included_gpu_hours`, not both")
        return self


Component = Annotated[
    ImagePrice
    | InputImagePrice
    | MegapixelPrice
    | GpuSecondPrice
    | CreditPrice
    | TokenPrice
    | StepPrice
    | SubscriptionPrice,
    Field(discriminator="unit"),
]
UNITS: tuple[str, ...] = (
    "image",
    "input_image",
    "megapixel",
    "gpu_second",
    "credit",
    "token",
    "step",
    "subscription",
)


class Limits(Strict):
    """What requests an offer accepts; megapixels use the version's MP definition."""

    max_megapixels: Decimal | None = Field(default=None, gt=0, description="[MP]")
    min_side: int | None = Field(default=None, gt=0, description="[px]")
    max_side: int | None = Field(default=None, gt=0, description="[px]")
    multiple_of: int | None = Field(default=None, gt=0, description="[px]")
    sizes: list[Size] | None = Field(default=None, description="the only sizes accepted")
    max_input_images: int | None = Field(default=None, ge=0)
    min_steps: int | None = Field(default=None, gt=0)
    max_steps: int | None = Field(default=None, gt=0)


class SizeBracket(Strict):
    """A named size class ("1K", "2K"); a request falls in the first bracket it fits."""

    name: str
    max_side: int | None = Field(default=None, gt=0, description="longest side [px]")
    max_megapixels: Decimal | None = Field(default=None, gt=0, description="[MP]")

    @model_validator(mode="after")
    def _bound(self) -> SizeBracket:
        if self.max_side is None and self.max_megapixels is None:
            raise ValueError("a bracket needs `max_side` or `max_megapixels`")
        return self


class RateLimit(Strict):
    requests: int = Field(gt=0)
    per_seconds: Decimal | None = Field(
        default=None, gt=0, description="[s]; None means concurrent requests in flight"
    )
    scope: Literal["key", "account"] = "key"
    source: Id | None = None


class PriceVersion(Strict):
    """The price of an offer from one source over a period; components are summed."""

    effective_from: date
    effective_to: date | None = Field(default=None, description="first day it no longer applies")
    source: Id
    currency: Currency = "USD"
    megapixel: Literal[1000000, 1048576] = Field(
        default=1000000, description="pixels in one megapixel for this card [px]"
    )
    credit_value: Money | None = Field(default=None, description="[currency/credit]")
    components: list[Component] = Field(min_length=1)
    limits: Limits | None = Field(default=None, description="replaces the offer's limits")
    free_images_per_month: int = Field(default=0, ge=0, description="[images/month]")
    minimum_monthly_spend: Money | None = Field(default=None, description="[currency/month]")
    committed_use_discount: Fraction | None = Field(
        default=None, description="fraction off with a spend commitment"
    )
    notes: str | None = None

    @property
    def version_id(self) -> str:
        return f"{self.effective_from.isoformat()}/{self.source}"

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    @model_validator(mode="after")
    def _consistent(self) -> PriceVersion:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("`effective_to` must be after `effective_from`")
        if any(c.unit == "credit" for c in self.components) and self.credit_value is None:
            raise ValueError("credit components need `credit_value` on the version")
        for i, a in enumerate(self.components):
            for b in self.components[i + 1 :]:
                if _charge_key(a) == _charge_key(b) and a.when.overlaps(b.when):
                    raise ValueError(
                        f"two `{a.unit}` components can apply to the same request "
                        f"({a.when.model_dump(exclude_none=True)} and "
                        f"{b.when.model_dump(exclude_none=True)}); make their `when` disjoint"
                    )
        return self


def _charge_key(c: ComponentBase) -> str:
    """Components that charge for the same thing must not both apply to one request."""
    unit = getattr(c, "unit", "")
    if unit == "megapixel":
        return f"megapixel-{getattr(c, 'applies_to', 'output')}"
    if unit in {"image", "credit", "token", "step", "gpu_second", "subscription"}:
        return "output"
    return unit


class Offer(Strict):
    """One provider's way of serving one model, with dated price versions."""

    id: OfferId
    model: Id
    name: str | None = None
    operations: list[Operation] = Field(min_length=1)
    limits: Limits | None = None
    brackets: list[SizeBracket] = Field(default_factory=list)
    qualities: list[str] = Field(default_factory=list)
    default_quality: str | None = None
    rate_limit: RateLimit | None = None
    notes: str | None = None
    versions: list[PriceVersion] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Offer:
        if self.default_quality is not None and self.default_quality not in self.qualities:
            raise ValueError(f"`default_quality` {self.default_quality!r} is not in `qualities`")
        _require_unique([b.name for b in self.brackets], "bracket name")
        return self


class RateCard(Strict):
    """``data/rate-cards/<provider>.toml``: one provider and its offers."""

    provider: Id
    name: str
    url: str | None = Field(default=None, pattern=r"^https?://")
    notes: str | None = None
    offers: list[Offer] = Field(default_factory=list)

    @field_validator("offers")
    @classmethod
    def _unique_offers(cls, offers: list[Offer]) -> list[Offer]:
        _require_unique([o.id for o in offers], "offer id")
        return offers


def _require_unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}; each must appear once")
        seen.add(v)
