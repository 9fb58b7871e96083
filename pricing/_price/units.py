"""One pricing function per billing unit: a price component and a request in, line items out.

Each unit (images, input images, megapixels, GPU seconds, credits, tokens, steps, a subscription)
is a small function of one component and the :class:`UnitContext` of the call; the table
:data:`UNIT_PRICERS` picks the function by the component's class. Graduated tiers and exact
megapixels are the helpers they share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any, NamedTuple

from pricing._base.money import MILLION
from pricing._cards.components import (
    Component,
    CreditPrice,
    GpuSecondPrice,
    ImagePrice,
    InputImagePrice,
    MegapixelPrice,
    StepPrice,
    SubscriptionPrice,
    Tier,
    TokenPrice,
)
from pricing._cards.schema import Offer, PriceVersion
from pricing._price.request import ImageRequest
from pricing.errors import PriceNotFound, UnsupportedRequest

HOUR = Decimal(3600)  # [s/h]


@dataclass(frozen=True)
class LineItem:
    """One charge: ``quantity`` [unit] x ``unit_price`` [currency/unit] = ``amount`` [currency]."""

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


class UnitContext(NamedTuple):
    """What every unit sees of the call being priced."""

    request: ImageRequest
    offer: Offer
    version: PriceVersion
    bracket: str | None
    quality: str | None
    prior: int  # images already billed this month on this offer, before this call
    calls: int  # identical calls priced together (monthly totals)

    @property
    def images(self) -> int:
        return self.request.count * self.calls

    @property
    def mp_def(self) -> Decimal:
        return Decimal(self.version.megapixel)


class Charge(NamedTuple):
    """What one component adds to a quote: its line items, the extra [currency] at the top of
    a price range (``price_high``), and notes."""

    items: list[LineItem]
    high_extra: Decimal = Decimal(0)
    notes: tuple[str, ...] = ()


#: A unit's pricing function: (component, context) -> charge.
Pricer = Callable[[Any, UnitContext], Charge]


def megapixels(width: int, height: int, definition: int) -> Decimal:
    """Exact megapixels of a ``width`` x ``height`` image [MP] under a card's MP definition."""
    return Decimal(width * height) / Decimal(definition)


def tier_segments(tiers: list[Tier], start: int, n: int) -> Iterable[tuple[Tier, int, int]]:
    """Split image positions ``[start, start + n)`` over graduated tiers: (tier, first, count)."""
    end = start + n
    for i, tier in enumerate(tiers):
        lo = max(start, tier.start)
        hi = min(end, tiers[i + 1].start) if i + 1 < len(tiers) else end
        if hi > lo:
            yield tier, lo, hi - lo


def tier_for_position(tiers: list[Tier], position: int) -> Tier:
    return [t for t in tiers if t.start <= position][-1]


def price_images(comp: ImagePrice, ctx: UnitContext) -> Charge:
    """Output images: one price (with an optional top of range), or graduated tiers."""
    n = Decimal(ctx.images)
    if comp.price is not None:
        items = [LineItem("output images", n, "image", comp.price, n * comp.price)]
        extra = (comp.price_high - comp.price) * n if comp.price_high is not None else Decimal(0)
        return Charge(items, extra)
    if comp.tier_mode == "all-units":
        tier = tier_for_position(comp.tiers, ctx.prior + ctx.images - 1)
        label = f"output images (all-units tier from image {tier.start + 1:,})"
        return Charge([LineItem(label, n, "image", tier.price, n * tier.price)])
    items = [
        LineItem(
            f"output images {lo + 1:,}-{lo + k:,} of the month (tier from {tier.start + 1:,})",
            Decimal(k),
            "image",
            tier.price,
            k * tier.price,
        )
        for tier, lo, k in tier_segments(comp.tiers, ctx.prior, ctx.images)
    ]
    return Charge(items)


def price_input_images(comp: InputImagePrice, ctx: UnitContext) -> Charge:
    """Input images, per image of every call."""
    k = Decimal(len(ctx.request.input_images) * ctx.images)
    if not k:
        return Charge([])
    return Charge([LineItem("input images", k, "input image", comp.price, k * comp.price)])


def _round_mp(mp: Decimal, comp: MegapixelPrice) -> Decimal:
    if comp.rounding == "up":
        mp = mp.to_integral_value(rounding=ROUND_CEILING)
    if comp.minimum_mp is not None:
        mp = max(mp, comp.minimum_mp)
    return mp


