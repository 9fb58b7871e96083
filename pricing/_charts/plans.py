"""Charts of a simulation's money: monthly spend, the Monte Carlo fan chart and the tornado.

Each builder takes what the engine returns (:class:`~pricing.Simulation`,
:class:`~pricing.BreakEven`) and returns an Altair chart. What-if parameters are Vega-Lite
parameters computed in the browser from the exported data, so they keep working in a saved
HTML file with no Python behind it.
"""

from __future__ import annotations

import json

import altair as alt
import polars as pl

from pricing._charts.labels import Labels, input_label, labels_for
from pricing._charts.theme import (
    BUDGET_COLOUR,
    ITEM_COLOURS,
    cost_scale,
    inline,
    money_axis,
    money_format,
    money_tip,
    money_title,
    require_rows,
    rounded,
)
from pricing._plan.simulate import Simulation
from pricing._plan.summary import plan_options
from pricing.errors import PricingError

#: Legend selection of options on the fan chart; the tornado chart follows it.
OPTION_PARAM = "option_pick"


def segment_of(sim: Simulation, segment: str | None) -> str:
    segments = sim.options["segment"].unique(maintain_order=True).to_list()
    if segment is None:
        return str(segments[0])
    if segment not in segments:
        raise PricingError(f"unknown segment {segment!r}; the workload has: {', '.join(segments)}")
    return segment


def check_option(sim: Simulation, segment: str, option: str) -> None:
    known = sim.options.filter(pl.col("segment") == segment)["option"].to_list()
    if option not in known:
        close = [o for o in known if option in o][:5] or known[:5]
        raise PricingError(f"segment {segment!r} has no option {option!r}; e.g. {', '.join(close)}")


