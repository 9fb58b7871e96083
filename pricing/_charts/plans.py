"""Charts of a simulation: monthly spend, fan chart, tornado, fleet, and break-even.

Each builder takes what the engine returns (:class:`~pricing.Simulation`,
:class:`~pricing.BreakEven`) and returns an Altair chart. What-if parameters are Vega-Lite
parameters computed in the browser from the exported data, so they keep working in a saved
HTML file with no Python behind it.
"""

from __future__ import annotations

import json
import math

import altair as alt
import polars as pl

from pricing._charts.theme import (
    BUDGET_COLOUR,
    ITEM_COLOURS,
    inline,
    money_axis,
    money_format,
    money_title,
    require_rows,
    rounded,
)
from pricing._plan.breakeven import BreakEven
from pricing._plan.simulate import Simulation
from pricing._selfhost.gpu_cost import HOURS_PER_MONTH
from pricing.errors import PricingError

#: Legend selection of options on the fan chart; the tornado chart follows it.
OPTION_PARAM = "option_pick"
GPU_HOUR_PARAM = "gpu_hour"
VOLUME_PARAM = "log10_volume"
PEAK_PARAM = "peak_factor"


def _segment(sim: Simulation, segment: str | None) -> str:
    segments = sim.options["segment"].unique(maintain_order=True).to_list()
    if segment is None:
        return str(segments[0])
    if segment not in segments:
        raise PricingError(f"unknown segment {segment!r}; the workload has: {', '.join(segments)}")
    return segment


def _check_option(sim: Simulation, segment: str, option: str) -> None:
    known = sim.options.filter(pl.col("segment") == segment)["option"].to_list()
    if option not in known:
        close = [o for o in known if option in o][:5] or known[:5]
        raise PricingError(f"segment {segment!r} has no option {option!r}; e.g. {', '.join(close)}")


def plan_options(sim: Simulation) -> pl.DataFrame:
    """segment, option: the option that is cheapest in most months of each segment."""
    return (
        sim.cheapest.drop_nulls("option")
        .group_by("segment", "option")
        .agg(months=pl.len(), cost=pl.col("cost").sum())
        .sort(["segment", "months", "cost"], descending=[False, True, False])
        .group_by("segment", maintain_order=True)
        .first()
        .select("segment", "option")
    )


def spend_chart(
    sim: Simulation,
    *,
    plan: dict[str, str] | None = None,
    budget: float | None = None,
) -> alt.LayerChart:
    """Stacked monthly spend by line item, with an optional budget line.

    Parameters
    ----------
    sim : Simulation
    plan : dict of segment -> option, optional
        The option bought for each segment (default: each segment's cheapest option in most
        months, see :func:`plan_options`).
    budget : float, optional  [currency/month]
        Draws a budget line; months above it are named in the tooltip.
    """
    chosen = plan if plan is not None else dict(plan_options(sim).iter_rows())
    for segment, option in chosen.items():
        _check_option(sim, _segment(sim, segment), option)
    picks = pl.DataFrame(
        {"segment": list(chosen), "option": list(chosen.values())},
        schema={"segment": pl.String, "option": pl.String},
    )
    items = (
        sim.line_items.join(picks, on=["segment", "option"])
        .group_by("month", "item")
        .agg(pl.col("cost").sum())
        .filter(pl.col("cost") != 0)
        .sort("month", "item")
    )
    require_rows(items, "spend_chart", "no option of the plan has a cost in any month")
    totals = items.group_by("month").agg(total=pl.col("cost").sum()).sort("month")
    data = rounded(items.join(totals, on="month"), 2)
    fmt = money_format(sim.currency, 0)
    order = [i for i in ITEM_COLOURS if i in set(data["item"].to_list())]
    bars = (
        alt.Chart(inline(data))
        .mark_bar()
        .encode(
            x=alt.X("month:T", timeUnit="yearmonth", title=None, axis=alt.Axis(format="%b %Y")),
            y=alt.Y(
                "sum(cost):Q",
                title=money_title("Monthly spend", sim.currency),
                axis=money_axis(sim.currency),
            ),
            color=alt.Color(
                "item:N",
                title="Line item",
                sort=order,
                scale=alt.Scale(domain=order, range=[ITEM_COLOURS[i] for i in order]),
            ),
            tooltip=[
                alt.Tooltip("month:T", timeUnit="yearmonth", title="month", format="%b %Y"),
                alt.Tooltip("item:N", title="line item"),
                alt.Tooltip("sum(cost):Q", title="cost", format=fmt),
                alt.Tooltip("max(total):Q", title="month total", format=fmt),
            ],
        )
    )
    layers: list[alt.Chart] = [bars]
    subtitle = "; ".join(f"{s}: {o}" for s, o in chosen.items())
    if budget is not None:
        if budget <= 0:
            raise PricingError(f"budget must be a positive amount per month, got {budget}")
        rule = (
            alt.Chart(inline([{"budget": budget, "label": "budget"}]))
            .mark_rule(color=BUDGET_COLOUR, strokeDash=[6, 3], size=2)
            .encode(
                y="budget:Q",
                tooltip=[alt.Tooltip("budget:Q", title="monthly budget", format=fmt)],
            )
        )
        label = rule.mark_text(
            align="left", dx=4, dy=-6, color=BUDGET_COLOUR, fontWeight="bold"
        ).encode(x=alt.value(0), text=alt.value(f"budget {budget:,.0f} {sim.currency}/month"))
        layers += [rule, label]
    return alt.LayerChart(layer=layers).properties(
        title=alt.Title(f"Monthly spend by line item: {sim.workload}", subtitle=subtitle)
    )