def _round_charge(amount: Decimal, comp: MegapixelPrice) -> Decimal:
    if comp.increment is None:
        return amount
    steps = (amount / comp.increment).to_integral_value(rounding=ROUND_CEILING)
    return steps * comp.increment


def price_megapixels(comp: MegapixelPrice, ctx: UnitContext) -> Charge:
    """Output or input megapixels, rounded per the card, with an optional first-MP price."""
    n = Decimal(ctx.images)
    items: list[LineItem] = []
    if comp.applies_to == "output":
        mp = _round_mp(
            megapixels(ctx.request.width, ctx.request.height, ctx.version.megapixel), comp
        )
        if comp.first is not None:
            extra = max(Decimal(0), mp - 1)
            per_image = comp.first + extra * comp.price
            items.append(LineItem("first output megapixel", n, "image", comp.first, n * comp.first))
            if extra:
                items.append(
                    LineItem(
                        "additional output MP", n * extra, "MP", comp.price, n * extra * comp.price
                    )
                )
        else:
            per_image = mp * comp.price
            items.append(LineItem("output megapixels", n * mp, "MP", comp.price, n * per_image))
    else:
        if not ctx.request.input_images:
            return Charge([])
        mp = sum(
            (
                _round_mp(megapixels(w, h, ctx.version.megapixel), comp)
                for w, h in ctx.request.input_images
            ),
            Decimal(0),
        )
        per_image = mp * comp.price
        items.append(LineItem("input megapixels", n * mp, "MP", comp.price, n * per_image))
    rounded = _round_charge(per_image, comp)
    if rounded != per_image:
        diff = rounded - per_image
        items.append(LineItem(f"rounding up to {comp.increment}", n, "image", diff, n * diff))
    return Charge(items)


def price_gpu_seconds(comp: GpuSecondPrice, ctx: UnitContext) -> Charge:
    """GPU time: measured (``seconds=``) or estimated from the card, per call's granularity."""
    req = ctx.request
    notes: list[str] = []
    if req.seconds is not None:
        seconds = req.seconds
        label = f"GPU time ({comp.hardware})"
    elif comp.estimate is not None:
        est = comp.estimate
        seconds = est.seconds * Decimal(req.pixels) / Decimal(est.width * est.height)
        if est.steps is not None and req.steps is not None:
            seconds = seconds * Decimal(req.steps) / Decimal(est.steps)
        label = f"GPU time ({comp.hardware}, estimated from {est.source})"
        notes.append(
            f"run time estimated from {est.source}: {est.seconds} s at {est.width}x{est.height}"
            + (f", {est.steps} steps" if est.steps else "")
            + ", scaled linearly; pass seconds= for a measured figure"
        )
    else:
        raise PriceNotFound(
            f"{comp.hardware} is billed per second and the card has no run-time estimate; "
            "pass seconds= (run time per image)"
        )
    # A call's images run together; granularity and minimum apply to the call's run time.
    run = seconds * req.count
    billed = run
    if comp.granularity_s is not None:
        billed = (run / comp.granularity_s).to_integral_value(
            rounding=ROUND_CEILING
        ) * comp.granularity_s
    billed = max(billed, comp.minimum_s)
    calls = Decimal(ctx.calls)
    item = LineItem(label, calls * billed, "s", comp.price, calls * billed * comp.price)
    return Charge([item], notes=tuple(notes))


def price_credits(comp: CreditPrice, ctx: UnitContext) -> Charge:
    """Credits per image at the version's credit value."""
    value = ctx.version.credit_value
    if value is None:  # guarded by the schema; kept so a bad card can never price at $0
        raise PriceNotFound(f"version {ctx.version.version_id} has no credit_value")
    credits = comp.credits * ctx.images
    label = f"credits ({comp.credits} per image at {value} {ctx.version.currency})"
    return Charge([LineItem(label, credits, "credit", value, credits * value)])


