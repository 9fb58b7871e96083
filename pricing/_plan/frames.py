"""The tidy frames of a simulation's base case: options, months, line items, the cheapest.

Column names and dtypes are fixed by the schemas below (charts and notebooks build on them).
Each frame is built in one piece from the cost arrays of every option of a segment.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl

from pricing._plan.option_costs import Costs, SegmentRun
from pricing._selfhost.gpu_cost import SPARE_ITEM
from pricing._selfhost.terms import segment_terms
from pricing._workloads.model import Workload

OPTION_SCHEMA: dict[str, Any] = {
    "segment": pl.String,
    "option": pl.String,
    "kind": pl.String,
    "mode": pl.String,
    "model": pl.String,
    "offer_id": pl.String,
    "provider": pl.String,
    "gpu": pl.String,
    "category": pl.String,
    "precision": pl.String,
    "source_id": pl.String,
    "grade": pl.String,
    "shared_with": pl.String,
}
MONTHLY_SCHEMA: dict[str, Any] = {
    "segment": pl.String,
    "option": pl.String,
    "kind": pl.String,
    "mode": pl.String,
    "month": pl.Date,
    "images": pl.Float64,
    "cost": pl.Float64,
    "cost_per_image": pl.Float64,
    "cost_per_image_busy": pl.Float64,
    "gpus": pl.Int64,
    "utilisation": pl.Float64,
    "keys_needed": pl.Int64,
    "feasible": pl.Boolean,
    "reason": pl.String,
}
ITEM_SCHEMA: dict[str, Any] = {
    "segment": pl.String,
    "option": pl.String,
    "month": pl.Date,
    "item": pl.String,
    "cost": pl.Float64,
    "allocation": pl.String,
}


def option_rows(run: SegmentRun) -> list[dict[str, Any]]:
    """One row per option of the segment (see :data:`OPTION_SCHEMA`)."""
    rows = []
    for h in run.hosted:
        rows.append(
            {
                "segment": run.segment.name,
                "option": h.option,
                "kind": "hosted",
                "mode": "api",
                "model": h.model,
                "offer_id": h.offer_id,
                "provider": h.provider,
                "gpu": None,
                "category": None,
                "precision": None,
                "source_id": next((s for s in h.source if s), None),
                "grade": h.grade,
                "shared_with": None,
            }
        )
    for s in run.selfhosted:
        rows.append(
            {
                "segment": run.segment.name,
                "option": s.option,
                "kind": "self-hosted",
                "mode": s.mode,
                "model": s.model,
                "offer_id": s.offer_id,
                "provider": s.provider,
                "gpu": s.gpu,
                "category": s.category,
                "precision": s.precision,
                "source_id": s.source,
                "grade": s.grade,
                "shared_with": _shared_with(run, s.option),
            }
        )
    return rows


def _shared_with(run: SegmentRun, option: str) -> str | None:
    """The other segments whose traffic the option's fleet also serves, comma-separated."""
    members = run.shared.get(option, ())
    others = [m.segment.name for m in members if m.index != run.index]
    return ", ".join(others) or None


