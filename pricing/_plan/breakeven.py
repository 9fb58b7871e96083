"""Break-even volume: where a self-hosted set-up costs the same as a hosted offer.

Both monthly cost curves are the real ones: the hosted curve from the offer's exact prices
(volume rules included), the self-hosted curve from fleet sizing, so it climbs in steps each
time another GPU is needed. The crossing is found numerically: the curves are evaluated on a
dense geometric grid of volumes, then each change of sign is narrowed by bisection to the
whole image.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import polars as pl

from pricing._base.dates import to_date
from pricing._cards.catalog import Catalog
from pricing._dataset import DataSet, load_data_set, pick_catalog
from pricing._evidence.grades import TrustPolicy
from pricing._fx.convert import Conversion
from pricing._gpus.throughput import seconds_per_image
from pricing._plan.fx import FxPlan, fx_plan
from pricing._plan.hosted import Shape, hosted_options
from pricing._price.request import ImageRequest
from pricing._selfhost.fleet import Fleet, Service
from pricing._selfhost.gpu_cost import SECONDS_PER_MONTH, dedicated
from pricing._selfhost.terms import HostingTerms
from pricing.errors import PricingError

CostCurve = Callable[[np.ndarray], np.ndarray]  # images per month -> cost [currency/month]
GpuCostPair = tuple[np.ndarray, np.ndarray]  # (cost [currency/month], GPUs) by volume


@dataclass(frozen=True)
class BreakEven:
    """Result of :func:`break_even`.

    Attributes
    ----------
    volume : float or None  [images/month]
        Smallest monthly volume from which self-hosting costs no more than the hosted offer
        (and stays so up to ``max_volume``); None if it never does in the range.
    margin_volume : float or None  [images/month]
        The same, for self-hosting cheaper by at least ``margin`` (a fraction of the hosted
        cost).
    crossings : tuple of float
        Every volume where the two curves cross in the range (fleet steps can make several).
    self_cost, hosted_cost : float or None  [currency/month]
        Both costs at ``volume``.
    gpus : int or None
        Fleet size at ``volume``.
    curve : DataFrame
        ``images``, ``self_hosted``, ``hosted``, ``gpus`` on the grid, for charts.
    notes : tuple of str
        Why there is no break-even, and the assumptions it was computed under (last).
    hosting : HostingTerms
        The hosting terms used.
    currency : str
        ISO 4217 code of every cost (the curve's too).
    conversions : tuple of Conversion
        The exchange rates used into ``currency`` (rate, day, source), none when every price
        was in it.
    """

    volume: float | None
    margin_volume: float | None
    margin: float
    crossings: tuple[float, ...]
    self_cost: float | None
    hosted_cost: float | None
    gpus: int | None
    curve: pl.DataFrame
    notes: tuple[str, ...] = ()
    hosting: HostingTerms = field(default_factory=HostingTerms)
    currency: str = "USD"
    conversions: tuple[Conversion, ...] = ()


def solve_break_even(
    self_hosted: CostCurve,
    hosted: CostCurve,
    *,
    gpus: Callable[[np.ndarray], np.ndarray] | None = None,
    margin: float = 0.0,
    min_volume: float = 1.0,
    max_volume: float = 1e9,
    points: int = 4000,
) -> BreakEven:
    """Find where ``self_hosted(v) <= hosted(v)`` (and ``<= (1 - margin) hosted(v)``).

    Both curves map an array of monthly volumes [images] to costs [currency]. Volumes are
    whole images.
    """
    if not 0 <= margin < 1:
        raise PricingError(f"margin is a fraction of the hosted cost in [0, 1), got {margin}")
    if not 0 < min_volume < max_volume:
        raise PricingError(f"need 0 < min_volume < max_volume, got {min_volume}, {max_volume}")
    grid = np.unique(np.round(np.geomspace(min_volume, max_volume, points)))
    s = np.asarray(self_hosted(grid), dtype=np.float64)
    h = np.asarray(hosted(grid), dtype=np.float64)
    if np.isnan(s).any() or np.isnan(h).any():
        raise PricingError("a cost curve has no price at some volume; cannot solve break-even")

    def first_from(factor: float) -> tuple[float | None, list[float]]:
        diff = s - factor * h  # <= 0: self-hosting is at least as cheap
        cheaper = diff <= 1e-9
        crossings = []
        for k in np.flatnonzero(cheaper[1:] != cheaper[:-1]):
            crossings.append(_bisect(self_hosted, hosted, factor, grid[k], grid[k + 1]))
        if not cheaper[-1]:
            return None, crossings
        if cheaper.all():
            return float(grid[0]), crossings
        last_dear = int(np.flatnonzero(~cheaper)[-1])
        return _bisect(self_hosted, hosted, factor, grid[last_dear], grid[last_dear + 1]), crossings

    volume, crossings = first_from(1.0)
    margin_volume, _ = first_from(1.0 - margin) if margin else (volume, [])
    at = np.array([volume]) if volume is not None else None
    notes = []
    if volume is None:
        notes.append(
            f"self-hosting never costs less than the hosted offer up to {max_volume:,.0f} "
            "images/month"
        )
    return BreakEven(
        volume=volume,
        margin_volume=margin_volume,
        margin=margin,
        crossings=tuple(crossings),
        self_cost=float(self_hosted(at)[0]) if at is not None else None,
        hosted_cost=float(hosted(at)[0]) if at is not None else None,
        gpus=int(gpus(at)[0]) if at is not None and gpus is not None else None,
        curve=pl.DataFrame(
            {
                "images": grid,
                "self_hosted": s,
                "hosted": h,
                "gpus": gpus(grid) if gpus is not None else np.full(len(grid), None),
            },
            strict=False,
        ),
        notes=tuple(notes),
    )


def _bisect(
    self_hosted: CostCurve, hosted: CostCurve, factor: float, lo: float, hi: float
) -> float:
    """The whole volume in (lo, hi] where 'self-hosting is at least as cheap' flips."""

    def cheaper(v: float) -> bool:
        x = np.array([v])
        return bool(self_hosted(x)[0] - factor * hosted(x)[0] <= 1e-9)

    start = cheaper(lo)
    lo_i, hi_i = math.floor(lo), math.ceil(hi)
    while hi_i - lo_i > 1:
        mid = (lo_i + hi_i) // 2
        if cheaper(mid) == start:
            lo_i = mid
        else:
            hi_i = mid
    return float(hi_i)


def break_even(
    request: ImageRequest | str,
    gpu: str,
    hosted: str | float,
    *,
    gpu_hour: float | None = None,
    hosting: HostingTerms | None = None,
    margin: float = 0.0,
    as_of: date | str | None = None,
    catalog: Catalog | None = None,
    data: DataSet | None = None,
    max_volume: float = 1e9,
    evidence: TrustPolicy | str | None = None,
    currency: str | None = None,
    fx: Iterable[str] | Mapping[str, object] | None = None,
    max_fx_age_days: int = 7,
    rates: FxPlan | None = None,
) -> BreakEven:
    """Monthly volume at which a dedicated self-hosted fleet costs the same as a hosted offer.

    Parameters
    ----------
    request : ImageRequest or str
        One call of the workload: its model is the open-weights model run on the GPUs (it needs
        a throughput profile), its size, steps, operation and ``count`` (images per call) apply
        to both sides. A model id alone means one 1024 x 1024 image, generated.
    gpu : str
        A GPU offer id (``"runpod/h100-sxm-community"``: its price per GPU-hour applies) or a
        GPU type id (``"h100-sxm"``, then ``gpu_hour`` is required).
    hosted : str or float
        A hosted offer id (the same request on the offer's model, priced exactly on ``as_of``)
        or a price per image [currency/image].
    gpu_hour : float, optional  [currency/GPU-h]
        Overrides the offer's price.
    hosting : HostingTerms, optional
        Latency target, peak-to-mean, utilisation cap, licence and operations per month, and
        precision. Default ``HostingTerms()``: no latency target, flat traffic, full
        utilisation, no licence fee and no operations cost; the result's ``notes`` say so.
    margin : float
        Also report the volume where self-hosting is cheaper by this fraction.
    catalog, data : optional
        The rate cards, and the data set the GPU offers and throughput profiles come from
        (default: the bundled ``data/``); give one, or both from the same directory.
    evidence : TrustPolicy or str, optional
        Which prices of the hosted offer may be used (default: official, provider and
        third-party prices with no excluding flag); an offer priced only by excluded prices
        is refused with the reason (``"all"`` admits it).
    currency : str, optional
        ISO 4217 code of the answer (default USD, the catalog's). The GPU offer's and the
        hosted offer's prices are converted on ``as_of``: a rate in ``fx``, else the ECB
        reference rate of that day, else (after the data's last day) the latest one, a
        planning rate; ``conversions`` of the result state each. Figures you give
        (``gpu_hour``, a price per image, ``hosting``) are taken in ``currency``.
    fx : list of ``"EURUSD=1.08"`` or mapping, optional
        Your rates, used instead of the ECB's (source ``user``).
    max_fx_age_days : int  [days]
        Oldest ECB rate accepted for ``as_of`` within the data.
    rates : FxPlan, optional
        Convert with these rates instead (the first month of a simulation's, so that a
        dashboard's break-even uses the rates of its simulation); ``currency`` is theirs.

    The fleet is billed 730 h a month (8,760 h / 12). Example: one GPU at $2.69/h costs
    $1,963.70 a month, the price of 78,548 images at $0.025.
    """
    req = request if isinstance(request, ImageRequest) else ImageRequest(model=request)
    cat = pick_catalog(catalog, data)
    ds = data if data is not None else load_data_set()
    day = to_date(as_of) if as_of is not None else to_date(None)
    if rates is None:
        rates = fx_plan(
            currency or "USD", [day], fx=ds.fx, overrides=fx, max_age_days=max_fx_age_days
        )
    terms, licence_said = _terms(req.model, hosting, ds)
    gpu_type, price, gpu_said = _gpu_price(gpu, gpu_hour, ds, rates)
    self_cost, gpus, limit = _fleet_curves(req, gpu_type, price, terms, ds)
    capped: tuple[str, ...] = ()
    if limit < max_volume:
        capped = (
            f"range: up to {limit:,.0f} images a month, where the fleet would reach "
            f"{FLEET_LIMIT * 0.9:,.0f} GPUs (the sizing limit is {FLEET_LIMIT:,})",
        )
        max_volume = limit
    policy = TrustPolicy.parse(evidence)
    hosted_cost, priced_by = _hosted_curve(hosted, req, day, cat, policy, rates)
    result = solve_break_even(
        self_cost, hosted_cost, gpus=gpus, margin=margin, max_volume=max_volume
    )
    said = describe_terms(terms)
    if hosting is None:
        said += " (defaults: pass hosting=HostingTerms(...) to state them)"
    never = _never_driver(result, self_cost, hosted_cost, terms, max_volume)
    notes = (*result.notes, *never, *capped, licence_said, f"GPU: {gpu} at {gpu_said}")
    return replace(
        result,
        hosting=terms,
        notes=(*notes, priced_by, said),
        currency=rates.target,
        conversions=tuple(rates.conversions()),
    )


def _terms(model: str, hosting: HostingTerms | None, data: DataSet) -> tuple[HostingTerms, str]:
    """The hosting terms, and where the licence comes from. Terms given are used as they
    are; without them the licence is read from data/licences.toml: a free licence costs 0, and
    terms no source prices are asked for, never taken as $0."""
    known = data.licences.get(model)
    free = known is not None and known.free_commercial_use
    stated_nothing = not hosting or not (
        hosting.licence_per_month or hosting.licence_overage_per_image
    )
    if hosting is not None and not (free and stated_nothing):
        return hosting, (
            f"licence: {hosting.licence_per_month:,.2f}/month as given" + _overage_words(hosting)
        )
    free_licence(model, data)
    terms = data.licences[model]
    return hosting or HostingTerms(), (
        f"licence: {terms.licence or 'free'}, free for commercial use "
        f"(data/licences.toml, {', '.join(terms.sources)})"
    )


def free_licence(model: str, data: DataSet) -> float:
    """0.0 when ``model``'s weights are free for commercial use (data/licences.toml); else
    :class:`PricingError` asking for the licence terms (never taken as $0)."""
    terms = data.licences.get(model)
    if terms is not None and terms.free_commercial_use:
        return 0.0
    what = (
        f"{model}'s weights are under the {terms.licence}"
        if terms and terms.licence
        else f"the commercial licence terms of {model} are not in data/licences.toml"
    )
    raise PricingError(
        f"{what}; no source gives its fee, so it is not taken as $0. State the terms: "
        "hosting=HostingTerms(licence_per_month=..., licence_included_images=..., "
        "licence_overage_per_image=...) (command line: --licence, --included-images, --overage)"
    )


def _overage_words(terms: HostingTerms) -> str:
    if not terms.licence_overage_per_image:
        return ""
    included = terms.licence_included_images or 0
    return f", {terms.licence_overage_per_image:g}/image beyond {included:,.0f} images a month"


def _never_driver(
    result: BreakEven,
    self_cost: CostCurve,
    hosted_cost: CostCurve,
    terms: HostingTerms,
    max_volume: float,
) -> tuple[str, ...]:
    """When self-hosting never catches up: what keeps it dearer at the top of the range."""
    if result.volume is not None:
        return ()
    top = np.array([max_volume])
    own = float(self_cost(top)[0]) / max_volume
    hosted = float(hosted_cost(top)[0]) / max_volume
    overage = float(terms.licence_overage(top)[0]) / max_volume
    gpu = own - overage - terms.fixed_per_month / max_volume
    if overage >= hosted:
        driver = f"the licence overage alone ({overage:.4g}/image) is above the hosted price"
    elif gpu >= hosted:
        driver = f"GPU time alone ({gpu:.4g}/image at that volume) is above the hosted price"
    else:
        driver = "GPU time and licence overage together are above the hosted price"
    return (
        f"why never: at {max_volume:,.0f} images a month self-hosting costs {own:.4g}/image "
        f"against {hosted:.4g} hosted; {driver}",
    )


def _gpu_price(
    gpu: str, gpu_hour: float | None, data: DataSet, rates: FxPlan
) -> tuple[str, float, str]:
    """The GPU type of ``gpu`` (an offer id or a type id), its price [currency/GPU-h] in the
    currency of ``rates`` (an offer's converted, one given taken as in it), in words."""
    if gpu_hour is not None and (not math.isfinite(gpu_hour) or gpu_hour <= 0):
        raise PricingError(f"gpu_hour must be a price above 0 [currency/GPU-h], got {gpu_hour}")
    unit = "/GPU-hour" if rates.target == "USD" else f" {rates.target}/GPU-hour"
    if "/" in gpu:
        offer = data.gpus.offer(gpu)
        if gpu_hour is not None:
            return offer.gpu, gpu_hour, f"{gpu_hour:,.4g}{unit}"
        price = float(offer.gpu_hourly_price)
        if offer.currency == rates.target:
            return offer.gpu, price, f"{price:,.4g}{unit}"
        converted = price * rates.base(offer.currency)
        said = f"{converted:,.4g}{unit} ({price:,.4g} {offer.currency}/GPU-hour converted)"
        return offer.gpu, converted, said
    if gpu_hour is None:
        raise PricingError(
            f"{gpu!r} is a GPU type: pass gpu_hour=... [currency/GPU-h], or a GPU offer id such "
            "as 'runpod/h100-sxm-community' (see `pricing gpus list`)"
        )
    return gpu, gpu_hour, f"{gpu_hour:,.4g}{unit}"


#: The largest fleet the queueing model sizes [GPUs] (pricing._queue.mgc's max_servers).
FLEET_LIMIT = 100_000


def _fleet_curves(
    req: ImageRequest, gpu_type: str, price: float, terms: HostingTerms, data: DataSet
) -> tuple[CostCurve, CostCurve, float]:
    """Monthly cost of a dedicated fleet [currency/month] and its GPU count, by volume [images],
    and the volume at which the fleet reaches 90% of :data:`FLEET_LIMIT` [images/month].

    The cost is GPU time, busy and idle, plus the terms' fixed licence and operations costs.
    """
    per_request = req.count * seconds_per_image(
        req.model,
        gpu_type,
        width=req.width,
        height=req.height,
        steps=req.steps,
        precision=terms.precision,
        batch=req.count,
        profiles=data.throughput,
    )
    fleet = Fleet(
        service=Service(times=(per_request,), shares=(1.0,)),
        p95_target_s=math.inf if terms.p95_latency_s is None else terms.p95_latency_s,
        max_utilisation=terms.max_utilisation,
    )

    def fleet_cost(v: np.ndarray) -> GpuCostPair:
        requests = np.asarray(v, dtype=np.float64).reshape(1, -1) / req.count
        cost = dedicated(requests, terms.peak_to_mean, fleet, gpu_hour=price, gpus_per_instance=1)
        return cost.busy[0] + cost.idle[0], cost.gpus[0]

    def self_cost(v: np.ndarray) -> np.ndarray:
        total: np.ndarray = fleet_cost(v)[0] + terms.fixed_per_month + terms.licence_overage(v)
        return total

    # offered load at the peak: v / count / month_s x peak-to-mean x per-request time [GPUs]
    limit = (
        FLEET_LIMIT * 0.9 * terms.max_utilisation * SECONDS_PER_MONTH * req.count
        / (per_request * terms.peak_to_mean)
    )  # fmt: skip
    return self_cost, lambda v: fleet_cost(v)[1], limit


def _hosted_curve(
    hosted: str | float,
    req: ImageRequest,
    day: date,
    cat: Catalog,
    policy: TrustPolicy,
    rates: FxPlan,
) -> tuple[CostCurve, str]:
    """Monthly cost of the hosted side [currency/month] by volume [images]: an offer's exact
    prices for the same request on the offer's model (volume rules included), converted into
    the currency of ``rates``, or a flat price per image (in it); and where that price comes
    from, in words."""
    if not isinstance(hosted, str):
        per_image = float(hosted)
        if not math.isfinite(per_image) or per_image < 0:
            raise PricingError(
                f"hosted price per image must be a number of 0 or more, got {hosted}"
            )
        said = f"hosted side: {per_image:g} per image, as given (no source)"
        return (lambda v: np.asarray(v, dtype=np.float64) * per_image), said
    offer_model = cat.offer(hosted).model
    on_offer = req.model_copy(update={"model": offer_model})
    every_kind = ("api", "subscription", "hardware-time")  # the offer was named
    shape = [Shape(on_offer, 1.0)]
    options = hosted_options(
        shape, [offer_model], req.operation, [day], cat, policy, only={hosted}, kinds=every_kind
    )
    if not options or math.isnan(options[0].unit[0]):
        why = options[0].reason[0] if options else f"{hosted} does not serve {req.operation}"
        raise PricingError(f"cannot price {hosted}: {why}")
    option = options[0]
    said = (
        f"hosted side: {hosted} priced by source {option.source[0]} (graded {option.grade}) "
        f"under the {policy.name} evidence policy"
    )
    rate = None if option.currency == rates.target else rates.base(option.currency)

    def curve(v: np.ndarray) -> np.ndarray:
        cost = option.costs(np.asarray(v, dtype=np.float64).reshape(1, -1, 1))[0, :, 0]
        return cost if rate is None else cost * rate

    return curve, said


def describe_terms(terms: HostingTerms) -> str:
    """The assumptions of a break-even in words, e.g. for its notes and the CLI."""
    latency = (
        "no latency target"
        if terms.p95_latency_s is None
        else f"p95 latency ≤ {terms.p95_latency_s:g} s"
    )
    return (
        f"assumed: {latency}, peak-to-mean {terms.peak_to_mean:.3g}, utilisation cap "
        f"{terms.max_utilisation:.0%}, licence {terms.licence_per_month:,.2f}/month"
        f"{_overage_words(terms)}, operations {terms.ops_per_month:,.2f}/month, "
        f"precision {terms.precision or 'the profile default'}"
    )
