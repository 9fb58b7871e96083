"""Summaries of a simulation: the plan bought, the main segment, break-evens, the headline.

Tables only (no charts), so notebooks, the CLI and the dashboard read one answer instead of
each recomputing it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import polars as pl

from pricing._cards.catalog import Catalog
from pricing._dataset import DataSet
from pricing._plan.breakeven import BreakEven, break_even
from pricing._plan.hosted import segment_request
from pricing._plan.simulate import Simulation
from pricing._price.request import ImageRequest
from pricing._workloads.model import Segment, Workload


def plan_options(sim: Simulation) -> pl.DataFrame:
    """segment, option: the option bought for each segment, one row per segment.

    Of the options that serve every month of the horizon, the one that is the cheapest in
    most months (ties: the lower cost in those months). A segment none of whose monthly
    cheapest options serves every month takes its cheapest option over the horizon among those
    that do; only a segment with no such option at all takes the option cheapest in most
    months (its headline horizon cost is then null, never a partial sum).
    """
    full = option_totals(sim).filter(pl.col("feasible"))
    keys = ["segment", "option"]
    ranked = _most_months(sim.cheapest.join(full.select(keys), on=keys, how="semi"))
    by_horizon = full.group_by("segment", maintain_order=True).first().select(keys)
    plan = pl.concat([ranked, by_horizon.join(ranked, on="segment", how="anti")])
    plan = pl.concat([plan, _most_months(sim.cheapest).join(plan, on="segment", how="anti")])
    return plan.sort("segment")


def _most_months(cheapest: pl.DataFrame) -> pl.DataFrame:
    """segment, option: the option that is the cheapest in most of the months given."""
    return (
        cheapest.drop_nulls("option")
        .group_by("segment", "option")
        .agg(months=pl.len(), cost=pl.col("cost").sum())
        .sort(["segment", "months", "cost", "option"], descending=[False, True, False, False])
        .group_by("segment", maintain_order=True)
        .first()
        .select("segment", "option")
    )


def option_totals(sim: Simulation) -> pl.DataFrame:
    """One row per (segment, option) over the horizon, cheapest first within each segment.

    ``horizon_cost`` [currency], ``idle`` (GPU time paid but not busy) [currency] and
    ``per_image`` [currency/image] are null for an option that cannot serve every month: a
    partial sum would rank it below options that serve the whole horizon, and a missing price
    is never 0. ``reason`` says why (its first month without a price). ``grade`` is the
    evidence grade of the option's price (hosted: its source's; self-hosted: the GPU price's);
    ``shared_with`` the other segments its fleet also serves (``peak_gpus`` is then the
    shared fleet's).
    Options that serve every month come first.
    """
    every_month = pl.col("cost").is_not_null().all()
    return (
        sim.monthly.group_by("segment", "option", "kind", "mode", maintain_order=True)
        .agg(
            pl.when(every_month).then(pl.col("cost").sum()).alias("horizon_cost"),
            pl.col("images").sum(),
            (pl.col("feasible").all() & every_month).alias("feasible"),
            pl.col("gpus").max().alias("peak_gpus"),
            pl.col("utilisation").mean(),
            pl.col("keys_needed").max(),
            pl.col("reason").drop_nulls().first(),
            pl.when(every_month)
            .then(pl.col("cost").sum() - pl.col("cost_per_image_busy").mul(pl.col("images")).sum())
            .alias("idle"),
        )
        .with_columns(per_image=pl.col("horizon_cost") / pl.col("images"))
        .join(
            sim.options.select("segment", "option", "grade", "shared_with"),
            on=["segment", "option"],
            how="left",
            maintain_order="left",
        )
        .sort("segment", pl.col("feasible").not_(), "horizon_cost", "option", nulls_last=True)
    )


def plan_notes(sim: Simulation) -> list[str]:
    """Warnings about the plan of :func:`plan_options`: a segment that buys a share of a fleet
    the other segments of that fleet do not buy pays more than its share shows."""
    plan = plan_options(sim).join(
        sim.options.select("segment", "option", "shared_with"), on=["segment", "option"]
    )
    bought = set(plan.select("segment", "option").iter_rows())
    notes = []
    for segment, option, shared in plan.iter_rows():
        if not shared:
            continue
        missing = [s for s in shared.split(", ") if (s, option) not in bought]
        if missing:
            notes.append(
                f"{segment}: its plan, {option}, is a share of a fleet sized for "
                f"{', '.join(missing)} too, which the plan serves otherwise: alone it would "
                "need its own fleet and cost more than shown"
            )
    return notes


def main_segment(sim: Simulation, candidates: Iterable[str]) -> str | None:
    """The segment with the largest horizon spend among ``candidates``."""
    keep = list(candidates)
    spend = (
        sim.cheapest.filter(pl.col("segment").is_in(keep))
        .group_by("segment")
        .agg(pl.col("cost").sum())
        .sort(["cost", "segment"], descending=[True, False])
    )
    return str(spend["segment"][0]) if spend.height else None


def planned_request(sim: Simulation, segment: Segment) -> ImageRequest:
    """The request of the segment's main resolution, on the model its planned option serves."""
    plan = dict(plan_options(sim).iter_rows())
    row = sim.options.filter(
        (pl.col("segment") == segment.name) & (pl.col("option") == plan.get(segment.name, ""))
    )
    model = str(row["model"][0]) if row.height else segment.models[0]
    return segment_request(segment, model)


@dataclass(frozen=True)
class SegmentBreakEven:
    """A segment's break-even, the GPU-hour price it assumed [currency/GPU-h, the
    simulation's], and its label."""

    result: BreakEven
    gpu_hour: float
    label: str


def segment_break_even(
    work: Workload, segment: Segment, sim: Simulation, catalog: Catalog, data: DataSet
) -> SegmentBreakEven | None:
    """Break-even of the segment's cheapest dedicated set-up against a hosted offer.

    The hosted side is the cheapest offer of the same model when there is one (the like for
    like question: run it yourself or buy it), else the segment's cheapest hosted offer.
    ``None`` when the segment has no dedicated set-up, no hosted offer or no self-hosting terms.
    """
    horizon = (
        sim.monthly.filter((pl.col("segment") == segment.name) & pl.col("feasible"))
        .group_by("option")
        .agg(pl.col("cost").sum())
        .join(sim.options.filter(pl.col("segment") == segment.name), on="option")
        .sort("cost", "option")
    )
    dedicated = horizon.filter(pl.col("mode") == "dedicated")
    if dedicated.height == 0 or work.self_hosting is None:
        return None
    setup = dedicated.row(0, named=True)
    hosted = horizon.filter(pl.col("kind") == "hosted")
    same = hosted.filter(pl.col("model") == setup["model"])
    pick = same if same.height else hosted
    if pick.height == 0:
        return None
    offer = str(pick["offer_id"][0])
    gpu_offer = data.gpus.offer(str(setup["offer_id"]))
    request = segment_request(segment, str(setup["model"]))
    rates = sim.rates.first_month() if sim.rates is not None else None
    result = break_even(
        request,
        str(setup["offer_id"]),
        offer,
        hosting=replace(sim.hosting_terms(segment.name), precision=str(setup["precision"])),
        as_of=sim.as_of,
        catalog=catalog,
        data=data,
        currency=sim.currency,
        rates=rates,
    )
    label = f"{segment.name}: {setup['model']} on {setup['offer_id']} vs {offer}"
    gpu_hour = float(gpu_offer.gpu_hourly_price)
    if gpu_offer.currency != result.currency and rates is not None:
        gpu_hour *= rates.base(gpu_offer.currency)
    return SegmentBreakEven(result, gpu_hour, label)


def self_hosted_segments(sim: Simulation) -> list[str]:
    """Segments with at least one feasible self-hosted option, in the workload's order."""
    order = sim.options["segment"].unique(maintain_order=True).to_list()
    found = set(
        sim.monthly.filter((pl.col("kind") == "self-hosted") & pl.col("feasible"))["segment"]
    )
    return [s for s in order if s in found]


def segment_break_evens(
    work: Workload, sim: Simulation, catalog: Catalog, data: DataSet
) -> dict[str, SegmentBreakEven]:
    """:func:`segment_break_even` of every segment that has one, in the workload's order."""
    segments = {s.name: s for s in work.segments}
    out: dict[str, SegmentBreakEven] = {}
    for name in self_hosted_segments(sim):
        found = segment_break_even(work, segments[name], sim, catalog, data)
        if found is not None:
            out[name] = found
    return out


def headline(sim: Simulation, break_evens: dict[str, BreakEven]) -> pl.DataFrame:
    """One row per segment: its planned option, the evidence grade of its price, first-month
    and horizon cost, images, the cheapest hosted and self-hosted horizon costs, P(self-hosting
    is cheaper) in the last month (null when no self-hosted option was evaluated, with the
    reason in ``no_self_hosting``) and the break-even volume [images/month]."""
    plan = plan_options(sim).join(
        sim.options.select("segment", "option", "grade", "source_id"),
        on=["segment", "option"],
        how="left",
    )
    costs = (
        sim.monthly.join(plan, on=["segment", "option"])
        .sort("month")
        .group_by("segment", "option", "grade", "source_id", maintain_order=True)
        .agg(
            first_month=pl.col("cost").first(),
            horizon=pl.when(pl.col("cost").is_not_null().all()).then(pl.col("cost").sum()),
            images=pl.col("images").sum(),
        )
    )
    best = sim.cheapest.group_by("segment").agg(
        hosted_horizon=pl.col("hosted_cost").sum(),
        self_hosted_horizon=pl.when(pl.col("self_hosted_cost").is_not_null().all()).then(
            pl.col("self_hosted_cost").sum()
        ),
    )
    frame = costs.join(best, on="segment", how="left")
    if sim.self_hosting_cheaper is not None:
        last = sim.self_hosting_cheaper.sort("month").group_by("segment").last()
        frame = frame.join(
            last.select("segment", p_self_hosting_cheaper="probability"), on="segment", how="left"
        )
    else:
        frame = frame.with_columns(p_self_hosting_cheaper=pl.lit(None, pl.Float64))
    volumes = pl.DataFrame(
        {
            "segment": list(break_evens),
            "break_even_images": [b.volume for b in break_evens.values()],
        },
        schema={"segment": pl.String, "break_even_images": pl.Float64},
    )
    order = sim.options["segment"].unique(maintain_order=True).to_list()
    return (
        frame.join(volumes, on="segment", how="left")
        .join(sim.no_self_hosting.rename({"reason": "no_self_hosting"}), on="segment", how="left")
        .with_columns(order=pl.col("segment").replace_strict(order, list(range(len(order)))))
        .sort("order")
        .drop("order")
    )