def price_tokens(comp: TokenPrice, ctx: UnitContext) -> Charge:
    """Image output tokens (from the card's table), text and image input tokens."""
    req, offer = ctx.request, ctx.offer
    rows = [
        r
        for r in comp.output_tokens
        if r.size == req.size and (ctx.quality is None or r.quality == ctx.quality)
    ]
    if len(rows) != 1:
        sizes = sorted({r.size for r in comp.output_tokens})
        raise UnsupportedRequest(
            f"{offer.id} has no output-token count for {req.size}"
            + (f" at quality {ctx.quality}" if ctx.quality else " (pass quality=)")
            + f"; its table covers sizes {', '.join(sizes)}"
        )
    out_tokens = Decimal(rows[0].tokens * ctx.images)
    items = [
        LineItem(
            "image output tokens",
            out_tokens,
            "token",
            comp.image_output / MILLION,
            out_tokens * comp.image_output / MILLION,
        )
    ]
    calls = Decimal(ctx.calls)
    if req.prompt_tokens:
        if comp.text_input is None:
            raise PriceNotFound(f"{offer.id} has no text-input token price for the prompt")
        q = req.prompt_tokens * calls
        items.append(
            LineItem(
                "text input tokens",
                q,
                "token",
                comp.text_input / MILLION,
                q * comp.text_input / MILLION,
            )
        )
    if req.input_images:
        if req.input_image_tokens is None:
            raise PriceNotFound(
                f"{offer.id} charges input images by tokens; pass input_image_tokens= "
                "(the image-input tokens of the call)"
            )
        if comp.image_input is None:
            raise PriceNotFound(f"{offer.id} has no image-input token price")
        q = req.input_image_tokens * calls
        items.append(
            LineItem(
                "image input tokens",
                q,
                "token",
                comp.image_input / MILLION,
                q * comp.image_input / MILLION,
            )
        )
    return Charge(items)


def price_steps(comp: StepPrice, ctx: UnitContext) -> Charge:
    """Inference steps, optionally scaled by the image's area."""
    req, offer = ctx.request, ctx.offer
    steps = req.steps or comp.default_steps
    if steps is None:
        raise UnsupportedRequest(f"{offer.id} prices per inference step; pass steps=")
    per_step = comp.price / comp.per_steps
    if comp.scale_by_area:
        per_step = per_step * Decimal(req.width) / comp.reference_width
        per_step = per_step * Decimal(req.height) / comp.reference_height
    q = Decimal(steps * ctx.images)
    return Charge(
        [LineItem(f"inference steps ({steps} per image)", q, "step", per_step, q * per_step)]
    )


def price_subscription(comp: SubscriptionPrice, ctx: UnitContext) -> Charge:
    """A monthly plan fee (on the month's first call), and usage beyond the plan."""
    offer = ctx.offer
    items: list[LineItem] = []
    if ctx.prior == 0:
        items.append(
            LineItem("monthly plan fee", Decimal(1), "month", comp.monthly_fee, comp.monthly_fee)
        )
    n = ctx.images
    if comp.included_gpu_hours is not None and comp.gpu_seconds_per_image is not None:
        per = comp.gpu_seconds_per_image
        allowance = comp.included_gpu_hours * HOUR
        remaining = max(Decimal(0), allowance - per * ctx.prior)
        over_s = max(Decimal(0), per * n - remaining)
        if over_s:
            if comp.overage_per_gpu_hour is None:
                raise PriceNotFound(f"{offer.id} has no price for GPU time beyond the plan")
            hours = over_s / HOUR
            items.append(
                LineItem(
                    "GPU hours beyond the plan",
                    hours,
                    "h",
                    comp.overage_per_gpu_hour,
                    hours * comp.overage_per_gpu_hour,
                )
            )
    elif comp.included_images is not None:
        remaining_images = max(0, comp.included_images - ctx.prior)
        over = max(0, n - remaining_images)
        if over:
            if comp.overage_per_image is None:
                raise PriceNotFound(f"{offer.id} has no price for images beyond the plan")
            items.append(
                LineItem(
                    "images beyond the plan",
                    Decimal(over),
                    "image",
                    comp.overage_per_image,
                    over * comp.overage_per_image,
                )
            )
    return Charge(items)


def free_allowance(items: list[LineItem], ctx: UnitContext) -> list[LineItem]:
    """A credit for the call's images that fall within the month's free allowance, at the
    call's average usage price per image (monthly fees are not usage)."""
    free = ctx.version.free_images_per_month
    if not free:
        return []
    k = max(0, min(ctx.prior + ctx.images, free) - ctx.prior)
    if not k:
        return []
    usage = sum((i.amount for i in items if i.unit != "month"), Decimal(0))
    per_image = usage / ctx.images
    return [LineItem("free monthly allowance", Decimal(k), "image", -per_image, -k * per_image)]


#: The pricing function of each component class (one per billing unit).
UNIT_PRICERS: dict[type[Component], Pricer] = {
    ImagePrice: price_images,
    InputImagePrice: price_input_images,
    MegapixelPrice: price_megapixels,
    GpuSecondPrice: price_gpu_seconds,
    CreditPrice: price_credits,
    TokenPrice: price_tokens,
    StepPrice: price_steps,
    SubscriptionPrice: price_subscription,
}
