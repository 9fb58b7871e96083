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
    from pricing._queue import target_reachable

    return target_reachable(
        fleet.service.mean, fleet.p95_target_s, q=fleet.quantile, service_scv=fleet.service.scv
    )


def servers_for(rate: np.ndarray, fleet: Fleet, min_servers: int = 1) -> np.ndarray:
    """Smallest fleet meeting the latency target at each arrival rate [requests/s].

    Where no fleet can meet the target (see :func:`reachable`), the fleet is sized for
    stability and utilisation alone; callers mark those months infeasible. Rates of 0 give
    ``min_servers``. Targets and caps that differ between samples are rounded down to at most
    :data:`CURVE_LEVELS` levels, and many distinct rates are sized at the next point up of a
    fixed geometric grid (500 points a decade): both can only add GPUs, by at most one step.
    """
    rate = np.asarray(rate, dtype=np.float64)
    # below one request in ~30,000 years there is no load to size for (and denormal rates
    # would only upset the queueing formulas)
    rate = np.where(rate < 1e-12, 0.0, rate)
    target = np.where(reachable(fleet), np.asarray(fleet.p95_target_s, dtype=np.float64), np.inf)
    if target.size == 1 and np.size(fleet.max_utilisation) == 1:  # one level: the common case
        level = _servers_level(
            rate.ravel(),
            fleet,
            float(target),
            float(np.asarray(fleet.max_utilisation)),
            min_servers,
        )
        return level.reshape(rate.shape)
    target, cap = _levels(
        np.broadcast_to(target, rate.shape).ravel(),
        np.broadcast_to(np.asarray(fleet.max_utilisation, dtype=np.float64), rate.shape).ravel(),
    )
    flat = rate.ravel()
    out = np.empty(flat.shape, dtype=np.int64)
    for t, c in np.unique(np.stack([target, cap], axis=1), axis=0):
        sel = (target == t) & (cap == c)
        out[sel] = _servers_level(flat[sel], fleet, float(t), float(c), min_servers)
    return out.reshape(rate.shape)


#: Most distinct (latency target, utilisation cap) pairs sized in one call; more sampled pairs
#: are rounded down (more GPUs) to this many levels.
CURVE_LEVELS = 8
_GRID_PER_DECADE = 500
_GRID_CACHE: dict[tuple[object, ...], dict[int, int]] = {}


