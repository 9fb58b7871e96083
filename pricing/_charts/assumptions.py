"""The assumptions behind a dashboard's figures, in words: what the page states on its first
screen so that a reader who never saw the workload file knows what was priced.

Per segment: operation, sizes, steps, models, latency target and volume (each uncertain number
with its distribution); the self-hosting terms; then the evidence policy, the price day, the
samples and the currency. Money the workload states is in the workload's currency.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from pricing._charts.labels import Labels
from pricing._plan.simulate import Simulation
from pricing._plan.summary import plan_options
from pricing._workloads.distributions import (
    LogNormal,
    Normal,
    SourcesRange,
    Triangular,
    Uniform,
)
from pricing._workloads.model import Segment, SelfHosting, Workload

Format = Callable[[float], str]


def count(x: float) -> str:
    """``200,000``."""
    return f"{x:,.0f}"


def percent(x: float) -> str:
    """``3%`` (``2.5%``)."""
    return f"{x * 100:,.3g}%"


def amount(x: float) -> str:
    """``1,000`` or ``0.07``: money without its currency, to the cent where it has cents."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}" if abs(x) < 1 else f"{x:,.2f}"


def number_words(
    x: float | Uniform | Triangular | Normal | LogNormal | SourcesRange | None, fmt: Format
) -> str:
    """A workload number in words: itself, or its distribution's centre and range."""
    if x is None:
        return "not set"
    if isinstance(x, Triangular):
        return f"{fmt(x.mode)} (triangular, {fmt(x.low)} to {fmt(x.high)})"
    if isinstance(x, Uniform):
        return f"{fmt((x.low + x.high) / 2)} (uniform, {fmt(x.low)} to {fmt(x.high)})"
    if isinstance(x, Normal):
        return f"{fmt(x.mean)} (normal, standard deviation {fmt(x.sd)})"
    if isinstance(x, LogNormal):
        return f"{fmt(x.median)} (log-normal median, sigma {x.sigma:g})"
    if isinstance(x, SourcesRange):
        return "sampled across the sources' prices"
    return fmt(float(x))


def _volume(seg: Segment, start: str, images: float | None) -> str:
    """``200,000 images in Jan 2027 (triangular ...), growing 3% a month -> 2.8M images``."""
    vol = seg.volume
    if vol.series is not None:
        listed = ", ".join(number_words(v, count) for v in vol.series)
        text = f"images per month as listed: {listed}"
    else:
        text = f"{number_words(vol.base, count)} images in {start}"
        if vol.growth is not None:
            text += f", growing {number_words(vol.growth, percent)} a month"
    if images is not None:
        text += f"; {count(images)} images over the horizon (base case)"
    return text


def segment_words(seg: Segment, labels: Labels, start: str, images: float | None) -> str:
    """One segment's request, models, latency target and volume."""
    sizes = ", ".join(
        f"{r.width}x{r.height}" + ("" if r.share == 1 else f" ({r.share:.0%})")
        for r in seg.resolutions
    )
    parts = [f"{seg.operation}, {sizes}"]
    if seg.images_per_request > 1:
        parts.append(f"{seg.images_per_request} images per request")
    if seg.input_images:
        parts.append(f"{seg.input_images} input image{'s' if seg.input_images > 1 else ''}")
    if seg.steps is not None:
        parts.append(f"{seg.steps} steps")
    if seg.quality is not None:
        parts.append(f"quality {seg.quality}")
    if seg.p95_latency_s is not None:
        parts.append(f"p95 latency at most {number_words(seg.p95_latency_s, amount)} s")
    models = ", ".join(labels.model(m) for m in seg.models)
    return f"{'; '.join(parts)}. Models: {models}. Volume: {_volume(seg, start, images)}."


def self_hosting_words(sh: SelfHosting, labels: Labels, currency: str) -> str:
    """The self-hosting terms: GPUs, categories, utilisation, operations, licence, storage."""
    gpus = ", ".join(labels.gpu(g) for g in sh.gpus) if sh.gpus else "every GPU with a profile"
    parts = [f"GPUs: {gpus}"]
    if sh.categories:
        parts.append("pricing: " + ", ".join(sh.categories))
    parts.append(f"utilisation at most {number_words(sh.max_utilisation, percent)}")
    parts.append(
        f"operations {number_words(sh.ops_hours_per_month, amount)} h a month at "
        f"{number_words(sh.ops_hourly_rate, amount)} {currency}/h"
    )
    if sh.licence is not None:
        lic = sh.licence
        free = not (lic.monthly_fee or lic.overage_per_image)
        parts.append(
            "licence: no fee, as the workload states (its own terms, in no source: check "
            "the licence of the weights run)"
            if free
            else f"licence {number_words(lic.monthly_fee, amount)} {currency} a month for "
            f"{number_words(lic.included_images, count)} images, then "
            f"{number_words(lic.overage_per_image, amount)} {currency} an image (the "
            "workload's terms)"
        )
    if sh.storage_gb:
        parts.append(
            f"storage {number_words(sh.storage_gb, count)} GB at "
            f"{number_words(sh.storage_per_gb_month, amount)} {currency}/GB-month"
        )
    if sh.egress_gb_per_month:
        parts.append(
            f"egress {number_words(sh.egress_gb_per_month, count)} GB a month at "
            f"{number_words(sh.egress_per_gb, amount)} {currency}/GB"
        )
    return "; ".join(parts) + "."


def assumption_rows(work: Workload, sim: Simulation, labels: Labels) -> list[tuple[str, str]]:
    """(term, text) rows: each segment, the self-hosting terms, then how it was priced."""
    start = f"{work.start:%b %Y}"
    images = (
        sim.monthly.join(plan_options(sim), on=["segment", "option"])
        .group_by("segment")
        .agg(pl.col("images").sum())
    )
    per = dict(images.iter_rows())
    rows = [
        (f"Segment \u201c{s.name}\u201d", segment_words(s, labels, start, per.get(s.name)))
        for s in work.segments
    ]
    if work.self_hosting is not None:
        rows.append(("Self-hosting", self_hosting_words(work.self_hosting, labels, work.currency)))
    return rows
