"""Exact (Decimal) pricing of one request under one price version.

This is the reference computation: every other path (the vectorised engine, simulations)
must agree with it. Each billing unit is a small function returning line items.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from pricing._base.money import MILLION
from pricing._cards.schema import (
    CreditPrice,
    GpuSecondPrice,
    ImagePrice,
    InputImagePrice,
    Limits,
    MegapixelPrice,
    Offer,
    PriceVersion,
    StepPrice,
    SubscriptionPrice,
    Tier,
    TokenPrice,
    When,
)
from pricing._quote.request import ImageRequest
from pricing.errors import PriceNotFound, UnsupportedRequest

HOUR = Decimal(3600)


@dataclass(frozen=True)
class LineItem:
    """One charge: ``quantity`` [unit] x ``unit_price`` [currency/unit] = ``amount`` [currency]."""

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Priced:
    items: tuple[LineItem, ...]
    total: Decimal
    total_high: Decimal | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Context:
    request: ImageRequest
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


def price_version(
    request: ImageRequest,
    offer: Offer,
    version: PriceVersion,
    *,
    prior: int = 0,
    calls: int = 1,
    committed: bool = False,
    minimum_spend: bool = False,
) -> Priced:
    """Price ``calls`` identical requests under ``version``, after ``prior`` images this month.

    ``minimum_spend`` tops the total up to the version's minimum monthly spend (for a whole
    month priced at once).
    """
    check_limits(request, offer, version)
    ctx = _Context(
        request, version, _bracket(request, offer, version), _quality(request, offer), prior, calls
    )
    matching = [c for c in version.components if _matches(c.when, ctx)]
    if not matching:
        raise PriceNotFound(
            f"no price component of {offer.id} (version {version.version_id}) applies to "
            f"{request.operation} {request.size}"
            + (f" quality {ctx.quality}" if ctx.quality else "")
            + (f" bracket {ctx.bracket}" if ctx.bracket else "")
        )
    items: list[LineItem] = []
    high_extra = Decimal(0)
    notes: list[str] = []
    for comp in matching:
        if isinstance(comp, ImagePrice):
            new, extra = _image(comp, ctx)
            items += new
            high_extra += extra
        elif isinstance(comp, InputImagePrice):
            items += _input_image(comp, ctx)
        elif isinstance(comp, MegapixelPrice):
            items += _megapixel(comp, ctx)
        elif isinstance(comp, GpuSecondPrice):
            new_items, note = _gpu_seconds(comp, ctx)
            items += new_items
            notes += note
        elif isinstance(comp, CreditPrice):
            items += _credits(comp, ctx)
        elif isinstance(comp, TokenPrice):
            items += _tokens(comp, ctx, offer)
        elif isinstance(comp, StepPrice):
            items += _steps(comp, ctx, offer)
        elif isinstance(comp, SubscriptionPrice):
            items += _subscription(comp, ctx, offer)
    items += _free_allowance(items, ctx)
    if committed:
        if version.committed_use_discount is None:
            notes.append("no committed-use discount on this price version")
        else:
            base = sum((i.amount for i in items), Decimal(0))
            rate = version.committed_use_discount
            items.append(LineItem("committed-use discount", base, "currency", -rate, -base * rate))
    elif version.committed_use_discount is not None:
        notes.append(
            f"a committed-use discount of {version.committed_use_discount:.0%} is available"
        )
    total = sum((i.amount for i in items), Decimal(0))
    high = total + high_extra if high_extra else None
    minimum = version.minimum_monthly_spend
    if minimum is not None:
        if minimum_spend and total < minimum:
            items.append(
                LineItem(
                    "minimum monthly spend top-up",
                    Decimal(1),
                    "month",
                    minimum - total,
                    minimum - total,
                )
            )
            total = minimum
        elif not minimum_spend:
            notes.append(f"minimum monthly spend {minimum} {version.currency} applies per month")
        if minimum_spend and high is not None:
            high = max(high, minimum)
    return Priced(tuple(items), total, high, tuple(notes))


# --------------------------------------------------------------------------- request checks


def megapixels(width: int, height: int, definition: int) -> Decimal:
    """Exact megapixels of a ``width`` x ``height`` image [MP] under a card's MP definition."""
    return Decimal(width * height) / Decimal(definition)


def check_limits(request: ImageRequest, offer: Offer, version: PriceVersion) -> None:
    """Raise UnsupportedRequest naming the limit a request breaks."""
    if request.operation not in offer.operations:
        raise UnsupportedRequest(
            f"{offer.id} does not serve operation {request.operation!r}; "
            f"it serves {', '.join(offer.operations)}"
        )
    limits: Limits | None = version.limits or offer.limits
    if limits is None:
        return
    w, h = request.width, request.height
    mp = megapixels(w, h, version.megapixel)
    if limits.sizes is not None and request.size not in limits.sizes:
        raise UnsupportedRequest(
            f"{offer.id} accepts only sizes {', '.join(limits.sizes)}; got {request.size}"
        )
    if limits.max_megapixels is not None and mp > limits.max_megapixels:
        raise UnsupportedRequest(
            f"{request.size} is {mp:.2f} MP; {offer.id} allows at most {limits.max_megapixels} MP"
        )
    if limits.max_side is not None and max(w, h) > limits.max_side:
        raise UnsupportedRequest(f"{offer.id} allows sides up to {limits.max_side} px")
    if limits.min_side is not None and min(w, h) < limits.min_side:
        raise UnsupportedRequest(f"{offer.id} needs sides of at least {limits.min_side} px")
    if limits.multiple_of is not None and (w % limits.multiple_of or h % limits.multiple_of):
        raise UnsupportedRequest(
            f"{offer.id} needs width and height in multiples of {limits.multiple_of} px"
        )
    n_inputs = len(request.input_images)
    if limits.max_input_images is not None and n_inputs > limits.max_input_images:
        raise UnsupportedRequest(
            f"{offer.id} takes at most {limits.max_input_images} input images; got {n_inputs}"
        )
    if request.steps is not None:
        if limits.min_steps is not None and request.steps < limits.min_steps:
            raise UnsupportedRequest(f"{offer.id} needs at least {limits.min_steps} steps")
        if limits.max_steps is not None and request.steps > limits.max_steps:
            raise UnsupportedRequest(f"{offer.id} allows at most {limits.max_steps} steps")