def monthly_frame(run: SegmentRun, costs: dict[str, Costs], days: list[date]) -> pl.DataFrame:
    """One row per (option, month) of the base case (sample 0; see :data:`MONTHLY_SCHEMA`)."""
    if not costs:
        return pl.DataFrame(schema=MONTHLY_SCHEMA)
    n = len(days)
    columns: dict[str, list[Any]] = {name: [] for name in MONTHLY_SCHEMA}
    numbers: dict[str, list[np.ndarray]] = {
        "images": [],
        "cost": [],
        "cost_per_image": [],
        "cost_per_image_busy": [],
    }
    for name, c in costs.items():
        total = c.total[0]
        images = c.images[0]
        busy_total = total - sum(
            (c.items[k][0] for k in ("GPU idle", SPARE_ITEM) if k in c.items), np.zeros(n)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            numbers["cost_per_image"].append(np.where(images > 0, total / images, np.nan))
            numbers["cost_per_image_busy"].append(np.where(images > 0, busy_total / images, np.nan))
        numbers["images"].append(np.broadcast_to(images, (n,)))
        numbers["cost"].append(np.broadcast_to(total, (n,)))
        for key, value in (
            ("segment", run.segment.name),
            ("option", name),
            ("kind", c.kind),
            ("mode", c.mode),
        ):
            columns[key] += [value] * n
        columns["month"] += days
        columns["gpus"] += [None] * n if c.gpus is None else [int(g) for g in c.gpus[0]]
        columns["utilisation"] += [None] * n if c.utilisation is None else c.utilisation[0].tolist()
        columns["keys_needed"] += c.keys
        columns["feasible"] += np.broadcast_to(c.feasible[0], (n,)).tolist()
        columns["reason"] += c.reasons
    data: dict[str, Any] = dict(columns)
    for key, parts in numbers.items():
        data[key] = np.concatenate(parts).astype(np.float64)
    return pl.DataFrame(data, schema=MONTHLY_SCHEMA).with_columns(
        # an option that cannot serve the month has no cost (never 0)
        [
            pl.when(pl.col("feasible")).then(pl.col(n)).alias(n)
            for n in ("cost", "cost_per_image", "cost_per_image_busy")
        ]
    )


def items_frame(run: SegmentRun, costs: dict[str, Costs], days: list[date]) -> pl.DataFrame:
    """One row per (option, line item, month) of the base case (see :data:`ITEM_SCHEMA`)."""
    n = len(days)
    options: list[str] = []
    items: list[str] = []
    allocation: list[str | None] = []
    values: list[np.ndarray] = []
    for name, c in costs.items():
        for item, cost in c.items.items():
            options.append(name)
            items.append(item)
            allocation.append(c.allocation.get(item))
            values.append(np.where(c.feasible[0], np.broadcast_to(cost[0], (n,)), np.nan))
    if not values:
        return pl.DataFrame(schema=ITEM_SCHEMA)
    return pl.DataFrame(
        {
            "segment": [run.segment.name] * (n * len(values)),
            "option": np.repeat(options, n).tolist(),
            "month": days * len(values),
            "item": np.repeat(items, n).tolist(),
            "cost": np.concatenate(values).astype(np.float64),
            "allocation": [a for a in allocation for _ in range(n)],
        },
        schema=ITEM_SCHEMA,
    ).with_columns(pl.col("cost").fill_nan(None))


def top_options(run: SegmentRun, monthly: pl.DataFrame, n: int) -> set[str]:
    """The ``n`` cheapest options over the horizon (feasible every month), always including
    the cheapest hosted and the cheapest self-hosted one."""
    mine = monthly.filter(pl.col("segment") == run.segment.name)
    totals = (
        mine.group_by("option", "kind")
        .agg(pl.col("cost").sum(), pl.col("feasible").all())
        .filter(pl.col("feasible"))
        .sort("cost", "option")
    )
    keep = set(totals["option"].head(n).to_list())
    for kind in ("hosted", "self-hosted"):
        best = totals.filter(pl.col("kind") == kind)["option"].head(1).to_list()
        keep.update(best)
    return keep


def cheapest(monthly: pl.DataFrame) -> pl.DataFrame:
    """Per (segment, month): the cheapest feasible option, hosted and self-hosted option."""
    ok = monthly.filter(pl.col("feasible") & pl.col("cost").is_not_null())
    keys = ["segment", "month"]

    def best(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
        return (
            frame.sort("cost", "option")
            .group_by(keys, maintain_order=True)
            .first()
            .select(
                *keys,
                pl.col("option").alias(f"{prefix}option"),
                pl.col("cost").alias(f"{prefix}cost"),
            )
        )

    overall = best(ok, "")
    hosted = best(ok.filter(pl.col("kind") == "hosted"), "hosted_")
    selfh = best(ok.filter(pl.col("kind") == "self-hosted"), "self_hosted_")
    return overall.join(hosted, on=keys, how="left").join(selfh, on=keys, how="left").sort(keys)


SEGMENT_SCHEMA: dict[str, Any] = {
    "segment": pl.String,
    "operation": pl.String,
    "width": pl.Int64,
    "height": pl.Int64,
    "images_per_request": pl.Int64,
    "input_images": pl.Int64,
    "quality": pl.String,
    "steps": pl.Int64,
    "p95_latency_s": pl.Float64,
    "peak_to_mean": pl.Float64,
    "max_utilisation": pl.Float64,
    "licence_per_month": pl.Float64,
    "ops_per_month": pl.Float64,
    "licence_included_images": pl.Float64,
    "licence_overage_per_image": pl.Float64,
}


def segments_frame(wl: Workload, rate: float = 1.0) -> pl.DataFrame:
    """What the simulation resolved for each segment: its main request and hosting terms.

    One row per segment: the request of its main resolution (the largest share of the mix),
    and the terms its self-hosted options run under, each uncertain input at its centre; the
    workload's money (licence, operations) times ``rate`` [plan currency/workload currency].
    """
    rows = []
    for seg in wl.segments:
        main = max(seg.resolutions, key=lambda r: r.share)
        terms = segment_terms(wl, seg)
        rows.append(
            {
                "segment": seg.name,
                "operation": seg.operation,
                "width": main.width,
                "height": main.height,
                "images_per_request": seg.images_per_request,
                "input_images": seg.input_images,
                "quality": seg.quality,
                "steps": seg.steps,
                "p95_latency_s": terms.p95_latency_s,
                "peak_to_mean": terms.peak_to_mean,
                "max_utilisation": terms.max_utilisation,
                "licence_per_month": terms.licence_per_month * rate,
                "ops_per_month": terms.ops_per_month * rate,
                "licence_included_images": terms.licence_included_images,
                "licence_overage_per_image": terms.licence_overage_per_image * rate,
            }
        )
    return pl.DataFrame(rows, schema=SEGMENT_SCHEMA)