def _bands(sim: Simulation) -> pl.DataFrame:
    if sim.bands is None:
        raise PricingError(
            "the simulation has no uncertainty bands: run simulate(..., samples=1000, seed=0)"
        )
    return sim.bands


def _top_options(bands: pl.DataFrame, segment: str, top: int) -> list[str]:
    ranked = (
        bands.filter(pl.col("segment") == segment)
        .group_by("option", "kind")
        .agg(pl.col("p50").mean())
        .sort("p50", "option")
    )
    best = {
        str(r["option"])
        for kind in ("hosted", "self-hosted")
        for r in ranked.filter(pl.col("kind") == kind).head(1).iter_rows(named=True)
    }
    rest = [o for o in ranked["option"].to_list() if o not in best]
    return sorted(best) + rest[: max(top - len(best), 0)]


def fan_chart(sim: Simulation, *, segment: str | None = None, top: int = 6) -> alt.LayerChart:
    """Monte Carlo fan chart: P10-P90 band and P50 line of monthly cost per option.

    Shows the ``top`` options with the lowest median (the best hosted and the best
    self-hosted always among them). Clicking a legend entry selects an option (parameter
    ``option_pick``); the tornado chart of a dashboard follows it.
    """
    seg = _segment(sim, segment)
    bands = _bands(sim)
    shown = _top_options(bands, seg, top)
    data = rounded(bands.filter((pl.col("segment") == seg) & pl.col("option").is_in(shown)), 2)
    fmt = money_format(sim.currency, 0)
    pick = alt.selection_point(name=OPTION_PARAM, fields=["option"], bind="legend")
    base = alt.Chart(inline(data)).encode(
        x=alt.X("month:T", timeUnit="yearmonth", title=None, axis=alt.Axis(format="%b %Y")),
        color=alt.Color("option:N", title="Option", sort=shown),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=[
            alt.Tooltip("option:N"),
            alt.Tooltip("month:T", timeUnit="yearmonth", format="%b %Y"),
            alt.Tooltip("p10:Q", title="P10", format=fmt),
            alt.Tooltip("p50:Q", title="P50", format=fmt),
            alt.Tooltip("p90:Q", title="P90", format=fmt),
        ],
    )
    band = (
        base.mark_area(opacity=0.2)
        .encode(
            y=alt.Y(
                "p10:Q",
                title=money_title("Monthly cost", sim.currency),
                axis=money_axis(sim.currency),
                scale=alt.Scale(type="log"),
            ),
            y2="p90:Q",
            opacity=alt.condition(pick, alt.value(0.25), alt.value(0.03)),
        )
        .add_params(pick)
        .properties(name="fan_bands")
    )
    line = base.mark_line().encode(y="p50:Q")
    return alt.LayerChart(layer=[band, line]).properties(
        title=alt.Title(
            f"Monthly cost, P10-P90 band and median: {seg}",
            subtitle=f"{sim.samples:,} Latin-hypercube samples, seed {sim.seed}; click the legend",
        )
    )