def spend_chart(
    sim: Simulation,
    *,
    plan: dict[str, str] | None = None,
    budget: float | None = None,
    labels: Labels | None = None,
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
    labels : Labels, optional
        Names of the options (default: from the bundled data, :func:`labels_for`).
    """
    chosen = plan if plan is not None else dict(plan_options(sim).iter_rows())
    for segment, option in chosen.items():
        check_option(sim, segment_of(sim, segment), option)
    layers: list[alt.Chart] = [_spend_bars(_spend_data(sim, chosen), sim.currency)]
    if budget is not None:
        layers += _budget_layers(budget, sim.currency)
    named = dict((labels or labels_for()).options(sim.options).iter_rows())
    subtitle = [f"{s}: {named.get(o, o)}" for s, o in chosen.items()]
    return alt.LayerChart(layer=layers).properties(
        title=alt.Title(f"Monthly spend by line item: {sim.workload}", subtitle=subtitle)
    )


def _spend_data(sim: Simulation, chosen: dict[str, str]) -> pl.DataFrame:
    """Cost per month and line item of the chosen options, with each month's total."""
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
    return rounded(items.join(totals, on="month"), 2)


def _spend_bars(data: pl.DataFrame, currency: str) -> alt.Chart:
    """Bars of the monthly spend stacked by line item, in the items' fixed colours."""
    fmt = money_format(currency, 0)
    order = [i for i in ITEM_COLOURS if i in set(data["item"].to_list())]
    bars: alt.Chart = (
        alt.Chart(inline(data))
        .mark_bar()
        .encode(
            x=alt.X("month:T", timeUnit="yearmonth", title=None, axis=alt.Axis(format="%b %Y")),
            y=alt.Y(
                "sum(cost):Q",
                title=money_title("Monthly spend", currency),
                axis=money_axis(currency),
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
                alt.Tooltip("sum(cost):Q", title=money_tip("cost", currency), format=fmt),
                alt.Tooltip("max(total):Q", title=money_tip("month total", currency), format=fmt),
            ],
        )
    )
    return bars


def _budget_layers(budget: float, currency: str) -> list[alt.Chart]:
    """A dashed budget rule and its label."""
    if budget <= 0:
        raise PricingError(f"budget must be a positive amount per month, got {budget}")
    fmt = money_format(currency, 0)
    rule = (
        alt.Chart(inline([{"budget": budget, "label": "budget"}]))
        .mark_rule(color=BUDGET_COLOUR, strokeDash=[6, 3], size=2)
        .encode(
            y="budget:Q",
            tooltip=[
                alt.Tooltip("budget:Q", title=money_tip("monthly budget", currency), format=fmt)
            ],
        )
    )
    label = rule.mark_text(
        align="left", dx=4, dy=-6, color=BUDGET_COLOUR, fontWeight="bold"
    ).encode(x=alt.value(0), text=alt.value(f"budget {budget:,.0f} {currency}/month"))
    return [rule, label]


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


def fan_chart(
    sim: Simulation, *, segment: str | None = None, top: int = 6, labels: Labels | None = None
) -> alt.LayerChart:
    """Monte Carlo fan chart: P10-P90 band and P50 line of monthly cost per option.

    Shows the ``top`` options with the lowest median (the best hosted and the best
    self-hosted always among them), named by ``labels`` (default: the bundled data's), with
    the evidence grade of each in its tooltip. Clicking a legend entry selects an option
    (parameter ``option_pick``, on the ``label`` field); the tornado chart of a dashboard
    follows it. The cost axis is logarithmic unless an option costs 0 in some month.
    """
    seg = segment_of(sim, segment)
    bands = _bands(sim)
    shown = _top_options(bands, seg, top)
    # the currency is the chart's (its axis and tooltips say it), not a column of its data
    data = rounded(
        (labels or labels_for())
        .labelled(
            bands.filter((pl.col("segment") == seg) & pl.col("option").is_in(shown)),
            sim.options,
        )
        .join(
            sim.options.select("segment", "option", "grade"),
            on=["segment", "option"],
            how="left",
        )
        .drop("currency", strict=False),
        2,
    )
    order = [data.filter(pl.col("option") == o)["label"][0] for o in shown]
    fmt = money_format(sim.currency, 0)
    pick = alt.selection_point(name=OPTION_PARAM, fields=["label"], bind="legend")
    base = alt.Chart(inline(data)).encode(
        x=alt.X("month:T", timeUnit="yearmonth", title=None, axis=alt.Axis(format="%b %Y")),
        color=alt.Color("label:N", title="Option", sort=order),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=[
            alt.Tooltip("label:N", title="option"),
            alt.Tooltip("grade:N", title="evidence"),
            alt.Tooltip("month:T", timeUnit="yearmonth", format="%b %Y"),
            alt.Tooltip("p10:Q", title=money_tip("P10", sim.currency), format=fmt),
            alt.Tooltip("p50:Q", title=money_tip("P50", sim.currency), format=fmt),
            alt.Tooltip("p90:Q", title=money_tip("P90", sim.currency), format=fmt),
        ],
    )
    scale = cost_scale(data["p10"].to_list())
    band = (
        base.mark_area(opacity=0.2)
        .encode(
            y=alt.Y(
                "p10:Q",
                title=money_title("Monthly cost", sim.currency),
                axis=money_axis(sim.currency, log=scale.type == "log"),
                scale=scale,
            ),
            y2="p90:Q",
            opacity=alt.condition(pick, alt.value(0.25), alt.value(0.03)),
        )
        .add_params(pick)
        .properties(name="fan_bands")
    )
    line = base.mark_line().encode(y="p50:Q")
    axis = "" if scale.type == "log" else "; linear axis: an option costs 0 in some month"
    return alt.LayerChart(layer=[band, line]).properties(
        title=alt.Title(
            f"Monthly cost, P10-P90 band and median: {seg}",
            subtitle=f"{sim.samples:,} Latin-hypercube samples, seed {sim.seed}{axis}",
        )
    )


def tornado_chart(
    sim: Simulation,
    *,
    option: str | None = None,
    segment: str | None = None,
    linked: bool = False,
    labels: Labels | None = None,
) -> alt.LayerChart:
    """Tornado chart: horizon cost with each uncertain input at its P10 and P90.

    Inputs are named in words (``"Volume (base)"``, ``"Ops hours per month"``).

    Parameters
    ----------
    option : str, optional
        The option to explain (default: the segment's plan option, :func:`plan_options`).
    linked : bool
        Follow the option picked on the fan chart's legend (parameter ``option_pick``, set by
        the fan chart in the same spec or by the page); until one is picked, ``option`` is
        shown.
    labels : Labels, optional
        Names of the options (default: from the bundled data).
    """
    sensitivity = _sensitivity(sim)
    seg = segment_of(sim, segment)
    chosen = option if option is not None else dict(plan_options(sim).iter_rows()).get(seg)
    if chosen is None:
        raise PricingError(f"segment {seg!r} has no feasible option; pass option=...")
    check_option(sim, seg, chosen)
    names = labels or labels_for()
    data = names.labelled(_tornado_data(sensitivity, seg, chosen, linked), sim.options)
    base = alt.Chart(inline(data))
    if linked:
        picked = f"isValid({OPTION_PARAM}) && isValid({OPTION_PARAM}.label)"
        base = base.transform_filter(
            f"{picked} ? indexof({OPTION_PARAM}.label, datum.label) >= 0"
            f" : datum.option == {json.dumps(chosen)}"
        )
    shown = str(dict(names.options(sim.options).iter_rows()).get(chosen, chosen))
    # linked, the option explained changes: the legend under the bars names it
    head = f"At first {shown}; then the option picked on the fan chart" if linked else shown
    return alt.LayerChart(layer=_tornado_layers(base, sim.currency, linked)).properties(
        title=alt.Title(
            f"What moves the cost: {seg}",
            subtitle=[head, "each input at its P10 and P90, the others at their centre"],
        ),
        height=alt.Step(22),
    )


def _sensitivity(sim: Simulation) -> pl.DataFrame:
    if sim.sensitivity is None:
        raise PricingError(
            "the simulation has no sensitivity table: the workload needs uncertain inputs "
            "(e.g. volume.base = {dist = 'triangular', ...}) and samples > 0"
        )
    return sim.sensitivity


def _tornado_data(sensitivity: pl.DataFrame, seg: str, chosen: str, linked: bool) -> pl.DataFrame:
    """The segment's sensitivity rows (every option's when ``linked``), low and high ordered."""
    frame = sensitivity.filter(pl.col("segment") == seg).drop("currency", strict=False)
    if not linked:
        frame = frame.filter(pl.col("option") == chosen)
    words = {name: input_label(name, seg) for name in frame["input"].unique().to_list()}
    data = rounded(
        frame.with_columns(
            input=pl.col("input").replace_strict(words, return_dtype=pl.String),
            low_cost=pl.min_horizontal("cost_at_low", "cost_at_high"),
            high_cost=pl.max_horizontal("cost_at_low", "cost_at_high"),
        ),
        2,
    )
    require_rows(data, "tornado_chart", f"no sensitivity rows for {chosen}")
    return data


def _tornado_layers(base: alt.Chart, currency: str, linked: bool) -> list[alt.Chart]:
    """A bar per input from its cost at P10 to its cost at P90, and a tick at the base case;
    ``linked``, a legend names the option the bars explain."""
    fmt = money_format(currency, 0)
    y = alt.Y(
        "input:N",
        sort=alt.EncodingSortField("swing", order="descending"),
        title=None,
        axis=alt.Axis(labelLimit=360),
    )
    colour: alt.Color | alt.ColorValue = alt.ColorValue("#4c78a8")
    if linked:
        colour = alt.Color("label:N", title="Option explained", scale=alt.Scale(range=["#4c78a8"]))
    bars = base.mark_bar().encode(
        color=colour,
        x=alt.X(
            "low_cost:Q",
            title=money_title("Horizon cost", currency),
            axis=money_axis(currency),
            scale=alt.Scale(zero=False),
        ),
        x2="high_cost:Q",
        y=y,
        tooltip=[
            alt.Tooltip("label:N", title="option"),
            alt.Tooltip("input:N"),
            alt.Tooltip("low:Q", title="input at P10", format=",.4g"),
            alt.Tooltip("high:Q", title="input at P90", format=",.4g"),
            alt.Tooltip(
                "cost_at_low:Q", title=money_tip("cost, input at P10", currency), format=fmt
            ),
            alt.Tooltip(
                "cost_at_high:Q", title=money_tip("cost, input at P90", currency), format=fmt
            ),
            alt.Tooltip("swing:Q", title=money_tip("swing", currency), format=fmt),
        ],
    )
    centre = base.mark_tick(color="black", thickness=2).encode(
        x="base_cost:Q",
        y=y,
        tooltip=[alt.Tooltip("base_cost:Q", title=money_tip("base case", currency), format=fmt)],
    )
    return [bars, centre]
