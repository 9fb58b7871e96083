"""Monthly cost of every option of one workload segment, for many samples at once.

:func:`evaluate` turns the values of the workload's inputs (:class:`Inputs`: one value per
sample for the uncertain ones, the centre for the others) into cost arrays of shape
(samples, months) for each hosted offer and self-hosted set-up of a segment
(:class:`SegmentRun`), split into line items. :mod:`pricing._plan.simulate` calls it once for the
base case (one sample), once for a Monte Carlo run and once for the sensitivity table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pricing._plan.hosted import HostedOption
from pricing._selfhost.autoscale import Profile, RatioCurve
from pricing._selfhost.fleet import Fleet
from pricing._selfhost.gpu_cost import HOURS_PER_MONTH, GpuCost, autoscaled, dedicated, serverless
from pricing._selfhost.setups import Setup
from pricing._workloads.demand import daily_curve, traffic_profile
from pricing._workloads.inputs import InputPath
from pricing._workloads.model import Segment, Workload, central
from pricing.errors import PricingError

#: Defaults when the workload does not say (documented in the README and the workload schema).
DEFAULT_STARTUP_S = 120.0
DEFAULT_COLD_START_S = 15.0
DEFAULT_IDLE_S = 5.0  # RunPod serverless' default idle window (price-facts B2)
#: How long a hosted call stays in flight without a latency target [s]: the usual client
#: timeout of image APIs.
DEFAULT_CALL_S = 60.0


@dataclass
class Inputs:
    """Values of the workload's uncertain inputs for each sample (others at their centre).

    ``spread`` holds, for each price sampled across its sources (hosted option ids, and
    ``gpu:<offer id>`` for GPU offers), where each sample falls in its range (0 = the
    cheapest source, 1 = the dearest).
    """

    samples: int
    values: dict[InputPath, np.ndarray] = field(default_factory=dict)
    spread: dict[str, np.ndarray] = field(default_factory=dict)

    def get(self, path: InputPath, given: Any) -> np.ndarray | float:
        """Per-sample values (shape (samples, 1)) of a sampled input, else its centre."""
        if path in self.values:
            return self.values[path].reshape(-1, 1)
        return central(given)

    def price(self, key: str, low: Any, high: Any) -> Any:
        """A price across its sources: ``low + u (high - low)`` where sampled, else None."""
        u = self.spread.get(key)
        if u is None:
            return None
        return low + u.reshape(-1, 1) * (high - low)


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


def segment_demand(
    seg: Segment, index: int, months: int, inputs: Inputs
) -> tuple[np.ndarray, np.ndarray | float]:
    """Images per month (samples, months) and the p95 target [s] of segment ``index``."""
    base = ("segments", index, "volume")
    vol = seg.volume
    if vol.series is not None:
        cols = [
            np.broadcast_to(inputs.get((*base, "series", m), v), (inputs.samples, 1))
            for m, v in enumerate(vol.series)
        ]
        images = np.concatenate(cols, axis=1).astype(np.float64)
    else:
        b = inputs.get((*base, "base"), vol.base)
        g = inputs.get((*base, "growth"), vol.growth) if vol.growth is not None else 0.0
        m = np.arange(months, dtype=np.float64)[None, :]
        images = np.broadcast_to(b * (1 + np.asarray(g)) ** m, (inputs.samples, months))
    target: np.ndarray | float = (
        math.inf
        if seg.p95_latency_s is None
        else inputs.get(("segments", index, "p95_latency_s"), seg.p95_latency_s)
    )
    return np.maximum(images, 0.0), target


def evaluate(
    run: SegmentRun, wl: Workload, inputs: Inputs, only: set[str] | None = None
) -> dict[str, Costs]:
    """Cost arrays (samples, months) of every option of the segment under ``inputs``.

    ``only``: the option ids to evaluate (default: all).
    """
    seg, i = run.segment, run.index
    months = wl.months
    images, target = segment_demand(seg, i, months, inputs)
    requests = images / seg.images_per_request
    traffic = wl.traffic_of(seg)
    weekly = traffic_profile(traffic)
    profile: Profile = weekly
    if traffic.peak_to_mean is None:
        ratio: np.ndarray | float = float(weekly.max())
    else:
        path: InputPath = ("segments", i, "traffic") if seg.traffic is not None else ("traffic",)
        ratio = inputs.get((*path, "peak_to_mean"), traffic.peak_to_mean)
        if isinstance(ratio, np.ndarray):  # sampled: each sample has its own daily curve
            profile = RatioCurve(ratio, daily_curve)
    out: dict[str, Costs] = {}
    peak_rate = float(np.max(requests)) / (HOURS_PER_MONTH * 3600) * float(np.max(ratio))
    # a call stays in flight at most its p95 target (Little's law)
    latency = central(seg.p95_latency_s) if seg.p95_latency_s is not None else DEFAULT_CALL_S
    for h in run.hosted:
        if only is not None and h.option not in only:
            continue
        cost = inputs.price(h.option, images * h.low, images * h.high)
        if cost is None:
            cost = h.costs(images)
        feasible = np.broadcast_to(~np.isnan(h.unit), cost.shape)
        keys = h.keys_needed(peak_rate, latency)
        reasons = list(h.reason)
        if h.free_tier and keys is not None and keys > 1:
            # a free allowance is one account's, not a fleet of keys
            feasible = np.zeros(cost.shape, dtype=bool)
            reasons = [f"a free tier under its rate limit serves one key; the peak needs {keys}"]
            reasons *= months
        out[h.option] = Costs(
            kind="hosted",
            mode="api",
            images=images,
            items={"API usage": np.nan_to_num(cost)},
            feasible=feasible,
            reasons=reasons,
            keys=[keys] * months,
        )
    sh = wl.self_hosting
    util = inputs.get(("self_hosting", "max_utilisation"), sh.max_utilisation) if sh else 1.0
    total, share = _workload_images(wl, inputs, i, images) if run.selfhosted else (images, 1.0)
    fixed = {name: value * share for name, value in _fixed_costs(wl, inputs).items()}
    for s in run.selfhosted:
        if only is not None and s.option not in only:
            continue
        fleet = Fleet(service=s.service, p95_target_s=target, max_utilisation=util)
        gpu = _gpu_cost(s, wl, inputs, requests, ratio, profile, fleet)
        out[s.option] = _self_hosted_costs(s, wl, inputs, (images, total, share), gpu, fixed)
    return out


def _workload_images(
    wl: Workload, inputs: Inputs, index: int, images: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The workload's images per month over every segment, and this segment's share of them:
    licence, operations, storage and egress are paid once by the workload, and each
    segment's self-hosted options carry them in proportion to its images."""
    total = np.array(images, dtype=np.float64, copy=True)
    for j, other in enumerate(wl.segments):
        if j != index:
            total = total + segment_demand(other, j, wl.months, inputs)[0]
    share = np.divide(images, total, out=np.ones_like(total), where=total > 0)
    return total, share


