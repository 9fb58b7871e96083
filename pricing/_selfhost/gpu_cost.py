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

Dedicated and autoscaled fleets can keep spare GPUs running beyond what the traffic needs
(N+1 redundancy: the workload's ``self_hosting.redundancy`` instances), billed all month as
their own line item (:data:`SPARE_ITEM`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pricing._base.dates import HOURS_PER_MONTH as MONTH_HOURS
from pricing._selfhost.autoscale import Profile, follow_curve
from pricing._selfhost.fleet import Fleet, reachable, servers_for, whole_instances

HOURS_PER_MONTH = float(MONTH_HOURS)  # [h] the average month, as a float for fleet maths
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
WEEKS_PER_MONTH = HOURS_PER_MONTH / 168.0


@dataclass(frozen=True)
class GpuCost:
    """GPU cost of one option by month: arrays of shape (samples, months)."""

    busy: np.ndarray  # [currency] cost of the GPU time spent generating
    idle: np.ndarray  # [currency] the rest of what is billed (idle, start-up, cold starts)
    gpus: np.ndarray  # GPUs at the month's peak
    utilisation: np.ndarray  # busy GPU time / billed GPU time
    feasible: np.ndarray  # bool: the latency target is met
    reason: str | None = None
    spare: np.ndarray | None = None  # [currency] spare instances kept running (redundancy)


#: The line item of spare GPUs kept running for redundancy (N+1).
SPARE_ITEM = "GPU spare (redundancy)"


def _spare(
    spare_gpus: int, gpu_hour: np.ndarray | float, shape: tuple[int, ...]
) -> np.ndarray | None:
    """Monthly cost of ``spare_gpus`` kept running all month, or None when there are none."""
    if spare_gpus <= 0:
        return None
    return np.broadcast_to(spare_gpus * HOURS_PER_MONTH * np.asarray(gpu_hour), shape).copy()


def dedicated(
    requests: np.ndarray,
    peak_to_mean: np.ndarray | float,
    fleet: Fleet,
    *,
    gpu_hour: np.ndarray | float,
    gpus_per_instance: int,
    spare_gpus: int = 0,
) -> GpuCost:
    """A fixed fleet sized for the peak hour, billed all month.

    ``gpu_hour`` [currency/GPU-h]: a number, or one per sample (shape (samples, 1));
    ``spare_gpus``: GPUs kept running beyond what the peak needs (N+1 redundancy), billed
    all month as their own line item.
    """
    mean_rate = requests / SECONDS_PER_MONTH
    gpus = servers_for(mean_rate * peak_to_mean, fleet)
    gpus = whole_instances(gpus, gpus_per_instance)
    billed_h = gpus * HOURS_PER_MONTH
    busy_h = requests * fleet.service.mean / 3600.0
    return GpuCost(
        busy=busy_h * gpu_hour,
        idle=(billed_h - busy_h) * gpu_hour,
        gpus=gpus + spare_gpus,
        utilisation=busy_h / (billed_h + spare_gpus * HOURS_PER_MONTH),
        feasible=_service_feasible(fleet, requests.shape),
        spare=_spare(spare_gpus, gpu_hour, requests.shape),
    )


def autoscaled(
    requests: np.ndarray,
    profile: Profile,
    fleet: Fleet,
    *,
    gpu_hour: np.ndarray | float,
    gpus_per_instance: int,
    min_gpus: int,
    startup_s: np.ndarray | float,
    granularity_s: float,
    spare_gpus: int = 0,
) -> GpuCost:
    """A fleet following the traffic curve hour by hour (see :mod:`pricing._selfhost.autoscale`).

    ``profile``: 168 relative hourly rates of a week (or 24 of a day), mean 1, or a
    :class:`RatioCurve` per sample. ``gpu_hour`` [currency/GPU-h], a number or one per
    sample; ``startup_s`` [s], a number or one per sample; ``granularity_s`` [s];
    ``spare_gpus`` as for :func:`dedicated`.
    """
    mean_rate = requests / SECONDS_PER_MONTH
    hours, ups, peak = follow_curve(mean_rate, profile, fleet, gpus_per_instance, min_gpus)
    overhead_h = ups * (startup_s + granularity_s / 2) / 3600.0
    billed_h = (hours + overhead_h) * WEEKS_PER_MONTH
    busy_h = requests * fleet.service.mean / 3600.0
    billed_h = np.maximum(billed_h, busy_h)
    all_h = billed_h + spare_gpus * HOURS_PER_MONTH
    return GpuCost(
        busy=busy_h * gpu_hour,
        idle=(billed_h - busy_h) * gpu_hour,
        gpus=peak + spare_gpus,
        utilisation=np.divide(busy_h, all_h, out=np.zeros_like(busy_h), where=all_h > 0),
        feasible=_service_feasible(fleet, requests.shape),
        spare=_spare(spare_gpus, gpu_hour, requests.shape),
    )


def serverless(
    requests: np.ndarray,
    profile: Profile,
    fleet: Fleet,
    *,
    gpu_second: np.ndarray | float,
    cold_start_s: np.ndarray | float,
    idle_s: np.ndarray | float,
) -> GpuCost:
    """Per-second billing of busy time, cold starts and idle windows.

    ``profile`` as for :func:`autoscaled`; ``gpu_second`` [currency/GPU-s], ``cold_start_s``
    and ``idle_s`` [s]: each a number or one per sample (shape (samples, 1)).
    """
    mean_rate = requests / SECONDS_PER_MONTH
    _, ups, peak = follow_curve(mean_rate, profile, fleet, 1, 0)
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
            f"cold starts ({np.max(cold_start_s):g} s) reach more than {1 - q:.0%} of requests "
            "at this volume and push p95 latency over the target"
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


def _service_feasible(fleet: Fleet, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(reachable(fleet), shape).copy()
