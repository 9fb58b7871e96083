"""Hosted options of a workload segment: exact per-image prices by month, and rate-limit needs.

Each hosted option is one offer of the catalog that serves one of the segment's acceptable
models for its operation. Its price per image in a month is the exact ``quote()`` of each
resolution of the mix, on the month's first day, weighted by the mix's shares. Offers whose
price depends on the month's volume (tiers, allowances, plans, minimum spend) are priced with
``monthly_cost()`` at the month's volume instead.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np

from pricing._cards.catalog import Catalog
from pricing._cards.schema import Offer
from pricing._evidence.flags import evidence_on
from pricing._evidence.grades import Evidence, TrustPolicy
from pricing._price.request import ImageRequest
from pricing._quote.quote import monthly_cost, quote, versions_in_force
from pricing._vector.compiled import needs_volume
from pricing._workloads.model import Resolution, Segment
from pricing.errors import PricingError


@dataclass(frozen=True)
class Shape:
    """One resolution of a segment's mix: the request it makes and its share of the images."""

    request: ImageRequest
    share: float


def segment_request(
    segment: Segment, model: str, resolution: Resolution | None = None
) -> ImageRequest:
    """The request one of the segment's images is made with, for ``model``.

    ``resolution`` defaults to the segment's main one (the largest share of its mix). A request
    makes ``images_per_request`` images, as the segment's calls do.
    """
    size = resolution if resolution is not None else max(segment.resolutions, key=lambda r: r.share)
    return ImageRequest(
        model=model,
        operation=segment.operation,
        width=size.width,
        height=size.height,
        count=segment.images_per_request,
        quality=segment.quality,
        steps=segment.steps_for(model),
        input_images=_inputs(segment, size.width, size.height),
    )


def _inputs(segment: Segment, width: int, height: int) -> list[tuple[int, int]]:
    """The segment's reference images: ``input_size`` each, default the output's size."""
    if segment.input_size is None:
        return [(width, height)] * segment.input_images
    w, h = (int(x) for x in segment.input_size.split("x"))
    return [(w, h)] * segment.input_images


@dataclass
class HostedOption:
    """Per-month prices of one offer for one segment (arrays have one entry per month).

    ``unit`` is the price per image [currency/image], NaN in months where the offer cannot
    serve the segment (``reason`` says why). ``low`` and ``high`` are the same price under the
    cheapest and dearest source in force (equal to ``unit`` when the sources agree).
    """

    option: str
    offer_id: str
    provider: str
    model: str
    currency: str
    unit: np.ndarray
    low: np.ndarray
    high: np.ndarray
    reason: list[str | None]
    version: list[str | None]
    source: list[str | None]
    volume_priced: bool = False
    rate_limit: tuple[int, float | None, str] | None = None  # (requests, per seconds, scope)
    grade: str | None = None  # evidence grade of the first priced month's source
    free_tier: bool = False  # that price is a free allowance (flag free-tier)
    evidence: TrustPolicy = field(default_factory=TrustPolicy)
    _shapes: tuple[Shape, ...] = ()
    _days: tuple[date, ...] = ()
    _catalog: Catalog | None = field(default=None, repr=False)

    def month_cost(self, month: int, images: float) -> float:
        """Exact cost [currency] of ``images`` in month ``month`` (index), volume rules included."""
        if not self.volume_priced:
            return float(self.unit[month]) * images
        if math.isnan(self.unit[month]):
            return math.nan
        total = Decimal(0)
        for shape in self._shapes:
            calls = round(images * shape.share / shape.request.count)
            if calls <= 0:
                continue
            q = monthly_cost(
                shape.request,
                self.offer_id,
                requests=calls,
                as_of=self._days[month],
                catalog=self._catalog,
                evidence=self.evidence,
            )
            total += q.total
        return float(total)

    def costs(self, images: np.ndarray) -> np.ndarray:
        """Cost [currency] for an array of monthly images, shape (..., months)."""
        if not self.volume_priced:
            return np.asarray(images * self.unit, dtype=np.float64)
        out = np.empty_like(images, dtype=np.float64)
        flat_in = images.reshape(-1, images.shape[-1])
        flat_out = out.reshape(-1, images.shape[-1])
        for m in range(images.shape[-1]):
            column = flat_in[:, m]
            lo, hi = float(column.min()), float(column.max())
            if hi - lo < 1e-9 * max(hi, 1.0):
                flat_out[:, m] = self.month_cost(m, lo)
                continue
            # price on a fine grid and interpolate: exact at the grid's points
            grid = np.unique(np.geomspace(max(lo, 1.0), hi, 257))
            values = np.array([self.month_cost(m, g) for g in grid])
            flat_out[:, m] = np.interp(column, grid, values)
        return out

    def keys_needed(self, peak_requests_per_s: float, latency_s: float) -> int | None:
        """API keys (or accounts) needed for the peak request rate under the rate limit.

        A limit per period allows ``requests / per_seconds`` calls per second per key; a
        concurrency limit (no period) allows ``requests`` calls in flight, and a call is in
        flight at most ``latency_s`` (the segment's p95 target, Little's law). None: no limit
        is known.
        """
        if self.rate_limit is None:
            return None
        requests, per_seconds, _ = self.rate_limit
        if per_seconds is None:
            in_flight = peak_requests_per_s * latency_s
            return max(1, math.ceil(in_flight / requests - 1e-9))
        return max(1, math.ceil(peak_requests_per_s * per_seconds / requests - 1e-9))


