"""Self-hosted options of a workload segment: fleet size and GPU cost by deployment mode.

Every function here works on numpy arrays whose leading axes are (samples, months), so the
same code prices the base case (one sample) and a Monte Carlo run (thousands) at once.

Deployment modes
----------------
dedicated
    A fixed fleet sized for the month's peak hour (mean rate x peak-to-mean ratio), billed
    for every hour of the month (730 h, the average month: 8,760 h / 12).
autoscaled
    A fleet that follows the weekly traffic curve hour by hour, never below ``min_gpus``.
    Each scale-up bills the start-up delay plus, on average, half a billing increment of
    rounding. Scale-ups are assumed to be scheduled ahead of the daily curve by the start-up
    delay, so latency is met as in the dedicated case, hour by hour.
serverless
    Per-second billing of busy time plus cold starts: a request finds no warm worker with
    probability exp(-rate x idle window) (Poisson arrivals), and every cold start bills the
    start-up time and the idle window after the last request. If more than 1 - q of the
    requests meet a cold start, the p95 latency includes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

HOURS_PER_MONTH = 730.0  # 8,760 h / 12: the average month, as GPU clouds quote monthly prices
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
WEEKS_PER_MONTH = HOURS_PER_MONTH / 168.0


@dataclass(frozen=True)
class Service:
    """Service time of one request of the segment's mix on one GPU.

    ``times`` [s/request] and ``shares`` per resolution; mean, squared coefficient of
    variation, and the q-quantile of the mix (what an unloaded GPU achieves).
    """

    times: tuple[float, ...]
    shares: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.dot(self.times, self.shares))

    @property
    def scv(self) -> float:
        second = float(np.dot(np.square(self.times), self.shares))
        return max(second / self.mean**2 - 1.0, 0.0)

    def quantile(self, q: float) -> float:
        order = np.argsort(self.times)
        cum = np.cumsum(np.asarray(self.shares)[order])
        idx = int(np.searchsorted(cum, q - 1e-12))
        return float(np.asarray(self.times)[order][min(idx, len(order) - 1)])


@dataclass(frozen=True)
class Fleet:
    """How the fleet of one option is sized: the latency target and the limits."""

    service: Service
    p95_target_s: np.ndarray | float
    max_utilisation: np.ndarray | float
    quantile: float = 0.95


def reachable(fleet: Fleet) -> np.ndarray:
    """Whether an idle GPU meets the target: P(service time > target) < 1 - q."""
    from pricing._queue import _service_sf

    target = np.asarray(fleet.p95_target_s, dtype=np.float64)
    finite = np.isfinite(target)
    mean = np.full(target.shape, fleet.service.mean)
    ok = np.ones(target.shape, dtype=bool)
    ok[finite] = _service_sf(target[finite], mean[finite], fleet.service.scv) < 1 - fleet.quantile
    return ok


def servers_for(rate: np.ndarray, fleet: Fleet, min_servers: int = 1) -> np.ndarray:
    """Smallest fleet meeting the latency target at each arrival rate [requests/s].

    Where no fleet can meet the target (see :func:`reachable`), the fleet is sized for
    stability and utilisation alone; callers mark those months infeasible. Rates of 0 give
    ``min_servers``.
    """
    from pricing._queue import size_fleet_array

    rate = np.asarray(rate, dtype=np.float64)
    target = np.where(reachable(fleet), np.asarray(fleet.p95_target_s, dtype=np.float64), np.inf)
    target = np.broadcast_to(target, rate.shape)
    cap = np.broadcast_to(np.asarray(fleet.max_utilisation, dtype=np.float64), rate.shape)
    out = np.empty(rate.shape, dtype=np.int64)
    # size_fleet_array takes one utilisation cap at a time; caps are few
    for c in np.unique(cap):
        sel = cap == c
        out[sel] = size_fleet_array(
            rate[sel],
            fleet.service.mean,
            target[sel],
            q=fleet.quantile,
            service_scv=fleet.service.scv,
            max_utilisation=float(c),
            min_servers=min_servers,
        )
    return out


@dataclass(frozen=True)
class GpuCost:
    """GPU cost of one option by month: arrays of shape (samples, months)."""

    busy: np.ndarray  # [currency] cost of the GPU time spent generating
    idle: np.ndarray  # [currency] the rest of what is billed (idle, start-up, cold starts)
    gpus: np.ndarray  # GPUs at the month's peak
    utilisation: np.ndarray  # busy GPU time / billed GPU time
    feasible: np.ndarray  # bool: the latency target is met
    reason: str | None = None


def dedicated(
    requests: np.ndarray,
    peak_to_mean: np.ndarray | float,
    fleet: Fleet,
    *,
    gpu_hour: float,
    gpus_per_instance: int,
) -> GpuCost:
    """A fixed fleet sized for the peak hour, billed all month. ``gpu_hour`` [currency/GPU-h]."""
    mean_rate = requests / SECONDS_PER_MONTH
    gpus = servers_for(mean_rate * peak_to_mean, fleet)
    gpus = _whole_instances(gpus, gpus_per_instance)
    billed_h = gpus * HOURS_PER_MONTH
    busy_h = requests * fleet.service.mean / 3600.0
    return GpuCost(
        busy=busy_h * gpu_hour,
        idle=(billed_h - busy_h) * gpu_hour,
        gpus=gpus,
        utilisation=busy_h / billed_h,
        feasible=_service_feasible(fleet, requests.shape),
    )


def autoscaled(
    requests: np.ndarray,
    profile: np.ndarray,
    fleet: Fleet,
    *,
    gpu_hour: float,
    gpus_per_instance: int,
    min_gpus: int,
    startup_s: float,
    granularity_s: float,
) -> GpuCost:
    """A fleet following the weekly curve (168 relative hourly rates, mean 1)."""
    mean_rate = requests / SECONDS_PER_MONTH
    hours, ups, peak = _follow_curve(mean_rate, profile, fleet, gpus_per_instance, min_gpus)
    overhead_h = ups * (startup_s + granularity_s / 2) / 3600.0
    billed_h = (hours + overhead_h) * WEEKS_PER_MONTH
    busy_h = requests * fleet.service.mean / 3600.0
    billed_h = np.maximum(billed_h, busy_h)
    return GpuCost(
        busy=busy_h * gpu_hour,
        idle=(billed_h - busy_h) * gpu_hour,
        gpus=peak,
        utilisation=np.divide(busy_h, billed_h, out=np.zeros_like(busy_h), where=billed_h > 0),
        feasible=_service_feasible(fleet, requests.shape),
    )


def serverless(
    requests: np.ndarray,
    profile: np.ndarray,
    fleet: Fleet,
    *,
    gpu_second: float,
    cold_start_s: float,
    idle_s: float,
) -> GpuCost:
    """Per-second billing of busy time, cold starts and idle windows."""
    mean_rate = requests / SECONDS_PER_MONTH
    _, ups, peak = _follow_curve(mean_rate, profile, fleet, 1, 0)
    cold_share = np.exp(-mean_rate * idle_s)  # a request finds no warm worker
    cold_starts = requests * cold_share + ups * WEEKS_PER_MONTH
    busy_s = requests * fleet.service.mean
    extra_s = cold_starts * (cold_start_s + idle_s)
    billed_s = busy_s + extra_s
    q = fleet.quantile
    latency = fleet.service.quantile(q)
    slow_start = latency + cold_start_s > np.asarray(fleet.p95_target_s)
    feasible = _service_feasible(fleet, requests.shape) & ~((cold_share > 1 - q) & slow_start)
    reason = (
        None
        if bool(feasible.all())
        else (
            f"cold starts ({cold_start_s:g} s) reach more than {1 - q:.0%} of requests at this "
            "volume and push p95 latency over the target"
        )
    )
    return GpuCost(
        busy=busy_s * gpu_second,
        idle=extra_s * gpu_second,
        gpus=peak,
        utilisation=np.divide(busy_s, billed_s, out=np.zeros_like(busy_s), where=billed_s > 0),
        feasible=feasible,
        reason=reason,
    )


def _whole_instances(gpus: np.ndarray, per_instance: int) -> np.ndarray:
    return np.ceil(gpus / per_instance).astype(np.int64) * per_instance


def _service_feasible(fleet: Fleet, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(reachable(fleet), shape).copy()


def _follow_curve(
    mean_rate: np.ndarray,
    profile: np.ndarray,
    fleet: Fleet,
    per_instance: int,
    min_gpus: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GPU-hours per week, scale-up events (GPUs started) per week and the peak fleet.

    Computed on the distinct mean rates; when there are many (Monte Carlo), on a geometric
    grid of rates 0.1% apart and interpolated, which moves a result by at most the GPUs of
    one step at one hour.
    """
    weights = np.asarray(profile, dtype=np.float64)
    flat = mean_rate.ravel()
    positive = flat[flat > 0]
    if len(np.unique(flat)) <= 2048 or len(positive) == 0:
        points = np.unique(flat)
    else:
        lo, hi = float(positive.min()), float(positive.max())
        n = max(2, math.ceil(math.log(hi / lo) / math.log(1.001)) + 1) if hi > lo else 1
        points = np.unique(np.concatenate([[0.0], np.geomspace(lo, hi, min(n, 20000))]))
    per_hour = servers_for(points[:, None] * weights[None, :], fleet, min_servers=0)
    per_hour = np.maximum(_whole_instances(per_hour, per_instance), min_gpus)
    hours = per_hour.sum(axis=1).astype(np.float64)
    ups = np.maximum(per_hour - np.roll(per_hour, 1, axis=1), 0).sum(axis=1).astype(np.float64)
    peak = per_hour.max(axis=1).astype(np.float64)
    if len(points) == len(np.unique(flat)):
        idx = np.searchsorted(points, flat)
        return (
            hours[idx].reshape(mean_rate.shape),
            ups[idx].reshape(mean_rate.shape),
            peak[idx].reshape(mean_rate.shape),
        )
    return (
        np.interp(flat, points, hours).reshape(mean_rate.shape),
        np.interp(flat, points, ups).reshape(mean_rate.shape),
        np.ceil(np.interp(flat, points, peak)).reshape(mean_rate.shape),
    )