def tornado_chart(
    sim: Simulation,
    *,
    option: str | None = None,
    segment: str | None = None,
    linked: bool = False,
) -> alt.LayerChart:
    """Tornado chart: horizon cost with each uncertain input at its P10 and P90.

    Parameters
    ----------
    option : str, optional
        The option to explain (default: the segment's plan option, :func:`plan_options`).
    linked : bool
        Follow the option picked on the fan chart's legend (same dashboard); until one is
        picked, ``option`` is shown.
    """
    if sim.sensitivity is None:
        raise PricingError(
            "the simulation has no sensitivity table: the workload needs uncertain inputs "
            "(e.g. volume.base = {dist = 'triangular', ...}) and samples > 0"
        )
    seg = _segment(sim, segment)
    plan = dict(plan_options(sim).iter_rows())
    chosen = option if option is not None else plan.get(seg)
    if chosen is None:
        raise PricingError(f"segment {seg!r} has no feasible option; pass option=...")
    _check_option(sim, seg, chosen)
    frame = sim.sensitivity.filter(pl.col("segment") == seg)
    if not linked:
        frame = frame.filter(pl.col("option") == chosen)
    data = rounded(
        frame.with_columns(
            input=pl.col("input").str.replace(f"^{seg}: ", ""),
            low_cost=pl.min_horizontal("cost_at_low", "cost_at_high"),
            high_cost=pl.max_horizontal("cost_at_low", "cost_at_high"),
        ),
        2,
    )
    require_rows(data, "tornado_chart", f"no sensitivity rows for {chosen}")
    fmt = money_format(sim.currency, 0)
    base = alt.Chart(inline(data))
    if linked:
        base = base.transform_filter(
            f"isValid({OPTION_PARAM}.option) ? indexof({OPTION_PARAM}.option, datum.option) >= 0"
            f" : datum.option == {json.dumps(chosen)}"
        )
    y = alt.Y("input:N", sort=alt.EncodingSortField("swing", order="descending"), title=None)
    bars = base.mark_bar(color="#4c78a8").encode(
        x=alt.X(
            "low_cost:Q",
            title=money_title("Horizon cost", sim.currency),
            axis=money_axis(sim.currency),
            scale=alt.Scale(zero=False),
        ),
        x2="high_cost:Q",
        y=y,
        tooltip=[
            alt.Tooltip("option:N"),
            alt.Tooltip("input:N"),
            alt.Tooltip("low:Q", title="input at P10", format=",.4g"),
            alt.Tooltip("high:Q", title="input at P90", format=",.4g"),
            alt.Tooltip("cost_at_low:Q", title="cost, input at P10", format=fmt),
            alt.Tooltip("cost_at_high:Q", title="cost, input at P90", format=fmt),
            alt.Tooltip("swing:Q", title="swing", format=fmt),
        ],
    )
    centre = base.mark_tick(color="black", thickness=2).encode(
        x="base_cost:Q",
        y=y,
        tooltip=[alt.Tooltip("base_cost:Q", title="base case", format=fmt)],
    )
    return alt.LayerChart(layer=[bars, centre]).properties(
        title=alt.Title(
            f"What moves the cost: {seg}",
            subtitle=f"{chosen}; each input at P10 and P90, others at their centre",
        ),
        height=alt.Step(18),
    )


