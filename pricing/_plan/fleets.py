"""One fleet for every segment that can run on it, and the load each fleet is sized for.

Segments that accept the same open-weights model share one fleet per set-up (the same option
id: deployment mode, GPU offer, model and precision). The shared fleet is sized for

* the segments' combined requests, month by month and sample by sample;
* the mix of their service times, each segment weighted by its requests over the horizon
  (inputs at their centre);
* the strictest p95 latency target among them (every request waits in the same queue);
* their traffic shape: the common one, or, when the segments' shapes differ, the weekly
  profiles weighted like the service times (a sampled peak-to-mean ratio is then taken at its
  centre).

Each segment carries the shared fleet's GPU cost in proportion to its busy GPU time (its
requests x its own mean service time). A segment whose own latency target an idle GPU meets
but the strictest target does not keeps its own fleet. Splitting a segment into identical
parts therefore leaves the cost of a self-hosted plan unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pricing._plan.inputs import Inputs, segment_demand
from pricing._selfhost.autoscale import Profile, RatioCurve
from pricing._selfhost.fleet import Fleet, Service, reachable
from pricing._selfhost.setups import Setup
from pricing._workloads.demand import daily_curve, traffic_profile
from pricing._workloads.inputs import InputPath
from pricing._workloads.model import Segment, Workload


@dataclass(frozen=True)
class Member:
    """A segment served by a shared fleet, with its service time on that fleet's GPU."""

    index: int
    segment: Segment
    service: Service


@dataclass(frozen=True)
class Load:
    """What one fleet is sized for: requests (samples, months), the peak-to-mean ratio and
    traffic profile it follows, and how it is sized (:class:`Fleet`)."""

    requests: np.ndarray
    ratio: np.ndarray | float
    profile: Profile
    fleet: Fleet


class Demands:
    """Each segment's demand and traffic under one set of inputs, computed once and reused
    by every option of :func:`pricing._plan.option_costs.evaluate` (own and shared fleets)."""

    def __init__(self, wl: Workload, inputs: Inputs) -> None:
        self.wl = wl
        self.inputs = inputs
        self._seen: dict[int, tuple[np.ndarray, np.ndarray | float, np.ndarray | float, Profile]]
        self._seen = {}
        self._centre: Demands | None = None

    def of(self, index: int) -> tuple[np.ndarray, np.ndarray | float, np.ndarray | float, Profile]:
        """Images per month (samples, months), p95 target, peak-to-mean ratio and traffic
        profile of segment ``index``."""
        if index not in self._seen:
            seg = self.wl.segments[index]
            images, target = segment_demand(seg, index, self.wl.months, self.inputs)
            ratio, profile = segment_traffic(seg, index, self.wl, self.inputs)
            self._seen[index] = (images, target, ratio, profile)
        return self._seen[index]

    @property
    def centre(self) -> Demands:
        """The same demands with every input at its centre."""
        if self._centre is None:
            self._centre = Demands(self.wl, Inputs(1))
        return self._centre


def shared_fleets(
    segments: Sequence[tuple[int, Segment, Sequence[Setup]]],
) -> dict[str, tuple[Member, ...]]:
    """Option id -> the segments sharing its fleet, for options two or more segments have.

    ``segments``: (index, segment, its self-hosted set-ups) for each segment.
    """
    members: dict[str, list[Member]] = {}
    for index, seg, setups in segments:
        for s in setups:
            members.setdefault(s.option, []).append(Member(index, seg, s.service))
    return {option: tuple(m) for option, m in members.items() if len(m) > 1}


def segment_traffic(
    seg: Segment, index: int, wl: Workload, inputs: Inputs
) -> tuple[np.ndarray | float, Profile]:
    """The peak-to-mean ratio and traffic profile segment ``index`` follows under ``inputs``."""
    traffic = wl.traffic_of(seg)
    weekly = traffic_profile(traffic)
    if traffic.peak_to_mean is None:
        return float(weekly.max()), weekly
    path: InputPath = ("segments", index, "traffic") if seg.traffic is not None else ("traffic",)
    ratio = inputs.get((*path, "peak_to_mean"), traffic.peak_to_mean)
    if isinstance(ratio, np.ndarray):  # sampled: each sample has its own daily curve
        return ratio, RatioCurve(ratio, daily_curve)
    return ratio, weekly


def own_load(index: int, demands: Demands, service: Service, util: np.ndarray | float) -> Load:
    """The load of a fleet serving segment ``index`` alone."""
    images, target, ratio, profile = demands.of(index)
    fleet = Fleet(service=service, p95_target_s=target, max_utilisation=util)
    per_request = demands.wl.segments[index].images_per_request
    return Load(images / per_request, ratio, profile, fleet)


def pooled_load(
    members: tuple[Member, ...], demands: Demands, util: np.ndarray | float
) -> tuple[Load, dict[int, np.ndarray]]:
    """The load of a fleet shared by ``members``, and each member's share of its busy GPU
    time (arrays (samples, months), summing to 1), keyed by segment index."""
    requests, busy, targets = [], [], []
    for m in members:
        images, target, _, _ = demands.of(m.index)
        requests.append(images / m.segment.images_per_request)
        busy.append(requests[-1] * m.service.mean)
        targets.append(target)
    weights = _weights(members, demands.centre)
    service = Service(
        times=tuple(t for m in members for t in m.service.times),
        shares=tuple(
            w * s for m, w in zip(members, weights, strict=True) for s in m.service.shares
        ),
    )
    target = targets[0]
    for t in targets[1:]:
        target = np.minimum(target, t)
    ratio, profile = _pooled_traffic(members, demands, weights)
    total = np.asarray(sum(requests), dtype=np.float64)
    fleet = Fleet(service=service, p95_target_s=target, max_utilisation=util)
    all_busy = np.asarray(sum(busy), dtype=np.float64)
    even = 1.0 / len(members)
    shares = {
        m.index: np.divide(b, all_busy, out=np.full_like(all_busy, even), where=all_busy > 0)
        for m, b in zip(members, busy, strict=True)
    }
    return Load(total, ratio, profile, fleet), shares


def fleet_reachable(load: Load) -> bool:
    """Whether an idle GPU meets the load's latency target in every sample."""
    return bool(np.all(reachable(load.fleet)))


def _weights(members: tuple[Member, ...], centre: Demands) -> list[float]:
    """Each member's share of the members' requests over the horizon, inputs at the centre."""
    totals = [float(centre.of(m.index)[0].sum()) / m.segment.images_per_request for m in members]
    whole = sum(totals)
    return [t / whole if whole > 0 else 1.0 / len(members) for t in totals]


def _pooled_traffic(
    members: tuple[Member, ...], demands: Demands, weights: list[float]
) -> tuple[np.ndarray | float, Profile]:
    """The common traffic of the members, else their weekly profiles mixed by ``weights``."""
    wl = demands.wl
    shapes = {wl.traffic_of(m.segment).model_dump_json() for m in members}
    if len(shapes) == 1:
        return demands.of(members[0].index)[2:]
    week = sum(
        w * traffic_profile(wl.traffic_of(m.segment)) for m, w in zip(members, weights, strict=True)
    )
    profile = np.asarray(week, dtype=np.float64)
    profile = profile / profile.mean()
    return float(profile.max()), profile