def _self_hosted_costs(
    s: Setup,
    wl: Workload,
    inputs: Inputs,
    pool: tuple[np.ndarray, np.ndarray, np.ndarray | float],
    gpu: GpuCost,
    fixed: dict[str, np.ndarray | float],
) -> Costs:
    """The option's costs; ``pool`` is (its images, the workload's, its share of them): the
    licence is billed on the workload's images and carried by share, like ``fixed``."""
    images, total, share = pool
    months = wl.months
    items = {"GPU busy": gpu.busy, "GPU idle": gpu.idle}
    reasons: list[str | None] = [None] * months
    feasible = gpu.feasible
    if s.licence is None:
        feasible = np.zeros_like(feasible)
        reasons = [s.licence_reason] * months
        items["licence"] = np.zeros_like(gpu.busy)
    else:
        licence = _licence_cost(s, wl, inputs, total) * share
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


def _gpu_cost(
    s: Setup,
    wl: Workload,
    inputs: Inputs,
    requests: np.ndarray,
    ratio: np.ndarray | float,
    profile: Profile,
    fleet: Fleet,
) -> GpuCost:
    sh = wl.self_hosting
    low, high = s.gpu_hour_range
    gpu_hour = inputs.price(f"gpu:{s.offer_id}", low, high)
    if gpu_hour is None:
        gpu_hour = s.gpu_hour
    if s.mode in ("dedicated", "owned"):
        return dedicated(
            requests, ratio, fleet, gpu_hour=gpu_hour, gpus_per_instance=s.gpus_per_instance
        )
    if s.mode == "autoscaled":
        auto = sh.autoscale if sh is not None and sh.autoscale is not None else None
        return autoscaled(
            requests,
            profile,
            fleet,
            gpu_hour=gpu_hour,
            gpus_per_instance=s.gpus_per_instance,
            min_gpus=auto.min_gpus if auto is not None else 1,
            startup_s=DEFAULT_STARTUP_S
            if auto is None
            else inputs.get(("self_hosting", "autoscale", "startup_s"), auto.startup_s),
            granularity_s=s.granularity_s,
        )
    srv = sh.serverless if sh is not None and sh.serverless is not None else None
    p = ("self_hosting", "serverless")
    return serverless(
        requests,
        profile,
        fleet,
        gpu_second=gpu_hour / 3600.0,
        cold_start_s=DEFAULT_COLD_START_S
        if srv is None
        else inputs.get((*p, "cold_start_s"), srv.cold_start_s),
        idle_s=DEFAULT_IDLE_S if srv is None else inputs.get((*p, "idle_s"), srv.idle_s),
    )
