"""Pydantic models of everything in ``data/``: sources, models and rate cards.

These models are the single definition of the data format, with the field types of
:mod:`pricing._cards.fields` and the price components of :mod:`pricing._cards.components`
(one class per billing unit). The JSON Schemas under
``data/schema/`` are generated from them (``pricing.schema_documents``) and a test fails when
the committed copies drift.

Money is ``Decimal`` from the TOML file onward (cards are read with ``parse_float=Decimal``).
Every price is in the version's ``currency``; units are stated in each field's description.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal, TypeVar

from pydantic import Field, field_validator, model_validator

from pricing._cards.components import (
    Component,
    ComponentBase,
    CreditPrice,
    GpuSecondPrice,
    SubscriptionPrice,
)
from pricing._cards.fields import (
    ApiId,
    Currency,
    Fraction,
    Id,
    Money,
    OfferId,
    Operation,
    Size,
    Strict,
    require_unique,
)

SourceKind = Literal["official", "provider-reseller", "third-party", "seed"]
#: Default precedence of source kinds: a quote uses the highest-ranked kind in force.
SOURCE_PRECEDENCE: tuple[SourceKind, ...] = ("official", "provider-reseller", "third-party", "seed")

#: How far a price can be trusted, from what its page is (DESIGN.md, "Evidence"), best first.
Grade = Literal["official", "provider", "third-party", "claim"]
GRADES: tuple[Grade, ...] = ("official", "provider", "third-party", "claim")

#: Provider-neutral quality words: an offer maps them to its own (``quality_scale``), so one
#: workload segment can price offers that name their qualities differently.
QUALITY_SCALE: tuple[str, ...] = ("low", "medium", "high", "max")

#: Flags a data file states (a reader's judgement of its source); the others are computed.
DataFlagName = Literal["unit-ambiguous", "retirement-undated"]

C = TypeVar("C", bound=ComponentBase)


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
    provider: Id | None = Field(
        default=None,
        description="the provider whose own price page this is (a seed article that is a "
        "reseller's page): its offers grade `provider`, others it quotes `third-party`",
    )
    grade: Grade | None = Field(
        default=None,
        description="set only to grade the page below what its kind implies (`claim`: "
        "marketing copy, a page that contradicts itself); needs `grade_reason`",
    )
    grade_reason: str | None = Field(default=None, min_length=1)
    notes: str | None = None

    @model_validator(mode="after")
    def _graded(self) -> Source:
        if (self.grade is None) != (self.grade_reason is None):
            raise ValueError("`grade` and `grade_reason` go together: give both or neither")
        return self


class SourcesFile(Strict):
    source: list[Source]

    @model_validator(mode="after")
    def _unique(self) -> SourcesFile:
        require_unique([s.id for s in self.source], "source id")
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
    max_megapixels: Decimal | None = Field(
        default=None,
        gt=0,
        description="[MP] largest output the model makes; applies to every offer of it",
    )
    megapixel: Literal[1000000, 1048576] = Field(
        default=1000000, description="pixels in one megapixel of `max_megapixels` [px]"
    )
    max_reference_images: int | None = Field(
        default=None, ge=0, description="most input images a call takes; applies to every offer"
    )
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
        require_unique(ids, "api id")
        return ids


class ModelsFile(Strict):
    model: list[ImageModel]

    @model_validator(mode="after")
    def _unique(self) -> ModelsFile:
        require_unique([m.id for m in self.model], "model id")
        return self


# --------------------------------------------------------------------------- rate cards


class Limits(Strict):
    """What requests an offer accepts; megapixels use ``megapixel`` if given, else the
    version's MP definition."""

    max_megapixels: Decimal | None = Field(default=None, gt=0, description="[MP]")
    megapixel: Literal[1000000, 1048576] | None = Field(
        default=None,
        description="pixels in one megapixel of `max_megapixels` [px] (default: the version's)",
    )
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