def fleet_chart(
    sim: Simulation,
    *,
    option: str | None = None,
    segment: str | None = None,
    peak_to_mean: float = 1.0,
    max_utilisation: float = 1.0,
) -> alt.LayerChart:
    """GPUs (bars) and utilisation (line) by month for a self-hosted option.

    A slider (parameter ``peak_factor``) scales the peak: the dashed line redraws the GPUs a
    utilisation-only sizing would need, ``ceil(mean busy GPUs x peak_to_mean x factor /
    max_utilisation)``, computed in the browser (the latency target is not re-solved there).
    """
    seg = _segment(sim, segment)
    if option is None:
        row = sim.cheapest.filter(pl.col("segment") == seg).drop_nulls("self_hosted_option")
        require_rows(row, "fleet_chart", f"segment {seg!r} has no feasible self-hosted option")
        option = str(row["self_hosted_option"].mode().sort()[0])
    _check_option(sim, seg, option)
    data = rounded(
        sim.monthly.filter(
            (pl.col("segment") == seg) & (pl.col("option") == option) & pl.col("feasible")
        )
        .select("month", "gpus", "utilisation", "images", "cost")
        .with_columns(
            mean_busy=pl.col("gpus") * pl.col("utilisation"),
            peak_to_mean=pl.lit(peak_to_mean),
            max_utilisation=pl.lit(max_utilisation),
        ),
        4,
    )
    require_rows(data, "fleet_chart", f"{option} is not feasible in any month")
    if data["gpus"].null_count() == data.height:
        raise PricingError(f"{option} has no fleet (a hosted option?); pick a self-hosted one")
    factor = alt.param(
        name=PEAK_PARAM,
        value=1.0,
        bind=alt.binding_range(min=0.5, max=3.0, step=0.1, name="Peak factor "),
    )
    data = data.with_columns(label=pl.col("month").dt.strftime("%b %y"))
    x = alt.X("label:O", sort=None, title=None, axis=alt.Axis(labelAngle=0))
    base = alt.Chart(inline(data))
    bars = base.mark_bar(color="#f58518", opacity=0.8).encode(
        x=x,
        y=alt.Y("gpus:Q", title="GPUs at the month's peak"),
        tooltip=[
            alt.Tooltip("month:T", timeUnit="yearmonth", format="%b %Y"),
            alt.Tooltip("gpus:Q", title="GPUs"),
            alt.Tooltip("utilisation:Q", title="utilisation", format=".0%"),
            alt.Tooltip("images:Q", title="images", format=",.0f"),
        ],
    )
    what_if = (
        base.transform_calculate(
            what_if=f"ceil(datum.mean_busy * datum.peak_to_mean * {PEAK_PARAM}"
            " / datum.max_utilisation)"
        )
        .mark_line(color="black", strokeDash=[4, 3], point=True)
        .encode(
            x=x,
            y=alt.Y("what_if:Q", title="GPUs at the month's peak"),
            tooltip=[alt.Tooltip("what_if:Q", title="GPUs at this peak factor")],
        )
        .add_params(factor)
    )
    util = base.mark_line(color="#4c78a8", point=True).encode(
        x=x,
        y=alt.Y("utilisation:Q", title="Utilisation", axis=alt.Axis(format=".0%")),
        tooltip=[alt.Tooltip("utilisation:Q", title="utilisation", format=".0%")],
    )
    gpus = alt.LayerChart(layer=[bars, what_if])
    chart: alt.LayerChart = (
        alt.LayerChart(layer=[gpus, util])
        .resolve_scale(y="independent")
        .properties(
            title=alt.Title(
                f"Fleet size and utilisation: {option}",
                subtitle="Bars: simulated fleet; dashed: utilisation-only sizing at the slider's "
                "peak factor; blue: utilisation",
            ),
            width=520,
        )
    )
    return chart


