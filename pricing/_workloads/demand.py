"""Demand of a workload: images per month by segment and size, and the traffic curve.

:func:`monthly_demand` is the base case's table (every uncertain input at its centre);
:func:`traffic_profile` gives the relative request rate of each hour of the week, from hourly
weights or from a bare peak-to-mean ratio (:func:`daily_curve`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from pricing._workloads.model import Segment, Traffic, Workload, central
from pricing.errors import PricingError

#: Hour (UTC) of the daily peak of the curve built from a bare ``peak_to_mean`` ratio.
PEAK_HOUR_UTC = 15


def _images_per_month(segment: Segment, months: int) -> list[float]:
    volume = segment.volume
    if volume.series is not None:
        return [central(v) for v in volume.series]
    base = central(volume.base) if volume.base is not None else 0.0
    growth = central(volume.growth) if volume.growth is not None else 0.0
    return [base * (1 + growth) ** i for i in range(months)]


DEMAND_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "month": pl.Date,
    "segment": pl.String,
    "operation": pl.String,
    "width": pl.Int64,
    "height": pl.Int64,
    "share": pl.Float64,
    "images": pl.Float64,
    "images_per_request": pl.Int64,
    "requests": pl.Float64,
    "steps": pl.Int64,
    "input_images": pl.Int64,
    "quality": pl.String,
    "p95_latency_s": pl.Float64,
}


def monthly_demand(workload: Workload) -> pl.DataFrame:
    """One row per (month, segment, width, height) with base (central) volumes.

    Columns: ``month`` (date, the 1st), ``segment``, ``operation``, ``width``/``height``
    [px], ``share`` [-], ``images`` [images/month], ``images_per_request``, ``requests``
    [requests/month], ``steps``, ``input_images`` [per request], ``quality``,
    ``p95_latency_s`` [s] (null = no target).
    """
    rows: dict[str, list[Any]] = {name: [] for name in DEMAND_SCHEMA}
    months = workload.month_starts()
    images = [_images_per_month(seg, len(months)) for seg in workload.segments]
    for m, month in enumerate(months):
        for seg, per_month in zip(workload.segments, images, strict=True):
            latency = central(seg.p95_latency_s) if seg.p95_latency_s is not None else None
            for res in seg.resolutions:
                sized = per_month[m] * res.share
                values = (
                    month,
                    seg.name,
                    seg.operation,
                    res.width,
                    res.height,
                    res.share,
                    sized,
                    seg.images_per_request,
                    sized / seg.images_per_request,
                    seg.steps,
                    seg.input_images,
                    seg.quality,
                    latency,
                )
                for name, value in zip(DEMAND_SCHEMA, values, strict=True):
                    rows[name].append(value)
    return pl.DataFrame(rows, schema=DEMAND_SCHEMA)


def traffic_profile(traffic: Traffic) -> npt.NDArray[np.float64]:
    """Relative request rate for each of the week's 168 hours, Monday 00:00 UTC first.

    The mean is 1.0. From ``hourly`` x ``weekday``; from a bare ``peak_to_mean`` ratio, a
    smooth single daily peak at ``PEAK_HOUR_UTC``, the same every day, with that ratio.
    """
    if traffic.hourly is not None:
        weekday = traffic.weekday if traffic.weekday is not None else [1.0] * 7
        week = np.outer(np.asarray(weekday, float), np.asarray(traffic.hourly, float)).ravel()
        profile: npt.NDArray[np.float64] = week / week.mean()
        return profile
    ratio = central(traffic.peak_to_mean) if traffic.peak_to_mean is not None else 1.0
    return np.tile(daily_curve(ratio), 7)


def daily_curve(ratio: float) -> npt.NDArray[np.float64]:
    """24 hourly rates, mean 1, max ``ratio``: a raised cosine to a power found by bisection."""
    return _daily_curve(float(ratio)).copy()


@lru_cache(maxsize=1024)
def _daily_curve(ratio: float) -> npt.NDArray[np.float64]:
    # memoised: a simulation asks for the same few ratios for every option
    if not 1 <= ratio <= 24:
        raise PricingError(
            f"peak_to_mean {ratio:g} cannot be drawn as a daily curve (needs 1 <= ratio <= 24); "
            "give `hourly` weights instead"
        )
    hours = np.arange(24)
    if ratio == 24:  # all of the day's traffic in its peak hour
        return np.where(hours == PEAK_HOUR_UTC, 24.0, 0.0)
    if ratio == 1:
        return np.ones(24)
    # A floor above 0 keeps peak/mean continuous in the power (an hour at exactly 0 would not be)
    cosine = 0.01 + 0.99 * (1 + np.cos(2 * np.pi * (hours - PEAK_HOUR_UTC) / 24)) / 2
    lo, hi = 0.0, 1.0
    while 1 / np.mean(cosine**hi) < ratio:  # max is 1, so peak/mean = 1/mean
        lo, hi = hi, hi * 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if 1 / np.mean(cosine**mid) < ratio else (lo, mid)
    curve: npt.NDArray[np.float64] = cosine**hi / np.mean(cosine**hi)
    return curve


def peak_to_mean(traffic: Traffic) -> float:
    """Peak hour's rate / mean rate: the given ratio, or the max of :func:`traffic_profile`."""
    if traffic.peak_to_mean is not None:
        return central(traffic.peak_to_mean)
    return float(traffic_profile(traffic).max())