class DataFlag(Strict):
    """A flag a reader set on a price version, with the reason (see DESIGN.md, "Evidence")."""

    flag: DataFlagName
    reason: str = Field(min_length=1, description="what in the source makes the flag apply")


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
    flags: list[DataFlag] = Field(
        default_factory=list,
        description="`unit-ambiguous` (the source contradicts its own units) or "
        "`retirement-undated` (the source calls it legacy but dates no end)",
    )
    notes: str | None = None

    @property
    def version_id(self) -> str:
        return f"{self.effective_from.isoformat()}/{self.source}"

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def components_of(self, unit: type[C]) -> list[C]:
        """The components of one billing unit (component class), in the card's order."""
        return [c for c in self.components if isinstance(c, unit)]

    def describe(self) -> str:
        """The components in words, ``; ``-separated (see :meth:`ComponentBase.describe`)."""
        return "; ".join(c.describe(self) for c in self.components)

    @model_validator(mode="after")
    def _consistent(self) -> PriceVersion:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("`effective_to` must be after `effective_from`")
        if self.components_of(CreditPrice) and self.credit_value is None:
            raise ValueError("credit components need `credit_value` on the version")
        for i, a in enumerate(self.components):
            for b in self.components[i + 1 :]:
                if a.charge_key() == b.charge_key() and a.when.overlaps(b.when):
                    raise ValueError(
                        f"two `{a.unit}` components can apply to the same request "
                        f"({a.when.model_dump(exclude_none=True)} and "
                        f"{b.when.model_dump(exclude_none=True)}); make their `when` disjoint"
                    )
        return self


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
    quality_scale: dict[str, str] = Field(
        default_factory=dict,
        description="provider-neutral quality word (low, medium, high, max) -> this offer's "
        'own quality word, e.g. { low = "turbo", medium = "default", high = "quality" }',
    )
    rate_limit: RateLimit | None = None
    notes: str | None = None
    versions: list[PriceVersion] = Field(min_length=1)

    def own_quality(self, word: str) -> str | None:
        """This offer's quality word for ``word`` (its own, or a mapped neutral one)."""
        if word in self.qualities:
            return word
        return self.quality_scale.get(word)

    def quality_words(self) -> str:
        """The words this offer takes, for errors: its own, then the neutral ones it maps."""
        mapped = [f"{k} (= {v})" for k, v in self.quality_scale.items()]
        return ", ".join([*self.qualities, *mapped])

    @property
    def kind(self) -> Literal["api", "hardware-time", "subscription"]:
        """``hardware-time`` (billed per second of a named GPU: bought as a private deployment
        that also bills set-up and idle time), ``subscription`` (a monthly plan) or ``api``."""
        components = [c for v in self.versions for c in v.components]
        if any(isinstance(c, GpuSecondPrice) for c in components):
            return "hardware-time"
        if any(isinstance(c, SubscriptionPrice) for c in components):
            return "subscription"
        return "api"

    @model_validator(mode="after")
    def _consistent(self) -> Offer:
        if self.default_quality is not None and self.default_quality not in self.qualities:
            raise ValueError(f"`default_quality` {self.default_quality!r} is not in `qualities`")
        for word, own in self.quality_scale.items():
            if word not in QUALITY_SCALE:
                raise ValueError(
                    f"`quality_scale` key {word!r} is not a neutral quality word; use "
                    f"{', '.join(QUALITY_SCALE)}"
                )
            if own not in self.qualities:
                raise ValueError(f"`quality_scale` maps {word!r} to {own!r}, not in `qualities`")
        require_unique([b.name for b in self.brackets], "bracket name")
        return self


class RateCard(Strict):
    """``data/rate-cards/<provider>.toml``: one provider and its offers."""

    provider: Id
    name: str
    url: str | None = Field(default=None, pattern=r"^https?://")
    vendor: str | None = Field(
        default=None,
        description="the model vendor (as in models.toml) when the provider sells its own "
        "models: its official prices are the upstream that resold prices are checked against",
    )
    notes: str | None = None
    offers: list[Offer] = Field(default_factory=list)

    @field_validator("offers")
    @classmethod
    def _unique_offers(cls, offers: list[Offer]) -> list[Offer]:
        require_unique([o.id for o in offers], "offer id")
        return offers
