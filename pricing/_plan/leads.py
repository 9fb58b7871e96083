"""Unverified leads of a simulation: hosted offers the trust policy left without a price,
priced anyway so that a reader sees what was set aside, for how much, and why."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl

from pricing._evidence.flags import evidence_on
from pricing._evidence.grades import TrustPolicy
from pricing._evidence.trust import Trusted
from pricing._plan.fx import FxPlan
from pricing._plan.hosted import Shape, hosted_options, segment_request
from pricing._plan.option_costs import SegmentRun
from pricing._selfhost.setups import GpuTrust

LEAD_SCHEMA: dict[str, Any] = {
    "segment": pl.String,
    "option": pl.String,
    "offer_id": pl.String,
    "provider": pl.String,
    "model": pl.String,
    "grade": pl.String,
    "flags": pl.String,
    "reason": pl.String,
    "month": pl.Date,
    "images": pl.Float64,
    "cost_per_image": pl.Float64,
    "cost": pl.Float64,
    "gpu_hour": pl.Float64,
}

_ALL = TrustPolicy.parse("all")


def lead_frame(
    runs: list[SegmentRun],
    trust: Trusted,
    days: list[date],
    monthly: pl.DataFrame,
    gpu_trusts: dict[str, GpuTrust],
    hosted: bool = True,
    fx: FxPlan | None = None,
) -> pl.DataFrame:
    """One row per (segment, offer) the policy left without a price in any month, priced in
    its first month with a price under every grade and flag; then the GPU offers it left out
    of each segment's self-hosted set-ups, with their GPU-hour price. Money is in ``fx``'s
    currency (the offer's month's rate; a GPU-hour price at the first month's)."""

    def rate(currency: str, month: int = 0) -> float:
        return 1.0 if fx is None else fx.base(currency, month)

    rows: list[dict[str, Any]] = []
    for run in runs if hosted else []:
        seg = run.segment
        priced = {h.offer_id for h in run.hosted if any(not math.isnan(u) for u in h.unit)}
        images = _images(monthly, seg.name, len(days))
        for model in seg.models:
            if model not in trust.full.models:
                continue
            candidates = {
                o.id for o in trust.full.offers(model=model, operation=seg.operation)
            } - priced
            if not candidates:
                continue
            shapes = [Shape(segment_request(seg, model, r), r.share) for r in seg.resolutions]
            for h in hosted_options(
                shapes, [model], seg.operation, days, trust.full, _ALL, only=candidates
            ):
                m = next((i for i, u in enumerate(h.unit) if not math.isnan(u)), None)
                if m is None or trust.why_excluded(h.offer_id) is None:
                    continue  # it cannot serve the segment at all: not a lead
                version = f"{h.version[m]}/{h.source[m]}"
                r = rate(h.currency, m)
                ev = evidence_on(trust.full, h.offer_id, version, days[m])
                rows.append(
                    {
                        "segment": seg.name,
                        "option": h.option,
                        "offer_id": h.offer_id,
                        "provider": h.provider,
                        "model": h.model,
                        "grade": ev.grade,
                        "flags": "; ".join(str(f) for f in ev.flags) or None,
                        "reason": trust.policy.why_not(ev) or trust.why_excluded(h.offer_id),
                        "month": days[m],
                        "images": images[m],
                        "cost_per_image": float(h.unit[m]) * r,
                        "cost": h.month_cost(m, images[m]) * r if images[m] == images[m] else None,
                        "gpu_hour": None,
                    }
                )
    for segment, trust_gpu in gpu_trusts.items():
        rows += gpu_lead_rows(segment, trust_gpu, rate)
    frame = pl.DataFrame(rows, schema=LEAD_SCHEMA)
    return frame.sort(["segment", "cost_per_image", "gpu_hour", "offer_id"], nulls_last=True)


def gpu_lead_rows(
    segment: str, trust: GpuTrust, rate: Callable[[str], float] | None = None
) -> list[dict[str, Any]]:
    """GPU offers the policy left out of a segment's self-hosted set-ups: their GPU-hour
    price (times ``rate(offer currency)``) and why (a set-up on them is never costed, so it
    is never an answer)."""
    return [
        {
            "segment": segment,
            "option": f"self-hosted:{offer.id}:{model}",
            "offer_id": offer.id,
            "provider": offer.provider,
            "model": model,
            "grade": ev.grade,
            "flags": "; ".join(str(f) for f in ev.flags) or None,
            "reason": trust.policy.why_not(ev),
            "month": None,
            "images": None,
            "cost_per_image": None,
            "cost": None,
            "gpu_hour": float(offer.gpu_hourly_price)
            * (1.0 if rate is None else rate(offer.currency)),
        }
        for offer, model, ev in trust.left_out
    ]


def _images(monthly: pl.DataFrame, segment: str, months: int) -> list[float]:
    """The segment's images per month (the same for every option), NaN when unknown."""
    seg = monthly.filter(pl.col("segment") == segment)
    if seg.height == 0:
        return [math.nan] * months
    first = seg.filter(pl.col("option") == seg["option"][0]).sort("month")
    return [float(x) if x is not None else math.nan for x in first["images"].to_list()]
