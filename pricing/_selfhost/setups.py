"""Self-hosted set-ups of a workload segment: which model runs on which GPU offer, how fast,
under which licence.

A set-up exists for an open-weights model of the segment on a GPU offer when a throughput
profile exists for that model and GPU and the model fits the GPU's memory (the fastest such
precision is used). Rented instances give a dedicated and an autoscaled set-up, serverless
offers a serverless one, a provider's per-second deployment hardware (Replicate) a deployment
one, owned hardware a dedicated one (when the workload states the hosting cost, which no
source gives).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from difflib import get_close_matches
from typing import Literal

from pricing._cards.catalog import Catalog
from pricing._dataset import DataSet
from pricing._evidence.gpus import gpu_offer_evidence
from pricing._evidence.grades import Evidence, TrustPolicy
from pricing._gpus.gpus import GpuData
from pricing._gpus.licences import ModelLicence
from pricing._gpus.offers import GpuOffer
from pricing._gpus.profiles import LOSSLESS
from pricing._gpus.throughput import fits, seconds_per_image
from pricing._selfhost.fleet import Service
from pricing._workloads.model import Segment, Workload, central
from pricing.errors import PricingError

#: How a self-hosted option runs; simulations add "api" for hosted offers.
DeploymentMode = Literal["dedicated", "autoscaled", "serverless", "deployment", "owned"]

#: GPU pricing categories used when the workload does not choose: capacity that can serve
#: production traffic on demand. Spot, marketplace statistics and capacity blocks are left
#: out unless asked for (interruptible, not an offer, or booked for fixed windows).
DEFAULT_CATEGORIES = (
    "on-demand",
    "community",
    "secure",
    "reserved-1y",
    "reserved-3y",
    "serverless",
    "serverless-active",
    "deployment",
)
SERVERLESS = ("serverless",)
#: GPU offers bought as a provider-managed deployment of your own model (Replicate's
#: hardware): billed per second while instances are online, set-up and idle included.
DEPLOYMENT = ("deployment",)


@dataclass(frozen=True)
class Setup:
    """One self-hosted set-up for one segment: model x GPU offer x deployment mode.

    ``licence`` is ``"free"`` (commercial use needs no paid licence), ``"bundled"`` (terms
    from data/licences.toml), ``"workload"`` (the workload's ``self_hosting.licence``) or
    ``None`` when the terms are unknown: the set-up then has no cost (never $0) and
    ``licence_reason`` says what to add.
    """

    option: str
    mode: DeploymentMode
    model: str
    gpu: str
    offer_id: str
    provider: str
    category: str
    precision: str
    gpus_per_instance: int
    gpu_hour: float  # [currency/GPU-h], the newest figure of the offer
    granularity_s: float
    service: Service
    source: str
    licence: Literal["free", "bundled", "workload"] | None
    licence_terms: ModelLicence | None = None
    licence_reason: str | None = None
    #: [currency/GPU-h] the cheapest and dearest source's figure for the same instance
    #: (:func:`source_range`); both ``gpu_hour`` when the sources agree or there is one.
    gpu_hour_low: float | None = None
    gpu_hour_high: float | None = None
    #: evidence grade of the GPU price's source (None: owned hardware, a stated assumption)
    grade: str | None = None
    #: currency of ``gpu_hour`` (the GPU offer's, or the owned hardware's), ISO 4217
    currency: str = "USD"
    #: the part of an owned GPU's ``gpu_hour`` that is the workload's hosting cost, in the
    #: workload's currency [currency/GPU-h]; 0 for a rented GPU
    hosting_hour: float = 0.0

    @property
    def gpu_hour_range(self) -> tuple[float, float]:
        """(cheapest, dearest) GPU-hour price across sources [currency/GPU-h]."""
        low = self.gpu_hour if self.gpu_hour_low is None else self.gpu_hour_low
        high = self.gpu_hour if self.gpu_hour_high is None else self.gpu_hour_high
        return low, high


def setups(
    wl: Workload,
    seg: Segment,
    data: DataSet,
    catalog: Catalog,
    *,
    gpus: Sequence[str] | None = None,
    modes: Sequence[str] = ("dedicated", "autoscaled", "serverless", "deployment", "owned"),
    notes: list[str] | None = None,
    trust: GpuTrust | None = None,
) -> list[Setup]:
    """Every self-hosted set-up of ``seg`` (see the module docstring); with ``trust``, only on
    GPU offers its policy allows (the others are recorded in ``trust.left_out``)."""
    notes = notes if notes is not None else []
    sh = wl.self_hosting
    wanted = list(gpus) if gpus is not None else (sh.gpus if sh and sh.gpus else None)
    _check_gpus(wanted, data.gpus)
    categories = tuple(sh.categories) if sh and sh.categories else DEFAULT_CATEGORIES
    out: list[Setup] = []
    for model in seg.models:
        info = catalog.models.get(model)
        if info is None or not info.open_weights or seg.operation not in info.operations:
            continue
        licence, terms, reason = _licence(model, wl, data)
        for gpu, precision, service in _services(model, seg, data, _allowed(wl)):
            offers = [
                o
                for o in current_offers(data.gpus)
                if o.gpu == gpu
                and o.category in categories
                and (wanted is None or gpu in wanted or o.id in wanted)
            ]
            for offer in _trusted_offers(offers, catalog, trust, model):
                low, high = source_range(data.gpus, offer)
                for mode in _modes(offer, modes):
                    out.append(
                        Setup(
                            option=f"{mode}:{offer.id}:{model}{_label(precision)}",
                            mode=mode,
                            model=model,
                            gpu=gpu,
                            offer_id=offer.id,
                            provider=offer.provider,
                            category=offer.category,
                            precision=precision,
                            gpus_per_instance=offer.gpus,
                            gpu_hour=float(offer.gpu_hourly_price),
                            granularity_s=float(offer.billing_granularity_s),
                            service=service,
                            source=offer.source,
                            licence=licence,
                            licence_terms=terms,
                            licence_reason=reason,
                            gpu_hour_low=low,
                            gpu_hour_high=high,
                            grade=_grade(catalog, offer, trust),
                            currency=offer.currency,
                        )
                    )
            if "owned" in modes and (wanted is None or gpu in wanted):
                out += _owned(
                    wl, model, gpu, precision, service, data, licence, terms, reason, notes
                )
    return out


def _check_gpus(wanted: Sequence[str] | None, data: GpuData) -> None:
    """Refuse a GPU name that is neither a GPU type nor a GPU offer id (it would silently
    leave every self-hosted option out), suggesting the closest known names."""
    known = set(data.gpus) | {o.id for o in data.offers} | {o.id for o in data.owned}
    unknown = [g for g in wanted or () if g not in known]
    if unknown:
        close = sorted({c for g in unknown for c in get_close_matches(g, known, n=3)})
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise PricingError(
            f"unknown GPU {', '.join(map(repr, unknown))}: {hint}give GPU type ids "
            "(data/gpus/gpus.toml, e.g. h100-sxm) or GPU offer ids (data/gpus/offers.toml)"
        )


def _allowed(wl: Workload) -> frozenset[str]:
    """The precisions a workload's set-ups may run at: lossless, plus those it accepts."""
    sh = wl.self_hosting
    return LOSSLESS | frozenset(sh.precisions if sh else ())


def _label(precision: str) -> str:
    """An option id's precision suffix: none for the published weights, ``@fp8-compiled`` for
    a quantised model, so a plan never rests on one unannounced."""
    return "" if precision in LOSSLESS else f"@{precision}"


def current_offers(data: GpuData) -> list[GpuOffer]:
    """The latest figure of each instance (provider, sku, GPUs, region, category).

    Older figures of the same instance (an earlier price list, another source's date) stay in
    the data as history; a simulation prices with the newest.
    """
    latest: dict[tuple[object, ...], GpuOffer] = {}
    for o in data.offers:
        key = _instance(o)
        if key not in latest or o.effective > latest[key].effective:
            latest[key] = o
    return sorted(latest.values(), key=lambda o: o.id)


def source_range(data: GpuData, offer: GpuOffer) -> tuple[float, float]:
    """Cheapest and dearest GPU-hour price of ``offer``'s instance across its sources.

    Every source that gives a figure for the same instance (provider, sku, GPUs, region,
    category) counts with its newest figure; an older figure of the same source is a price
    it has since changed, not a disagreement. [currency/GPU-h]
    """
    newest: dict[str, GpuOffer] = {}
    for o in data.offers:
        same = _instance(o) == _instance(offer)
        if same and (o.source not in newest or o.effective > newest[o.source].effective):
            newest[o.source] = o
    prices = [float(o.gpu_hourly_price) for o in newest.values()]
    return min(prices), max(prices)


def _instance(o: GpuOffer) -> tuple[object, ...]:
    return (o.provider, o.sku, o.gpu, o.gpus, o.region, o.category)


def _modes(offer: GpuOffer, modes: Sequence[str]) -> list[DeploymentMode]:
    if offer.category in SERVERLESS:
        return ["serverless"] if "serverless" in modes else []
    if offer.category in DEPLOYMENT:
        return ["deployment"] if "deployment" in modes else []
    chosen: list[DeploymentMode] = []
    if "dedicated" in modes:
        chosen.append("dedicated")
    if "autoscaled" in modes and offer.category != "serverless-active":
        chosen.append("autoscaled")
    return chosen


def _services(
    model: str,
    seg: Segment,
    data: DataSet,
    allowed: frozenset[str] = LOSSLESS,
    why: list[str] | None = None,
) -> list[tuple[str, str, Service]]:
    """(gpu, precision, service time of the mix) for each GPU the model can run on, at the
    ``allowed`` precisions (default lossless: the published weights); ``why`` collects what
    kept a profile from pricing the mix."""
    by_gpu: dict[str, tuple[str, Service]] = {}
    count = seg.images_per_request
    # an edit that states no input images is made from one (as its hosted prices are)
    inputs = seg.input_images or (1 if seg.operation == "edit" else 0)
    for profile in data.throughput.for_model(model):
        gpu, precision = profile.gpu, profile.precision
        if precision not in allowed:
            continue
        try:
            if not fits(model, gpu, precision, profiles=data.throughput):
                continue
            batch = _batch(model, gpu, precision, count, data)
            times = tuple(
                seconds_per_image(
                    model,
                    gpu,
                    width=r.width,
                    height=r.height,
                    steps=seg.steps_for(model),
                    precision=precision,
                    batch=batch,
                    inputs=inputs,
                    profiles=data.throughput,
                )
                * count
                for r in seg.resolutions
            )
        except PricingError as exc:  # e.g. a size the model does not make
            if why is not None and str(exc) not in why:
                why.append(str(exc))
            continue
        service = Service(times=times, shares=tuple(r.share for r in seg.resolutions))
        if gpu not in by_gpu or service.mean < by_gpu[gpu][1].mean:
            by_gpu[gpu] = (precision, service)
    return [(gpu, p, s) for gpu, (p, s) in sorted(by_gpu.items())]


def _batch(model: str, gpu: str, precision: str, count: int, data: DataSet) -> int:
    """Run a request's images as one batch when the memory for it is known to fit, else 1."""
    if count == 1:
        return 1
    try:
        return count if fits(model, gpu, precision, count, profiles=data.throughput) else 1
    except PricingError:  # memory at that batch size is not in the sources
        return 1


def _licence(
    model: str, wl: Workload, data: DataSet
) -> tuple[Literal["free", "bundled", "workload"] | None, ModelLicence | None, str | None]:
    terms = data.licences.get(model)
    if terms is not None and terms.free_commercial_use is True:
        return "free", terms, None
    if wl.self_hosting is not None and wl.self_hosting.licence is not None:
        return "workload", terms, None
    if terms is not None and terms.fee_known:
        return "bundled", terms, None
    name = f" ({terms.licence})" if terms is not None and terms.licence else ""
    return (
        None,
        terms,
        f"licence terms for self-hosting {model}{name} are not in the sources; add "
        "[self_hosting.licence] (monthly_fee, included_images, overage_per_image) to the workload",
    )


def _owned(
    wl: Workload,
    model: str,
    gpu: str,
    precision: str,
    service: Service,
    data: DataSet,
    licence: Literal["free", "bundled", "workload"] | None,
    terms: ModelLicence | None,
    reason: str | None,
    notes: list[str],
) -> list[Setup]:
    sh = wl.self_hosting
    owned = [o for o in data.gpus.owned if o.gpu == gpu]
    if not owned:
        return []
    hosting = sh.owned_hosting_per_month if sh is not None else None
    if hosting is None:
        notes.append(
            "owned hardware is left out: no source gives a hosting cost; set "
            "self_hosting.owned_hosting_per_month in the workload to include it"
        )
        return []
    out = []
    for o in owned:
        hourly = o.hourly_cost(1.0, hosting_per_month=Decimal(str(central(hosting))))
        hardware = o.hourly_cost(1.0, hosting_per_month=Decimal(0))
        out.append(
            Setup(
                option=f"owned:{o.id}:{model}{_label(precision)}",
                mode="owned",
                model=model,
                gpu=gpu,
                offer_id=o.id,
                provider="owned",
                category="owned",
                precision=precision,
                gpus_per_instance=1,
                gpu_hour=float(hourly),
                granularity_s=3600.0,
                service=service,
                source=o.purchase_source,
                licence=licence,
                licence_terms=terms,
                licence_reason=reason,
                currency=o.currency,
                hosting_hour=float(hourly - hardware),
            )
        )
    return out


@dataclass
class GpuTrust:
    """The trust policy GPU prices are chosen under, the day it judges on, and the GPU offers
    it left out (with the model they would have served and why)."""

    policy: TrustPolicy
    day: date
    left_out: list[tuple[GpuOffer, str, Evidence]] = field(default_factory=list)


def _trusted_offers(
    offers: list[GpuOffer], catalog: Catalog, trust: GpuTrust | None, model: str
) -> list[GpuOffer]:
    """``offers`` the policy allows; the rest go to ``trust.left_out`` (once per model)."""
    if trust is None:
        return offers
    kept = []
    for o in offers:
        ev = gpu_offer_evidence(o, catalog.sources.get(o.source), trust.day)
        if trust.policy.allows(ev):
            kept.append(o)
        elif not any(x.id == o.id and m == model for x, m, _ in trust.left_out):
            trust.left_out.append((o, model, ev))
    return kept


def _grade(catalog: Catalog, offer: GpuOffer, trust: GpuTrust | None) -> str:
    """The evidence grade of a GPU offer's price."""
    day = trust.day if trust is not None else offer.effective
    return gpu_offer_evidence(offer, catalog.sources.get(offer.source), day).grade


def no_setup_reason(
    wl: Workload,
    seg: Segment,
    data: DataSet,
    catalog: Catalog,
    gpus: Sequence[str] | None = None,
) -> str:
    """Why ``seg`` has no self-hosted set-up, model by model: closed weights, no throughput
    profile, a profile that cannot price the segment's sizes, or no GPU offer to run it on."""
    reasons = []
    for model in seg.models:
        info = catalog.models.get(model)
        if info is None or not info.open_weights:
            reasons.append(f"{model}: closed weights")
            continue
        if seg.operation not in info.operations:
            reasons.append(f"{model}: does not {seg.operation} (data/models.toml)")
            continue
        profiles = data.throughput.for_model(model)
        if not profiles:
            reasons.append(f"{model}: no throughput profile in data/throughput.toml")
            continue
        why: list[str] = []
        if not _services(model, seg, data, _allowed(wl), why):
            sizes = ", ".join(f"{r.width}x{r.height}" for r in seg.resolutions)
            lossy = sorted({p.precision for p in profiles} - _allowed(wl))
            extra = (
                f"; quantised profiles ({', '.join(lossy)}) need self_hosting.precisions"
                if lossy
                else ""
            )
            detail = why[0] if why else "no lossless profile or memory evidence for it"
            reasons.append(
                f"{model}: its throughput profiles cannot price {seg.operation} at {sizes} "
                f"({detail}{extra})"
            )
            continue
        reasons.append(f"{model}: {_no_offer_reason(model, seg, data, wl, gpus)}")
    return "; ".join(reasons) or "the workload lists no model"


def _no_offer_reason(
    model: str, seg: Segment, data: DataSet, wl: Workload, gpus: Sequence[str] | None
) -> str:
    """Why a model whose profiles can price the segment still has no set-up: the GPUs it is
    profiled on at the workload's precisions are not in its ``gpus`` list, or no offer of
    them is in its categories and trusted; GPUs profiled only at other precisions are named."""
    sh = wl.self_hosting
    usable = sorted(g for g, _, _ in _services(model, seg, data, _allowed(wl)))
    quantised = sorted(
        {p.gpu for p in data.throughput.for_model(model)} - set(usable)
    )  # profiled only at precisions the workload does not accept
    extra = (
        f"; on {', '.join(quantised)} only quantised (add the precision to "
        "self_hosting.precisions to include it)"
        if quantised
        else ""
    )
    wanted = list(gpus) if gpus is not None else (sh.gpus if sh is not None and sh.gpus else None)
    named = "the GPUs asked for" if gpus is not None else "self_hosting.gpus"
    offers = {o.id: o.gpu for o in data.gpus.offers}
    if wanted is not None and not set(usable) & {offers.get(g, g) for g in wanted}:
        return (
            f"profiled on {', '.join(usable)}, none of which {named} lists "
            f"({', '.join(wanted)}){extra}"
        )
    categories = ", ".join(sh.categories) if sh and sh.categories else "the default ones"
    return (
        f"no GPU offer of {', '.join(usable)} in {categories} that the workload allows and the "
        f"evidence policy trusts{extra}"
    )
