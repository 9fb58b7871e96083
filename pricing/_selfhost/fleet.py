"""Fleet sizing over arrays: the GPUs each arrival rate needs, for many samples at once.

A :class:`Fleet` holds what sizes one option's fleet: the service time of the segment's mix
on one GPU, the p95 latency target and the utilisation cap (each a number or an array over
samples). :func:`servers_for` sizes it at arrays of arrival rates with the queueing model of
:mod:`pricing._queue.mgc`, sizing each distinct rate once, or, when there are many (Monte Carlo),
on a cached geometric grid of rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


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
    from pricing._queue.sizing import target_reachable

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
    cap = np.asarray(fleet.max_utilisation, dtype=np.float64)
    if target.size == 1 and cap.size == 1:  # one level: the common case
        level = _servers_level(rate.ravel(), fleet, float(target), float(cap), min_servers)
        return level.reshape(rate.shape)
    # Targets and caps vary by sample, not by month: level them on their own shape (each
    # sample's value standing for its months), not on one copy per month.
    shape = np.broadcast_shapes(target.shape, cap.shape)
    repeat = rate.size // max(math.prod(shape), 1)
    if rate.ndim != 2 or shape not in ((rate.shape[0], 1), rate.shape):
        shape, repeat = rate.shape, 1
    pairs, codes = level_codes(
        np.broadcast_to(target, shape).ravel(), np.broadcast_to(cap, shape).ravel(), repeat
    )
    flat = rate.ravel()
    out = np.empty(flat.shape, dtype=np.int64)
    for j, (t, c) in enumerate(pairs):
        sel = codes == j
        out[sel] = _servers_level(flat[sel], fleet, float(t), float(c), min_servers)
    return out.reshape(rate.shape)


#: Most distinct (latency target, utilisation cap) pairs sized in one call; more sampled pairs
#: are rounded down (more GPUs) to this many levels.
CURVE_LEVELS = 8
#: Rates sized one by one; more distinct rates are sized on the geometric grid.
EXACT_RATES = 512
_GRID_PER_DECADE = 500
_GRID_CACHE: dict[tuple[object, ...], dict[int, int]] = {}


def level_codes(
    target: np.ndarray, cap: np.ndarray, repeat: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(target, cap) pairs reduced to at most CURVE_LEVELS, each rounded down (more GPUs).

    Unchanged when there are few pairs; else the elements are split into CURVE_LEVELS groups
    of equal size by their target (or cap), and each group takes its smallest target and
    smallest cap. Each pair given stands for ``repeat`` consecutive elements (a sample's
    months): grouped as if it had been given ``repeat`` times, without building the copies.

    Returns
    -------
    levels : ndarray, shape (levels, 2)
        Distinct (target [s], cap [-]) pairs, sorted.
    codes : ndarray of int, shape (len(target) * repeat,)
        The row of ``levels`` of each element.
    """
    # every option of a segment levels the same sampled targets and caps: do it once
    key = (_digest(target), _digest(cap), repeat)
    if key not in _LEVEL_CACHE:
        if len(_LEVEL_CACHE) > 64:
            _LEVEL_CACHE.clear()
        _LEVEL_CACHE[key] = _level_codes(target, cap, repeat)
    return _LEVEL_CACHE[key]


_LEVEL_CACHE: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray]] = {}


def _digest(values: np.ndarray) -> tuple[object, ...]:
    data = np.ascontiguousarray(values, dtype=np.float64)
    return data.shape, hash(data.tobytes())


def _level_codes(target: np.ndarray, cap: np.ndarray, repeat: int) -> tuple[np.ndarray, np.ndarray]:
    pairs, inverse = np.unique(np.stack([target, cap], axis=1), axis=0, return_inverse=True)
    if len(pairs) <= CURVE_LEVELS:
        return pairs, np.repeat(inverse.ravel(), repeat)
    key = target if len(np.unique(target)) > 1 else cap
    order = np.argsort(key, kind="stable")
    rank = np.empty(len(key), dtype=np.int64)
    rank[order] = np.arange(len(key))
    size = len(key) * repeat
    # element m of the pair ranked r sits at position r * repeat + m of the sorted elements
    group = (rank[:, None] * repeat + np.arange(repeat)[None, :]) * CURVE_LEVELS // size
    low = np.full((CURVE_LEVELS, 2), np.inf)
    for g in range(CURVE_LEVELS):
        # the pairs with an element in group g: a run of the sorted pairs
        first = -(-g * size // CURVE_LEVELS) // repeat
        last = (-(-(g + 1) * size // CURVE_LEVELS) - 1) // repeat
        members = order[first : last + 1]
        if len(members):
            low[g] = target[members].min(), cap[members].min()
    levels, code_of_group = np.unique(low, axis=0, return_inverse=True)
    return levels, code_of_group.ravel()[group.ravel()]


def few_distinct(values: np.ndarray, most: int) -> bool:
    """Whether ``values`` holds at most ``most`` distinct numbers (cheap when it does not)."""
    if values.size <= most:
        return True
    # a spread-out sample with more distinct values settles it without sorting the whole array
    if len(np.unique(values[:: max(values.size // (4 * most), 1)])) > most:
        return False
    return len(np.unique(values)) <= most


def _servers_level(
    rates: np.ndarray, fleet: Fleet, target: float, cap: float, min_servers: int
) -> np.ndarray:
    from pricing._queue.mgc import size_fleet_array

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

    if few_distinct(rates, EXACT_RATES):
        distinct, inverse = np.unique(rates, return_inverse=True)
        return size(distinct)[inverse.ravel()]
    out = np.full(rates.shape, min_servers, dtype=np.int64)
    busy = rates > 0
    k = np.ceil(np.log10(rates[busy]) * _GRID_PER_DECADE - 1e-9).astype(np.int64)
    if k.size == 0:
        return out
    # grid points seen, as offsets from the lowest: a table lookup instead of a sort
    first = int(k.min())
    offset = k - first
    seen = np.zeros(int(offset.max()) + 1, dtype=bool)
    seen[offset] = True
    points = np.flatnonzero(seen) + first
    known = _GRID_CACHE.setdefault((fleet.service, fleet.quantile, target, cap, min_servers), {})
    missing = [p for p in points.tolist() if p not in known]
    if missing:
        grid = np.asarray(missing, dtype=np.float64)
        sized = size(10.0 ** (grid / _GRID_PER_DECADE))
        known.update(zip(missing, sized.tolist(), strict=True))
    table = np.zeros(len(seen), dtype=np.int64)
    table[points - first] = [known[p] for p in points.tolist()]
    out[busy] = table[offset]
    return out


def whole_instances(gpus: np.ndarray, per_instance: int) -> np.ndarray:
    """GPUs rounded up to whole instances of ``per_instance`` GPUs each."""
    return np.ceil(gpus / per_instance).astype(np.int64) * per_instance
