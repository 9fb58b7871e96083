"""Following a traffic curve hour by hour: the GPUs an autoscaled or serverless fleet runs.

The fleet is sized for each hour of a typical week (the mean rate of the month times the
hour's relative rate) and rounded up to whole instances, never below a minimum. From the
hourly fleet come the GPU-hours a week, the GPUs started a week (scale-ups) and the peak.

The curve is either one weekly profile for every sample (hourly weights, or a fixed
peak-to-mean ratio) or a :class:`RatioCurve`: a daily curve drawn from each sample's own
peak-to-mean ratio, when that ratio is uncertain. A curve that repeats every day is followed
over one day and counted seven times a week (the same integers, 7x less work).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pricing._selfhost.fleet import EXACT_RATES, Fleet, few_distinct, level_codes, servers_for
from pricing._selfhost.fleet import whole_instances as _whole_instances
from pricing.errors import PricingError

HOURS_PER_WEEK = 168

#: Sampled peak-to-mean ratios followed one by one; more are followed at nodes and
#: interpolated (see :func:`follow_curve`).
EXACT_RATIOS = 8
#: Relative spacing of those nodes [-] (a 1% step, like the grid of rates), and their most.
RATIO_STEP = 0.01
RATIO_NODES = 65


@dataclass(frozen=True)
class RatioCurve:
    """A daily traffic curve drawn from each sample's own peak-to-mean ratio.

    Attributes
    ----------
    ratio : ndarray, shape (samples,) or (samples, 1)
        Peak hour's request rate / the month's mean rate, per sample [-].
    daily : callable
        ``daily(r)``: the relative rate of each hour of a day for ratio ``r`` (24 values,
        mean 1, max ``r``), the same every day of the week.
    """

    ratio: np.ndarray
    daily: Callable[[float], np.ndarray]


#: What a fleet follows: relative hourly rates (168 for a week from Monday 00:00 UTC, or 24
#: for a day repeated all week; mean 1), or a curve per sample.
Profile = np.ndarray | RatioCurve
Curves = tuple[np.ndarray, np.ndarray, np.ndarray]


def follow_curve(
    mean_rate: np.ndarray,
    profile: Profile,
    fleet: Fleet,
    per_instance: int,
    min_gpus: int,
) -> Curves:
    """GPU-hours per week, scale-up events (GPUs started) per week and the peak fleet.

    ``mean_rate`` [requests/s] has shape (samples, months); each distinct (target, cap)
    level of the samples is followed on its own (see :func:`pricing._selfhost.fleet.servers_for`).
    With a :class:`RatioCurve`, up to :data:`EXACT_RATIOS` distinct ratios are followed one
    by one; more are followed at nodes :data:`RATIO_STEP` apart (at most
    :data:`RATIO_NODES`) between the lowest and highest ratio, and each sample's results are
    interpolated linearly between the two nodes around its ratio (its peak rounded up).
    """
    rows = mean_rate.shape[0]
    target = np.broadcast_to(np.asarray(fleet.p95_target_s, dtype=np.float64), (rows, 1))[:, 0]
    cap = np.broadcast_to(np.asarray(fleet.max_utilisation, dtype=np.float64), (rows, 1))[:, 0]
    levels, codes = level_codes(target, cap)
    out = [np.empty(mean_rate.shape) for _ in range(3)]
    if isinstance(profile, RatioCurve):
        ratio = np.broadcast_to(np.asarray(profile.ratio, dtype=np.float64).ravel(), (rows,))
        nodes = _ratio_nodes(ratio)
    for j, (t, c) in enumerate(levels):
        sel = codes == j
        level = Fleet(fleet.service, float(t), float(c), fleet.quantile)
        if isinstance(profile, RatioCurve):
            values = _by_ratio(
                mean_rate[sel], ratio[sel], nodes, profile.daily, level, per_instance, min_gpus
            )
        else:
            values = _curve(mean_rate[sel], profile, level, per_instance, min_gpus)
        for arr, value in zip(out, values, strict=True):
            arr[sel] = value
    return out[0], out[1], out[2]


def _ratio_nodes(ratio: np.ndarray) -> np.ndarray | None:
    """Ratios to follow the curve at and interpolate between; None: follow each one."""
    distinct = np.unique(ratio)
    if len(distinct) <= EXACT_RATIOS:
        return None
    lo, hi = float(distinct[0]), float(distinct[-1])
    count = math.ceil(math.log(hi / lo) / math.log1p(RATIO_STEP)) + 1
    return np.geomspace(lo, hi, min(max(count, 2), RATIO_NODES))


def _by_ratio(
    mean_rate: np.ndarray,
    ratio: np.ndarray,
    nodes: np.ndarray | None,
    daily: Callable[[float], np.ndarray],
    fleet: Fleet,
    per_instance: int,
    min_gpus: int,
) -> Curves:
    """:func:`follow_curve` of one level with a daily curve per row (see there)."""
    if nodes is None:
        out = [np.zeros(mean_rate.shape) for _ in range(3)]
        for r in np.unique(ratio):
            sel = ratio == r
            values = _curve(mean_rate[sel], daily(float(r)), fleet, per_instance, min_gpus)
            for arr, value in zip(out, values, strict=True):
                arr[sel] = value
        return out[0], out[1], out[2]
    key = (fleet, per_instance, min_gpus, daily, _digest(mean_rate), _digest(ratio), _digest(nodes))
    if key not in _CURVE_CACHE:
        curves = _interpolated(mean_rate, ratio, nodes, daily, fleet, per_instance, min_gpus)
        _remember(key, curves)
    return _CURVE_CACHE[key]


def _interpolated(
    mean_rate: np.ndarray,
    ratio: np.ndarray,
    nodes: np.ndarray,
    daily: Callable[[float], np.ndarray],
    fleet: Fleet,
    per_instance: int,
    min_gpus: int,
) -> Curves:
    """Followed on a table of (rate, ratio node) points and interpolated in both."""
    flat = mean_rate.ravel()
    points, _ = _rate_points(flat)
    shapes = np.stack([_one_period(daily(float(r))) for r in nodes])
    hours, ups, peak = _tables(points, shapes, fleet, per_instance, min_gpus)
    # where each element falls between two rate points (i, i + 1) and two nodes (k, k + 1)
    i = np.clip(np.searchsorted(points, flat, side="right") - 1, 0, max(len(points) - 2, 0))
    j = np.minimum(i + 1, len(points) - 1)
    gap = points[j] - points[i]
    f = np.divide(flat - points[i], gap, out=np.zeros_like(flat), where=gap > 0)
    k = np.clip(np.searchsorted(nodes, ratio, side="right") - 1, 0, len(nodes) - 2)
    g = (ratio - nodes[k]) / (nodes[k + 1] - nodes[k])
    months = mean_rate.shape[1] if mean_rate.ndim == 2 else 1
    k, g = np.repeat(k, months), np.repeat(g, months)

    def blend(table: np.ndarray) -> np.ndarray:
        near = (1 - f) * table[i, k] + f * table[j, k]
        far = (1 - f) * table[i, k + 1] + f * table[j, k + 1]
        return np.asarray((1 - g) * near + g * far, dtype=np.float64).reshape(mean_rate.shape)

    return blend(hours), blend(ups), np.ceil(blend(peak) - 1e-9)


_CURVE_CACHE: dict[tuple[object, ...], Curves] = {}


def _digest(values: np.ndarray) -> tuple[object, ...]:
    data = np.ascontiguousarray(values, dtype=np.float64)
    return data.shape, hash(data.tobytes())


def _remember(key: tuple[object, ...], curves: Curves) -> None:
    if len(_CURVE_CACHE) > 256:
        _CURVE_CACHE.clear()
    _CURVE_CACHE[key] = curves


def _curve(
    mean_rate: np.ndarray,
    profile: np.ndarray,
    fleet: Fleet,
    per_instance: int,
    min_gpus: int,
) -> Curves:
    """Memoised :func:`_follow_one` (offers of one GPU type share their curves)."""
    key = (fleet, per_instance, min_gpus, _digest(mean_rate), _digest(profile))
    if key not in _CURVE_CACHE:
        _remember(key, _follow_one(mean_rate, profile, fleet, per_instance, min_gpus))
    return _CURVE_CACHE[key]


def _follow_one(
    mean_rate: np.ndarray,
    profile: np.ndarray,
    fleet: Fleet,
    per_instance: int,
    min_gpus: int,
) -> Curves:
    """:func:`follow_curve` for one target, cap and profile.

    Computed on the distinct mean rates; when there are many (Monte Carlo), on a geometric
    grid of rates 1% apart and interpolated, which moves a result by at most the GPUs of
    one step at one hour.
    """
    flat = mean_rate.ravel()
    points, exact = _rate_points(flat)
    weights = _one_period(np.asarray(profile, dtype=np.float64))[None, :]
    hours, ups, peak = (t[:, 0] for t in _tables(points, weights, fleet, per_instance, min_gpus))
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


def _rate_points(flat: np.ndarray) -> tuple[np.ndarray, bool]:
    """The mean rates to follow the curve at, sorted, and whether they are all of ``flat``.

    The distinct rates when there are few; else a geometric grid 1% apart (at most 1,000
    points) from the lowest positive rate to the highest, and 0.
    """
    if few_distinct(flat, EXACT_RATES):
        return np.unique(flat), True
    positive = flat[flat > 0]  # > EXACT_RATES distinct rates, so at least two positive ones
    lo, hi = float(positive.min()), float(positive.max())
    n = math.ceil(math.log(hi / lo) / math.log(1.01)) + 1
    return np.unique(np.concatenate([[0.0], np.geomspace(lo, hi, min(n, 1000))])), False


def _tables(
    points: np.ndarray, shapes: np.ndarray, fleet: Fleet, per_instance: int, min_gpus: int
) -> Curves:
    """GPU-hours and GPUs started a week, and the peak, for each (mean rate, curve) pair.

    ``shapes`` holds one curve per row (24 or 168 relative hourly rates); the tables have
    shape (len(points), len(shapes)).
    """
    per_week = HOURS_PER_WEEK // shapes.shape[1]
    per_hour = servers_for(points[:, None, None] * shapes[None, :, :], fleet, min_servers=0)
    per_hour = np.maximum(_whole_instances(per_hour, per_instance), min_gpus)
    hours = per_hour.sum(axis=2).astype(np.float64) * per_week
    starts = np.maximum(per_hour - np.roll(per_hour, 1, axis=2), 0)
    ups = starts.sum(axis=2).astype(np.float64) * per_week
    return hours, ups, per_hour.max(axis=2).astype(np.float64)


def _one_period(weights: np.ndarray) -> np.ndarray:
    """The week's hourly weights, or one day's when every day of the week is the same."""
    if len(weights) == HOURS_PER_WEEK and (weights.reshape(7, 24) == weights[:24]).all():
        return weights[:24]
    if len(weights) not in (24, HOURS_PER_WEEK):
        raise PricingError(
            f"a traffic profile has 24 (a day) or 168 (a week) hourly weights, got {len(weights)}"
        )
    return weights
