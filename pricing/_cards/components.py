"""Price components, one class per billing unit, and what each unit means on a card.

A price version (:class:`pricing._cards.schema.PriceVersion`) is a list of components; a
request's cost is the sum of its components. Each class states here, beside its fields, what
the rest of the package asks of a unit without testing its class: its words
(:meth:`ComponentBase.describe`), its priced fields (:meth:`ComponentBase.price_fields`), its
headline price, whether it follows the month's running volume, the sizes it names and what it
charges for. Pricing itself belongs to the engines, in tables keyed by these classes
(``UNIT_PRICERS`` of the exact path, ``UNIT_POINTS`` of the vectorised one).

Money is ``Decimal`` [currency of the price version]; units are in each field's description.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, get_args

from pydantic import Field, model_validator

from pricing._cards.fields import Id, Money, Operation, Size, Strict, require_unique

if TYPE_CHECKING:
    from pricing._cards.schema import PriceVersion

#: A priced field of a component: (field name, value [currency or credits], tier start or None).
PricedField = tuple[str, Decimal, int | None]


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

    def describe(self) -> str:
        """The condition in words, e.g. ``operation edit, size bracket 2K``; empty if none."""
        words = {"operation": "operation", "bracket": "size bracket", "quality": "quality"}
        return ", ".join(
            f"{words.get(k, k)} {v}" for k, v in self.model_dump(exclude_none=True).items()
        )


class Tier(Strict):
    start: int = Field(ge=0, description="monthly image position where the tier starts [images]")
    price: Money = Field(description="[currency/image]")


class ComponentBase(Strict):
    when: When = Field(default_factory=When)

    #: Money fields listed by :meth:`price_fields`, in the catalog table's order.
    priced: ClassVar[tuple[str, ...]]
    #: What the component charges for; two components of one version that charge for the
    #: same thing must not both apply to one request (see :meth:`charge_key`).
    charges: ClassVar[str] = "output"

    def describe(self, version: PriceVersion) -> str:
        """The component in words, e.g. ``output first MP 0.03 + 0.015 USD/MP (exact, 1 MP =
        1,000,000 px) when operation edit``; prices are in ``version``'s currency."""
        cond = self.when.describe()
        return self.price_words(version) + (f" when {cond}" if cond else "")

    @abstractmethod
    def price_words(self, version: PriceVersion) -> str:
        """The price in words, without its condition (see :meth:`describe`)."""

    @abstractmethod
    def headline_price(self, version: PriceVersion) -> Decimal | None:
        """The component's main price [currency per its unit], for the % change of a refresh;
        None when it has none (a credit price on a version without a credit value)."""

    def price_fields(self, version: PriceVersion) -> Iterator[PricedField]:
        """Every money figure of the component: (field, value, tier start or None).

        Values are [currency per the field's unit], or [credits/image] for ``credits``.
        """
        for name in self.priced:
            value = getattr(self, name)
            if value is not None:
                yield name, Decimal(value), None

    def follows_volume(self) -> bool:
        """Whether the price depends on the images already billed that month on the offer."""
        return False

    def volume_tiers(self) -> list[Tier]:
        """Per-image prices by monthly image position; empty for a unit without tiers."""
        return []

    def named_sizes(self) -> set[str]:
        """Sizes [WIDTHxHEIGHT px] with figures of their own: the ``when`` size, if any."""
        return {self.when.size} if self.when.size is not None else set()

    def charge_key(self) -> str:
        """What the component charges for (``output``, ``input_image``, ``megapixel-input``...)."""
        return self.charges


class ImagePrice(ComponentBase):
    """A flat price per output image, optionally tiered by the month's image volume."""

    unit: Literal["image"]
    price: Money | None = Field(default=None, description="[currency/image]")
    price_high: Money | None = Field(
        default=None, description="upper end when the source states a range [currency/image]"
    )
    tiers: list[Tier] = Field(default_factory=list)
    tier_mode: Literal["graduated", "all-units"] = "graduated"

    priced = ("price", "price_high")

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

    def price_words(self, version: PriceVersion) -> str:
        cur = version.currency
        if self.tiers:
            tiers = ", ".join(f"{t.start}+: {t.price}" for t in self.tiers)
            return f"{self.tier_mode} tiers per image [{tiers}] {cur}"
        high = f" to {self.price_high}" if self.price_high is not None else ""
        return f"{self.price}{high} {cur}/image"

    def headline_price(self, version: PriceVersion) -> Decimal | None:
        return self.tiers[0].price if self.tiers else self.price

    def price_fields(self, version: PriceVersion) -> Iterator[PricedField]:
        yield from super().price_fields(version)
        for tier in self.tiers:
            yield "tier_price", tier.price, tier.start

    def follows_volume(self) -> bool:
        return bool(self.tiers)

    def volume_tiers(self) -> list[Tier]:
        return self.tiers


