"""Exact (Decimal) pricing of one request under one price version.

This is the reference computation: every other path (the vectorised engine, simulations)
must agree with it. The request is checked against the offer's limits and placed in its size
bracket and quality; each matching component is priced by its billing unit
(:data:`pricing._price.units.UNIT_PRICERS`), then the free allowance, committed-use discount and
minimum monthly spend apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pricing._cards.components import When
from pricing._cards.schema import Limits, Offer, PriceVersion
from pricing._price.request import ImageRequest
from pricing._price.units import UNIT_PRICERS, LineItem, UnitContext, free_allowance, megapixels
from pricing.errors import PriceNotFound, UnsupportedRequest


@dataclass(frozen=True)
class Priced:
    items: tuple[LineItem, ...]
    total: Decimal
    total_high: Decimal | None
    notes: tuple[str, ...]


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
    bracket, quality = _bracket(request, offer, version), _quality(request, offer)
    ctx = UnitContext(request, offer, version, bracket, quality, prior, calls)
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
        charge = UNIT_PRICERS[type(comp)](comp, ctx)
        items += charge.items
        high_extra += charge.high_extra
        notes += charge.notes
    items += free_allowance(items, ctx)
    _commit_discount(items, notes, version, committed)
    total = sum((i.amount for i in items), Decimal(0))
    high = total + high_extra if high_extra else None
    minimum = version.minimum_monthly_spend
    if minimum is not None:
        if minimum_spend and total < minimum:
            top_up = minimum - total
            items.append(
                LineItem("minimum monthly spend top-up", Decimal(1), "month", top_up, top_up)
            )
            total = minimum
        elif not minimum_spend:
            notes.append(f"minimum monthly spend {minimum} {version.currency} applies per month")
        if minimum_spend and high is not None:
            high = max(high, minimum)
    return Priced(tuple(items), total, high, tuple(notes))


def _commit_discount(
    items: list[LineItem], notes: list[str], version: PriceVersion, committed: bool
) -> None:
    """Append the committed-use discount (on the sum so far) when asked, else a note of it."""
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


# --------------------------------------------------------------------------- request checks


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
    mp = megapixels(w, h, limits.megapixel or version.megapixel)
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
            f"{offer.id} prices by quality; pass quality= one of {offer.quality_words()}"
        )
    own = offer.own_quality(quality)
    if own is None:
        raise UnsupportedRequest(
            f"{offer.id} has no quality {quality!r}; use one of {offer.quality_words()}"
        )
    return own


def _matches(when: When, ctx: UnitContext) -> bool:
    return (
        (when.operation is None or when.operation == ctx.request.operation)
        and (when.bracket is None or when.bracket == ctx.bracket)
        and (when.quality is None or when.quality == ctx.quality)
        and (when.size is None or when.size == ctx.request.size)
    )