def _levels(target: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(target, cap) pairs reduced to at most CURVE_LEVELS, each rounded down (more GPUs).

    Unchanged when there are few pairs; else the samples are split into CURVE_LEVELS groups
    of equal size by their target (or cap), and each group takes its smallest target and
    smallest cap.
    """
    pairs = np.unique(np.stack([target, cap], axis=1), axis=0)
    if len(pairs) <= CURVE_LEVELS:
        return target, cap
    key = target if len(np.unique(target)) > 1 else cap
    order = np.argsort(key, kind="stable")
    group = np.empty(len(key), dtype=np.int64)
    group[order] = np.arange(len(key)) * CURVE_LEVELS // len(key)
    low_t = np.full(CURVE_LEVELS, np.inf)
    low_c = np.full(CURVE_LEVELS, np.inf)
    np.minimum.at(low_t, group, target)
    np.minimum.at(low_c, group, cap)
    return low_t[group], low_c[group]


def _servers_level(
    rates: np.ndarray, fleet: Fleet, target: float, cap: float, min_servers: int
) -> np.ndarray:
    from pricing._queue import size_fleet_array

    def size(values: np.ndarray) -> np.ndarray:
        return size_fleet_array(
            values,
            fleet.service.mean,
            target,
            q=fleet.quantile,
            service_scv=fleet.service.scv,
            max_utilisation=cap,
            min_servers=min_servers,
        )

    distinct, inverse = np.unique(rates, return_inverse=True)
    if len(distinct) <= 512:
        return size(distinct)[inverse.ravel()]
    out = np.full(rates.shape, min_servers, dtype=np.int64)
    busy = rates > 0
    k = np.ceil(np.log10(rates[busy]) * _GRID_PER_DECADE - 1e-9).astype(np.int64)
    key = (fleet.service, fleet.quantile, target, cap, min_servers)
    known = _GRID_CACHE.setdefault(key, {})
    missing = np.setdiff1d(np.unique(k), np.fromiter(known, dtype=np.int64, count=len(known)))
    if len(missing):
        sized = size(10.0 ** (missing / _GRID_PER_DECADE))
        known.update(zip(missing.tolist(), sized.tolist(), strict=True))
    ks, inv = np.unique(k, return_inverse=True)
    out[busy] = np.array([known[x] for x in ks.tolist()], dtype=np.int64)[inv.ravel()]
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

    ``mean_rate`` has shape (samples, months); each distinct (target, cap) level of the
    samples is followed on its own (see :func:`servers_for`).
    """
    rows = mean_rate.shape[0]
    target = np.broadcast_to(np.asarray(fleet.p95_target_s, dtype=np.float64), (rows, 1))[:, 0]
    cap = np.broadcast_to(np.asarray(fleet.max_utilisation, dtype=np.float64), (rows, 1))[:, 0]
    target, cap = _levels(target, cap)
    out = [np.empty(mean_rate.shape) for _ in range(3)]
    for t, c in np.unique(np.stack([target, cap], axis=1), axis=0):
        sel = (target == t) & (cap == c)
        level = Fleet(fleet.service, float(t), float(c), fleet.quantile)
        for arr, values in zip(
            out, _curve(mean_rate[sel], profile, level, per_instance, min_gpus), strict=True
        ):
            arr[sel] = values
    return out[0], out[1], out[2]


_CURVE_CACHE: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _curve(
    mean_rate: np.ndarray,
    profile: np.ndarray,
    fleet: Fleet,
    per_instance: int,
    min_gpus: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Memoised :func:`_follow_one` (offers of one GPU type share their curves)."""
    rates = np.ascontiguousarray(mean_rate, dtype=np.float64)
    key = (
        fleet.service,
        fleet.quantile,
        float(np.asarray(fleet.p95_target_s)),
        float(np.asarray(fleet.max_utilisation)),
        per_instance,
        min_gpus,
        rates.shape,
        hash(rates.tobytes()),
        hash(np.ascontiguousarray(profile, dtype=np.float64).tobytes()),
    )
    if key not in _CURVE_CACHE:
        if len(_CURVE_CACHE) > 256:
            _CURVE_CACHE.clear()
        _CURVE_CACHE[key] = _follow_one(rates, profile, fleet, per_instance, min_gpus)
    return _CURVE_CACHE[key]


def _follow_one(
    mean_rate: np.ndarray,
    profile: np.ndarray,
    fleet: Fleet,
    per_instance: int,
    min_gpus: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_follow_curve` for one target and cap.

    Computed on the distinct mean rates; when there are many (Monte Carlo), on a geometric
    grid of rates 1% apart and interpolated, which moves a result by at most the GPUs of
    one step at one hour.
    """
    weights = np.asarray(profile, dtype=np.float64)
    flat = mean_rate.ravel()
    distinct = np.unique(flat)
    positive = distinct[distinct > 0]
    exact = len(distinct) <= 512 or len(positive) < 2
    if exact:
        points = distinct
    else:
        lo, hi = float(positive.min()), float(positive.max())
        n = math.ceil(math.log(hi / lo) / math.log(1.01)) + 1
        points = np.unique(np.concatenate([[0.0], np.geomspace(lo, hi, min(n, 1000))]))
    per_hour = servers_for(points[:, None] * weights[None, :], fleet, min_servers=0)
    per_hour = np.maximum(_whole_instances(per_hour, per_instance), min_gpus)
    hours = per_hour.sum(axis=1).astype(np.float64)
    ups = np.maximum(per_hour - np.roll(per_hour, 1, axis=1), 0).sum(axis=1).astype(np.float64)
    peak = per_hour.max(axis=1).astype(np.float64)
    if exact:
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