class InputImagePrice(ComponentBase):
    """A flat price per input (reference) image."""

    unit: Literal["input_image"]
    price: Money = Field(description="[currency/input image]")

    priced = ("price",)
    charges = "input_image"

    def price_words(self, version: PriceVersion) -> str:
        return f"{self.price} {version.currency}/input image"

    def headline_price(self, version: PriceVersion) -> Decimal | None:
        return self.price


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

    priced = ("price", "first")

    @model_validator(mode="after")
    def _increment(self) -> MegapixelPrice:
        if (self.rounding == "increment") != (self.increment is not None):
            raise ValueError("`increment` is required with rounding='increment' and only then")
        if self.increment is not None and self.increment <= 0:
            raise ValueError("`increment` must be positive")
        if self.first is not None and self.applies_to == "input":
            raise ValueError("`first` applies to output megapixels only")
        return self

    def price_words(self, version: PriceVersion) -> str:
        head = f"first MP {self.first} + " if self.first is not None else ""
        return (
            f"{self.applies_to} {head}{self.price} {version.currency}/MP "
            f"({self.rounding}, 1 MP = {version.megapixel:,} px)"
        )

    def headline_price(self, version: PriceVersion) -> Decimal | None:
        return self.first if self.first is not None else self.price

    def charge_key(self) -> str:
        return f"megapixel-{self.applies_to}"


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

    priced = ("price",)

    def price_words(self, version: PriceVersion) -> str:
        return f"{self.hardware} {self.price} {version.currency}/s"

    def headline_price(self, version: PriceVersion) -> Decimal | None:
        return self.price


class CreditPrice(ComponentBase):
    """Credits per output image, worth the version's ``credit_value`` each."""

    unit: Literal["credit"]
    credits: Decimal = Field(ge=0, description="[credits/image]")

    priced = ("credits",)

    def price_words(self, version: PriceVersion) -> str:
        return f"{self.credits} credits/image x {version.credit_value} {version.currency}"

    def headline_price(self, version: PriceVersion) -> Decimal | None:
        value = version.credit_value
        return None if value is None else self.credits * value

    def price_fields(self, version: PriceVersion) -> Iterator[PricedField]:
        yield from super().price_fields(version)
        if version.credit_value is not None:
            yield "credit_value", version.credit_value, None


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

    priced = ("text_input", "image_input", "image_output")

    @model_validator(mode="after")
    def _unique_rows(self) -> TokenPrice:
        require_unique([f"{r.size}/{r.quality}" for r in self.output_tokens], "token table row")
        return self

    def price_words(self, version: PriceVersion) -> str:
        return f"image out {self.image_output} {version.currency}/1M tokens"

    def headline_price(self, version: PriceVersion) -> Decimal | None:
        return self.image_output

    def named_sizes(self) -> set[str]:
        """The ``when`` size and every size of the output-token table [WIDTHxHEIGHT px]."""
        return super().named_sizes() | {r.size for r in self.output_tokens}


class StepPrice(ComponentBase):
    """``price * (w/ref_w) * (h/ref_h) * steps / per_steps`` per image (area scaling optional)."""

    unit: Literal["step"]
    price: Money = Field(description="[currency per `per_steps` steps at the reference size]")
    per_steps: int = Field(default=1, gt=0)
    scale_by_area: bool = True
    reference_width: int = Field(default=1024, gt=0)
    reference_height: int = Field(default=1024, gt=0)
    default_steps: int | None = Field(default=None, gt=0)

    priced = ("price",)

    def price_words(self, version: PriceVersion) -> str:
        return f"{self.price} {version.currency} per {self.per_steps} step(s)"

    def headline_price(self, version: PriceVersion) -> Decimal | None:
        return self.price


class SubscriptionPrice(ComponentBase):
    """A monthly plan: fee, included images or GPU-hours, and overage."""

    unit: Literal["subscription"]
    monthly_fee: Money = Field(description="[currency/month]")
    included_images: int | None = Field(default=None, ge=0, description="[images/month]")
    included_gpu_hours: Decimal | None = Field(default=None, ge=0, description="[h/month]")
    gpu_seconds_per_image: Decimal | None = Field(default=None, gt=0, description="[s/image]")
    overage_per_image: Money | None = Field(default=None, description="[currency/image]")
    overage_per_gpu_hour: Money | None = Field(default=None, description="[currency/h]")

    priced = ("monthly_fee", "overage_per_image", "overage_per_gpu_hour")

    @model_validator(mode="after")
    def _allowance(self) -> SubscriptionPrice:
        if self.included_gpu_hours is not None and self.gpu_seconds_per_image is None:
            raise ValueError("`included_gpu_hours` needs `gpu_seconds_per_image`")
        if self.included_images is not None and self.included_gpu_hours is not None:
            raise ValueError("give `included_images` or `included_gpu_hours`, not both")
        return self

    def price_words(self, version: PriceVersion) -> str:
        return f"{self.monthly_fee} {version.currency}/month plan"

    def headline_price(self, version: PriceVersion) -> Decimal | None:
        return self.monthly_fee

    def follows_volume(self) -> bool:
        return True


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
#: Every component class, in the order of :data:`Component`.
COMPONENT_CLASSES: tuple[type[ComponentBase], ...] = get_args(get_args(Component)[0])
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