def _bracket(request: ImageRequest, offer: Offer, version: PriceVersion) -> str | None:
    if not offer.brackets:
        return None
    mp = megapixels(request.width, request.height, version.megapixel)
    for b in offer.brackets:
        if (b.max_side is None or max(request.width, request.height) <= b.max_side) and (
            b.max_megapixels is None or mp <= b.max_megapixels
        ):
            return b.name
    raise UnsupportedRequest(
        f"{request.size} is larger than every size bracket of {offer.id} "
        f"({', '.join(b.name for b in offer.brackets)})"
    )


def _quality(request: ImageRequest, offer: Offer) -> str | None:
    if not offer.qualities:
        return request.quality
    quality = request.quality or offer.default_quality
    if quality is None:
        raise UnsupportedRequest(
            f"{offer.id} prices by quality; pass quality= one of {', '.join(offer.qualities)}"
        )
    if quality not in offer.qualities:
        raise UnsupportedRequest(
            f"{offer.id} has no quality {quality!r}; use one of {', '.join(offer.qualities)}"
        )
    return quality


def _matches(when: When, ctx: _Context) -> bool:
    return (
        (when.operation is None or when.operation == ctx.request.operation)
        and (when.bracket is None or when.bracket == ctx.bracket)
        and (when.quality is None or when.quality == ctx.quality)
        and (when.size is None or when.size == ctx.request.size)
    )


# --------------------------------------------------------------------------- units


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


def _image(comp: ImagePrice, ctx: _Context) -> tuple[list[LineItem], Decimal]:
    n = Decimal(ctx.images)
    if comp.price is not None:
        items = [LineItem("output images", n, "image", comp.price, n * comp.price)]
        extra = (comp.price_high - comp.price) * n if comp.price_high is not None else Decimal(0)
        return items, extra
    if comp.tier_mode == "all-units":
        tier = tier_for_position(comp.tiers, ctx.prior + ctx.images - 1)
        label = f"output images (all-units tier from image {tier.start + 1:,})"
        return [LineItem(label, n, "image", tier.price, n * tier.price)], Decimal(0)
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
    return items, Decimal(0)


def _input_image(comp: InputImagePrice, ctx: _Context) -> list[LineItem]:
    k = Decimal(len(ctx.request.input_images) * ctx.images)
    if not k:
        return []
    return [LineItem("input images", k, "input image", comp.price, k * comp.price)]


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


def _megapixel(comp: MegapixelPrice, ctx: _Context) -> list[LineItem]:
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
            return []
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
    return items


def _gpu_seconds(comp: GpuSecondPrice, ctx: _Context) -> tuple[list[LineItem], list[str]]:
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
    return [LineItem(label, calls * billed, "s", comp.price, calls * billed * comp.price)], notes


def _credits(comp: CreditPrice, ctx: _Context) -> list[LineItem]:
    value = ctx.version.credit_value
    if value is None:  # guarded by the schema; kept so a bad card can never price at $0
        raise PriceNotFound(f"version {ctx.version.version_id} has no credit_value")
    credits = comp.credits * ctx.images
    return [
        LineItem(
            f"credits ({comp.credits} per image at {value} {ctx.version.currency})",
            credits,
            "credit",
            value,
            credits * value,
        )
    ]


def _tokens(comp: TokenPrice, ctx: _Context, offer: Offer) -> list[LineItem]:
    req = ctx.request
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
    return items


def _steps(comp: StepPrice, ctx: _Context, offer: Offer) -> list[LineItem]:
    req = ctx.request
    steps = req.steps or comp.default_steps
    if steps is None:
        raise UnsupportedRequest(f"{offer.id} prices per inference step; pass steps=")
    per_step = comp.price / comp.per_steps
    if comp.scale_by_area:
        per_step = per_step * Decimal(req.width) / comp.reference_width
        per_step = per_step * Decimal(req.height) / comp.reference_height
    q = Decimal(steps * ctx.images)
    return [LineItem(f"inference steps ({steps} per image)", q, "step", per_step, q * per_step)]


def _subscription(comp: SubscriptionPrice, ctx: _Context, offer: Offer) -> list[LineItem]:
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
    return items


def _free_allowance(items: list[LineItem], ctx: _Context) -> list[LineItem]:
    free = ctx.version.free_images_per_month
    if not free:
        return []
    k = max(0, min(ctx.prior + ctx.images, free) - ctx.prior)
    if not k:
        return []
    usage = sum((i.amount for i in items if i.unit != "month"), Decimal(0))
    per_image = usage / ctx.images
    return [LineItem("free monthly allowance", Decimal(k), "image", -per_image, -k * per_image)]