def hosted_options(
    shapes: Sequence[Shape],
    models: Sequence[str],
    operation: str,
    days: Sequence[date],
    catalog: Catalog,
    evidence: TrustPolicy | None = None,
    only: set[str] | None = None,
    kinds: Collection[str] = ("api",),
) -> list[HostedOption]:
    """Every offer of ``kinds`` (see :attr:`pricing.Offer.kind`) serving one of ``models`` for
    ``operation`` (of ``only``, when given), priced for each month with the prices
    ``evidence`` allows (default policy)."""
    policy = evidence if evidence is not None else TrustPolicy()
    out = []
    for model in models:
        if model not in catalog.models:
            continue
        for offer in catalog.offers(model=model, operation=operation):
            if (only is None or offer.id in only) and offer.kind in kinds:
                out.append(_price_offer(offer, shapes, days, catalog, policy))
    return out


def _price_offer(
    offer: Offer,
    shapes: Sequence[Shape],
    days: Sequence[date],
    catalog: Catalog,
    policy: TrustPolicy,
) -> HostedOption:
    months = len(days)
    unit = np.full(months, np.nan)
    low = np.full(months, np.nan)
    high = np.full(months, np.nan)
    reason: list[str | None] = [None] * months
    version: list[str | None] = [None] * months
    source: list[str | None] = [None] * months
    volume_priced = False
    currency = "USD"
    cache: dict[tuple[str, ...], tuple[float, float, float, str, str, str] | str] = {}
    for m, day in enumerate(days):
        in_force = versions_in_force(offer, day, catalog)
        key = tuple(f"{v.effective_from}:{v.source}" for v in in_force) or (f"none:{day}",)
        if key not in cache:
            cache[key] = _mix_price(offer, shapes, day, catalog, policy)
        got = cache[key]
        if isinstance(got, str):
            reason[m] = got
            continue
        unit[m], low[m], high[m], version[m], source[m], currency = got
        volume_priced = volume_priced or any(
            needs_volume(v) or v.minimum_monthly_spend for v in in_force
        )
    limit = offer.rate_limit
    ev = _evidence(catalog, offer, version, source, days)
    return HostedOption(
        option=f"api:{offer.id}",
        offer_id=offer.id,
        provider=catalog.provider_of(offer),
        model=offer.model,
        currency=currency,
        unit=unit,
        low=low,
        high=high,
        reason=reason,
        version=version,
        source=source,
        volume_priced=volume_priced,
        rate_limit=None
        if limit is None
        else (
            limit.requests,
            None if limit.per_seconds is None else float(limit.per_seconds),
            limit.scope,
        ),
        grade=None if ev is None else ev.grade,
        free_tier=ev is not None and "free-tier" in ev.flag_names,
        evidence=policy,
        _shapes=tuple(shapes),
        _days=tuple(days),
        _catalog=catalog,
    )


def _evidence(
    catalog: Catalog,
    offer: Offer,
    version: list[str | None],
    source: list[str | None],
    days: Sequence[date],
) -> Evidence | None:
    """The evidence of the first priced month's version (None: no month is priced)."""
    first = next((m for m, v in enumerate(version) if v is not None), None)
    if first is None:
        return None
    return evidence_on(catalog, offer.id, f"{version[first]}/{source[first]}", days[first])


def _mix_price(
    offer: Offer, shapes: Sequence[Shape], day: date, catalog: Catalog, policy: TrustPolicy
) -> tuple[float, float, float, str, str, str] | str:
    """(price, low, high per image, version, source, currency) of the mix, or why not."""
    unit = low = high = 0.0
    version = source = currency = ""
    for shape in shapes:
        try:
            q = quote(shape.request, offer, as_of=day, catalog=catalog, evidence=policy)
        except PricingError as exc:
            return str(exc)
        per = shape.share / q.images
        unit += float(q.total) * per
        low += float(q.spread.low) * per
        high += float(q.spread.high) * per
        version = f"{q.effective_from.isoformat()}"
        source, currency = q.source_id, q.currency
    return unit, low, high, version, source, currency
