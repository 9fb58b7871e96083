"""Monthly cost of every option of one workload segment, for many samples at once.

:func:`evaluate` turns the values of the workload's inputs (:class:`Inputs`: one value per
sample for the uncertain ones, the centre for the others) into cost arrays of shape
(samples, months) for each hosted offer and self-hosted set-up of a segment
(:class:`SegmentRun`), split into line items. :mod:`pricing._plan.simulate` calls it once for the
base case (one sample), once for a Monte Carlo run and once for the sensitivity table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from pricing._plan.fleets import (
    Demands,
    Load,
    Member,
    fleet_reachable,
    own_load,
    pooled_load,
)
from pricing._plan.fx import FxPlan
from pricing._plan.hosted import HostedOption
from pricing._plan.inputs import Inputs
from pricing._selfhost.gpu_cost import (
    HOURS_PER_MONTH,
    SECONDS_PER_MONTH,
    SPARE_ITEM,
    GpuCost,
    autoscaled,
    dedicated,
    serverless,
)
from pricing._selfhost.setups import Setup
from pricing._workloads.model import Deployment, Segment, Workload, central
from pricing.errors import PricingError

#: Defaults when the workload does not say (documented in the README and the workload schema).
DEFAULT_STARTUP_S = 120.0
DEFAULT_COLD_START_S = 15.0
DEFAULT_IDLE_S = 5.0  # RunPod serverless' default idle window (price-facts B2)
#: How long a hosted call stays in flight without a latency target [s]: the usual client
#: timeout of image APIs.
DEFAULT_CALL_S = 60.0


@dataclass
class Costs:
    """Costs of one option: arrays of shape (samples, months)."""

    kind: str
    mode: str
    images: np.ndarray
    items: dict[str, np.ndarray]  # [currency] per line item
    feasible: np.ndarray
    reasons: list[str | None]
    keys: list[int | None]
    gpus: np.ndarray | None = None
    utilisation: np.ndarray | None = None
    #: line item -> how the segment's share of it was found, where it is shared
    allocation: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> np.ndarray:
        return np.asarray(sum(self.items.values()), dtype=np.float64)


@dataclass
class SegmentRun:
    """One segment of the workload with the options that can serve it."""

    index: int
    segment: Segment
    hosted: list[HostedOption]
    selfhosted: list[Setup]
    #: option id -> the segments sharing its fleet (:func:`pricing._plan.fleets.shared_fleets`)
    shared: dict[str, tuple[Member, ...]] = field(default_factory=dict)
    #: how the workload's and the catalog's currencies become the plan's (None: all in it)
    fx: FxPlan | None = None

    def rate(self, currency: str, inputs: Inputs) -> np.ndarray | None:
        """[plan currency/currency] per sample and month; None when nothing is converted."""
        return None if self.fx is None else self.fx.factor(currency, inputs)

    @property
    def options(self) -> list[str]:
        return [o.option for o in self.hosted] + [o.option for o in self.selfhosted]

    def spread_keys(self, only: set[str]) -> set[str]:
        """Keys of the prices of options in ``only`` whose sources disagree (see Inputs)."""
        keys = {h.option for h in self.hosted if h.option in only and np.any(h.high > h.low)}
        for s in self.selfhosted:
            low, high = s.gpu_hour_range
            if s.option in only and high > low:
                keys.add(f"gpu:{s.offer_id}")
        return keys


def evaluate(
    run: SegmentRun, wl: Workload, inputs: Inputs, only: set[str] | None = None
) -> dict[str, Costs]:
    """Cost arrays (samples, months) of every option of the segment under ``inputs``.

    ``only``: the option ids to evaluate (default: all).
    """
    seg, i = run.segment, run.index
    demands = Demands(wl, inputs)
    images, _, ratio, _ = demands.of(i)
    peak_rate = float(np.max(images / seg.images_per_request)) / (HOURS_PER_MONTH * 3600)
    peak_rate *= float(np.max(ratio))
    # a call stays in flight at most its p95 target (Little's law)
    latency = central(seg.p95_latency_s) if seg.p95_latency_s is not None else DEFAULT_CALL_S
    out = {
        h.option: _hosted_costs(
            h, images, (peak_rate, latency), inputs, run.rate(h.currency, inputs)
        )
        for h in run.hosted
        if only is None or h.option in only
    }
    if not run.selfhosted:
        return out
    sh = wl.self_hosting
    util = inputs.get(("self_hosting", "max_utilisation"), sh.max_utilisation) if sh else 1.0
    total, share = _workload_images(demands, i)
    own = run.rate(wl.currency, inputs)
    fixed = {name: converted(v, own) * share for name, v in _fixed_costs(wl, inputs).items()}
    for s in run.selfhosted:
        if only is not None and s.option not in only:
            continue
        gpu, allocation = _fleet_cost(s, run, demands, util)
        gpu = _gpu_in_plan_currency(gpu, s, run, inputs, own)
        licence = run.rate(_licence_currency(s, wl), inputs)
        costs = _self_hosted_costs(s, wl, inputs, (images, total, share), gpu, fixed, licence)
        costs.allocation.update(allocation)
        if len(wl.segments) > 1:
            costs.allocation.update(dict.fromkeys((*fixed, "licence"), FIXED_ALLOCATION))
        out[s.option] = costs
    return out


#: How a workload's fixed self-hosting costs are allocated to its segments (line items).
FIXED_ALLOCATION = "the workload's, paid once; this segment's share of its images"


def converted(value: np.ndarray | float, rate: np.ndarray | None) -> np.ndarray:
    """``value`` times ``rate`` (samples, months); ``value`` itself when there is no rate."""
    return np.asarray(value if rate is None else value * rate, dtype=np.float64)


def _gpu_in_plan_currency(
    gpu: GpuCost, s: Setup, run: SegmentRun, inputs: Inputs, own: np.ndarray | None
) -> GpuCost:
    """The GPU cost in the plan's currency: the GPU price is in the offer's currency; an owned
    GPU's price also holds the workload's hosting cost, in the workload's currency (``own``).
    GPU cost is proportional to the GPU price, so each part is converted in proportion."""
    rate = run.rate(s.currency, inputs)
    if s.hosting_hour and (rate is not None or own is not None):
        hardware = s.gpu_hour - s.hosting_hour
        rate = (converted(hardware, rate) + converted(s.hosting_hour, own)) / s.gpu_hour
    if rate is None:
        return gpu
    return replace(
        gpu,
        busy=gpu.busy * rate,
        idle=gpu.idle * rate,
        spare=None if gpu.spare is None else gpu.spare * rate,
    )


def _hosted_costs(
    h: HostedOption,
    images: np.ndarray,
    peak: tuple[float, float],
    inputs: Inputs,
    rate: np.ndarray | None,
) -> Costs:
    """Cost of one hosted option: images x price (x ``rate`` into the plan's currency), with
    the API keys needed at ``peak`` (the peak request rate [requests/s] and how long a call
    stays in flight [s])."""
    months = images.shape[1]
    peak_rate, latency = peak
    cost = inputs.price(h.option, images * h.low, images * h.high)
    if cost is None:
        cost = h.costs(images)
    cost = converted(cost, rate)
    feasible = np.broadcast_to(~np.isnan(h.unit), cost.shape)
    keys = h.keys_needed(peak_rate, latency)
    reasons = list(h.reason)
    if h.free_tier and keys is not None and keys > 1:
        # a free allowance is one account's, not a fleet of keys
        feasible = np.zeros(cost.shape, dtype=bool)
        reasons = [f"a free tier under its rate limit serves one key; the peak needs {keys}"]
        reasons *= months
    return Costs(
        kind="hosted",
        mode="api",
        images=images,
        items={"API usage": np.nan_to_num(cost)},
        feasible=feasible,
        reasons=reasons,
        keys=[keys] * months,
    )


def _fleet_cost(
    s: Setup, run: SegmentRun, demands: Demands, util: np.ndarray | float
) -> tuple[GpuCost, dict[str, str]]:
    """The GPU cost the segment carries for ``s``: of its own fleet, or its share (by busy
    GPU time) of the fleet it shares with other segments (see :mod:`pricing._plan.fleets`),
    with how each GPU line item was allocated."""
    wl, inputs = demands.wl, demands.inputs
    own = own_load(run.index, demands, s.service, util)
    members = run.shared.get(s.option)
    if members is not None:
        pooled, shares = pooled_load(members, demands, util)
        # a segment an idle GPU can serve in time keeps its own fleet rather than fail the
        # strictest target of the segments it would share with; the other lax segments are
        # not pooled without the strict one (conservative: separate fleets never cost less)
        if fleet_reachable(pooled) or not fleet_reachable(own):
            gpu = _gpu_cost(s, wl, inputs, pooled)
            f = shares[run.index]
            others = ", ".join(m.segment.name for m in members if m.index != run.index)
            how = f"a fleet shared with {others}; this segment's share of its busy GPU time"
            allocated = GpuCost(
                busy=gpu.busy * f,
                idle=gpu.idle * f,
                gpus=gpu.gpus,
                utilisation=gpu.utilisation,
                feasible=gpu.feasible,
                reason=gpu.reason,
                spare=None if gpu.spare is None else gpu.spare * f,
            )
            return allocated, dict.fromkeys(("GPU busy", "GPU idle", SPARE_ITEM), how)
    return _gpu_cost(s, wl, inputs, own), {}


def _workload_images(demands: Demands, index: int) -> tuple[np.ndarray, np.ndarray]:
    """The workload's images per month over every segment, and segment ``index``'s share of
    them: licence, operations, storage and egress are paid once by the workload, and each
    segment's self-hosted options carry them in proportion to its images."""
    images = demands.of(index)[0]
    total = np.array(images, dtype=np.float64, copy=True)
    for j in range(len(demands.wl.segments)):
        if j != index:
            total = total + demands.of(j)[0]
    share = np.divide(images, total, out=np.ones_like(total), where=total > 0)
    return total, share


def _self_hosted_costs(
    s: Setup,
    wl: Workload,
    inputs: Inputs,
    pool: tuple[np.ndarray, np.ndarray, np.ndarray | float],
    gpu: GpuCost,
    fixed: dict[str, np.ndarray],
    licence_rate: np.ndarray | None,
) -> Costs:
    """The option's costs; ``pool`` is (its images, the workload's, its share of them): the
    licence is billed on the workload's images and carried by share, like ``fixed``, and
    converted into the plan's currency with ``licence_rate``."""
    images, total, share = pool
    months = wl.months
    items = {"GPU busy": gpu.busy, "GPU idle": gpu.idle}
    if gpu.spare is not None:
        items[SPARE_ITEM] = gpu.spare
    reasons: list[str | None] = [None] * months
    feasible = gpu.feasible
    if s.licence is None:
        feasible = np.zeros_like(feasible)
        reasons = [s.licence_reason] * months
        items["licence"] = np.zeros_like(gpu.busy)
    else:
        licence = converted(_licence_cost(s, wl, inputs, total), licence_rate) * share
        items["licence"] = np.broadcast_to(licence, gpu.busy.shape)
    for name, value in fixed.items():
        items[name] = np.broadcast_to(value, gpu.busy.shape)
    if not bool(gpu.feasible.all()):
        why = gpu.reason or (
            f"an idle GPU needs {s.service.quantile(0.95):.2f} s (p95 of the mix), over the "
            "latency target"
        )
        reasons = [
            r or (why if not bool(gpu.feasible[0, m]) else None) for m, r in enumerate(reasons)
        ]
    return Costs(
        kind="self-hosted",
        mode=s.mode,
        images=images,
        items=items,
        feasible=feasible,
        reasons=reasons,
        keys=[None] * months,
        gpus=gpu.gpus,
        utilisation=gpu.utilisation,
    )


def _licence_currency(s: Setup, wl: Workload) -> str:
    """The currency of a set-up's licence terms: the workload's own, or the bundled terms'."""
    if s.licence == "bundled" and s.licence_terms is not None:
        return s.licence_terms.currency
    return wl.currency


def _licence_cost(s: Setup, wl: Workload, inputs: Inputs, images: np.ndarray) -> np.ndarray:
    """Monthly licence cost: fee + images beyond those included x overage price."""
    if s.licence == "free":
        return np.zeros_like(images)
    if s.licence == "workload":
        sh = wl.self_hosting
        terms = sh.licence if sh is not None else None
        if terms is None:  # pragma: no cover - Setup.licence says it is there
            raise PricingError("workload licence terms vanished")
        p = ("self_hosting", "licence")
        fee = inputs.get((*p, "monthly_fee"), terms.monthly_fee)
        included = inputs.get((*p, "included_images"), terms.included_images)
        over = inputs.get((*p, "overage_per_image"), terms.overage_per_image)
    else:
        t = s.licence_terms
        if t is None or t.monthly_fee is None:  # pragma: no cover - checked in _setups
            raise PricingError(f"no licence fee for {s.model}")
        fee = float(t.monthly_fee)
        included = float(t.included_images or 0)
        over = float(t.overage_per_image or 0)
    return np.asarray(fee + np.maximum(images - included, 0.0) * over, dtype=np.float64)


def _fixed_costs(wl: Workload, inputs: Inputs) -> dict[str, np.ndarray | float]:
    """Operations, storage and egress per month, the same for every self-hosted option."""
    sh = wl.self_hosting
    if sh is None:
        return {}
    p = ("self_hosting",)

    def g(name: str) -> np.ndarray | float:
        return inputs.get((*p, name), getattr(sh, name))

    return {
        "operations": np.asarray(g("ops_hours_per_month") * np.asarray(g("ops_hourly_rate"))),
        "storage": np.asarray(g("storage_gb") * np.asarray(g("storage_per_gb_month"))),
        "egress": np.asarray(g("egress_gb_per_month") * np.asarray(g("egress_per_gb"))),
    }


def _gpu_cost(s: Setup, wl: Workload, inputs: Inputs, load: Load) -> GpuCost:
    """GPU cost of set-up ``s`` serving ``load``, by deployment mode; dedicated, autoscaled
    and owned fleets keep ``self_hosting.redundancy`` spare instances running."""
    sh = wl.self_hosting
    low, high = s.gpu_hour_range
    gpu_hour = inputs.price(f"gpu:{s.offer_id}", low, high)
    if gpu_hour is None:
        gpu_hour = s.gpu_hour
    spare = (sh.redundancy if sh is not None else 0) * s.gpus_per_instance
    requests, fleet = load.requests, load.fleet
    if s.mode in ("dedicated", "owned"):
        return dedicated(
            requests,
            load.ratio,
            fleet,
            gpu_hour=gpu_hour,
            gpus_per_instance=s.gpus_per_instance,
            spare_gpus=spare,
        )
    if s.mode == "autoscaled":
        auto = sh.autoscale if sh is not None and sh.autoscale is not None else None
        return autoscaled(
            requests,
            load.profile,
            fleet,
            gpu_hour=gpu_hour,
            gpus_per_instance=s.gpus_per_instance,
            min_gpus=auto.min_gpus if auto is not None else 1,
            startup_s=DEFAULT_STARTUP_S
            if auto is None
            else inputs.get(("self_hosting", "autoscale", "startup_s"), auto.startup_s),
            granularity_s=s.granularity_s,
            spare_gpus=spare,
        )
    if s.mode == "deployment":
        return _deployment(s, wl, inputs, load, gpu_hour)
    srv = sh.serverless if sh is not None and sh.serverless is not None else None
    p = ("self_hosting", "serverless")
    return serverless(
        requests,
        load.profile,
        fleet,
        gpu_second=gpu_hour / 3600.0,
        cold_start_s=DEFAULT_COLD_START_S
        if srv is None
        else inputs.get((*p, "cold_start_s"), srv.cold_start_s),
        idle_s=DEFAULT_IDLE_S if srv is None else inputs.get((*p, "idle_s"), srv.idle_s),
    )


def _deployment(
    s: Setup, wl: Workload, inputs: Inputs, load: Load, gpu_hour: np.ndarray | float
) -> GpuCost:
    """A provider-managed deployment billed per second online (set-up, idle, active), one
    model replica per instance (a multi-GPU instance bills all its GPUs for one replica).

    With ``min_instances`` kept online it is an autoscaled fleet with that floor, each
    scale-up billing its set-up and the idle window before it scales down. Scaled to zero it
    is billed the larger of two estimates: busy time plus cold starts, each billing the set-up
    and the idle window (right at low traffic); and the autoscaled fleet the latency target
    needs, its first instance online only the share of the time a request came within the
    idle window, 1 - exp(-mean rate x idle) (right at high traffic, where instances rarely
    idle long enough to stop).
    """
    sh = wl.self_hosting
    terms = sh.deployment if sh is not None and sh.deployment is not None else Deployment()
    p = ("self_hosting", "deployment")
    setup = inputs.get((*p, "setup_s"), terms.setup_s)
    idle = inputs.get((*p, "idle_s"), terms.idle_s)
    instance_hour = gpu_hour * s.gpus_per_instance
    fleet = autoscaled(
        load.requests,
        load.profile,
        load.fleet,
        gpu_hour=instance_hour,
        gpus_per_instance=1,
        min_gpus=terms.min_instances,
        startup_s=setup + idle,
        granularity_s=s.granularity_s,
    )
    if terms.min_instances == 0:
        cold = serverless(
            load.requests,
            load.profile,
            load.fleet,
            gpu_second=instance_hour / 3600.0,
            cold_start_s=setup,
            idle_s=idle,
        )
        rate = load.requests / SECONDS_PER_MONTH
        asleep = np.exp(-rate * idle) * HOURS_PER_MONTH * instance_hour
        idle_cost = np.maximum(cold.idle, np.maximum(fleet.idle - asleep, 0.0))
        billed = cold.busy + idle_cost
        fleet = replace(
            cold,
            idle=idle_cost,
            gpus=fleet.gpus,
            utilisation=np.divide(cold.busy, billed, out=np.zeros_like(billed), where=billed > 0),
        )
    return replace(fleet, gpus=fleet.gpus * s.gpus_per_instance)