def break_even_chart(
    result: BreakEven,
    *,
    gpu_hour: float,
    currency: str = "USD",
    label: str = "",
    volume: float | None = None,
    points: int = 240,
) -> alt.LayerChart:
    """Hosted versus self-hosted monthly cost against monthly volume, log-log.

    The self-hosted curve is recomputed in the browser from a GPU-price slider (parameter
    ``gpu_hour``, [currency/GPU-h]): cost = fixed costs + GPUs x 730 h x price, so the
    break-even rule moves with it. A second slider (``log10_volume``) marks a monthly volume.

    Parameters
    ----------
    result : BreakEven
        From :func:`pricing.break_even` (a dedicated fleet, billed 730 h a month).
    gpu_hour : float  [currency/GPU-h]
        The GPU price ``result`` was solved with; the slider starts there.
    volume : float, optional  [images/month]
        Where the volume slider starts (default: the break-even volume or 1e5).
    """
    if gpu_hour <= 0:
        raise PricingError(f"gpu_hour must be a positive price per GPU-hour, got {gpu_hour}")
    curve = result.curve.filter(pl.col("images") >= 100)
    if curve.height == 0 or curve["gpus"].null_count() == curve.height:
        raise PricingError(
            "break_even_chart needs the result's curve with fleet sizes (from break_even)"
        )
    step = max(curve.height // points, 1)
    # A thinned grid, plus the rows where a small fleet changes size (its steps are visible).
    steps = (pl.col("gpus").diff().fill_null(1) != 0) & (pl.col("gpus") <= 12)
    keep = (pl.int_range(pl.len()) % step == 0) | steps
    data = rounded(
        curve.filter(keep).with_columns(
            fixed=pl.col("self_hosted") - pl.col("gpus") * HOURS_PER_MONTH * gpu_hour
        ),
        4,
    )
    start = volume if volume is not None else (result.volume or 1e5)
    price = alt.param(
        name=GPU_HOUR_PARAM,
        value=gpu_hour,
        bind=alt.binding_range(
            min=round(gpu_hour * 0.25, 2),
            max=round(gpu_hour * 3, 2),
            step=0.01,
            name=f"GPU price [{currency}/h] ",
        ),
    )
    log_volume = alt.param(
        name=VOLUME_PARAM,
        value=round(math.log10(max(start, 1.0)), 2),
        bind=alt.binding_range(min=2, max=9, step=0.05, name="Monthly volume, log10 images "),
    )
    fmt = money_format(currency, 0)
    base = alt.Chart(inline(data)).transform_calculate(
        self_hosted_now=f"datum.fixed + datum.gpus * {HOURS_PER_MONTH} * {GPU_HOUR_PARAM}"
    )
    x = alt.X("images:Q", scale=alt.Scale(type="log"), title="Images per month")
    y_title = money_title("Monthly cost", currency)
    lines = (
        base.transform_fold(["hosted", "self_hosted_now"], as_=["option", "cost"])
        .transform_calculate(
            option="datum.option == 'hosted' ? 'hosted API' : 'self-hosted (dedicated)'"
        )
        .mark_line()
        .encode(
            x=x,
            y=alt.Y(
                "cost:Q", scale=alt.Scale(type="log"), title=y_title, axis=money_axis(currency)
            ),
            color=alt.Color(
                "option:N",
                title=None,
                scale=alt.Scale(
                    domain=["hosted API", "self-hosted (dedicated)"],
                    range=["#4c78a8", "#f58518"],
                ),
            ),
            tooltip=[
                alt.Tooltip("option:N"),
                alt.Tooltip("images:Q", title="images/month", format=",.0f"),
                alt.Tooltip("cost:Q", title="monthly cost", format=fmt),
                alt.Tooltip("gpus:Q", title="GPUs"),
            ],
        )
        .add_params(price, log_volume)
    )
    crossing = (
        base.transform_filter("datum.self_hosted_now <= datum.hosted")
        .transform_aggregate(images="min(images)")
        .mark_rule(color="#d62728", strokeDash=[6, 3], size=2)
        .encode(
            x="images:Q",
            tooltip=[
                alt.Tooltip("images:Q", title="self-hosting cheaper from", format=",.0f"),
            ],
        )
    )
    crossing_label = crossing.mark_text(
        align="left", dx=4, y=8, color="#d62728", fontWeight="bold"
    ).encode(text=alt.Text("images:Q", format=",.0f"))
    marker = (
        alt.Chart(inline([{}]))
        .transform_calculate(images=f"pow(10, {VOLUME_PARAM})")
        .mark_rule(color="#555", size=1)
        .encode(
            x="images:Q",
            tooltip=[alt.Tooltip("images:Q", title="your volume", format=",.0f")],
        )
    )
    found = (
        f"break-even {result.volume:,.0f} images/month at {gpu_hour:,.2f} {currency}/h"
        if result.volume is not None
        else "self-hosting never cheaper in the range"
    )
    return alt.LayerChart(layer=[lines, crossing, crossing_label, marker]).properties(
        title=alt.Title(
            f"Hosted versus self-hosted{': ' + label if label else ''}",
            subtitle=f"{found}; drag the GPU price to move the red break-even line",
        )
    )
