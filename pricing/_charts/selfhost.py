"""Charts of self-hosting: the fleet by month, and hosted against self-hosted by volume.

Their what-ifs (GPU price, volume, peak factor) are Vega-Lite parameters computed in the
browser from the exported data, so they keep working in a saved HTML file.
"""

from __future__ import annotations

import math

import altair as alt
import polars as pl

from pricing._charts.labels import Labels, labels_for
from pricing._charts.plans import check_option, segment_of
from pricing._charts.theme import (
    inline,
    integer_axis,
    money_axis,
    money_format,
    money_tip,
    money_title,
    require_rows,
    rounded,
)
from pricing._plan.breakeven import BreakEven
from pricing._plan.simulate import Simulation
from pricing._selfhost.gpu_cost import HOURS_PER_MONTH
from pricing.errors import PricingError

GPU_HOUR_PARAM = "gpu_hour"
VOLUME_PARAM = "log10_volume"
PEAK_PARAM = "peak_factor"
#: The largest peak factor of the fleet chart's slider.
PEAK_MAX = 3.0


def fleet_chart(
    sim: Simulation,
    *,
    option: str | None = None,
    segment: str | None = None,
    peak_to_mean: float = 1.0,
    max_utilisation: float = 1.0,
    labels: Labels | None = None,
) -> alt.LayerChart:
    """GPUs (bars) and utilisation (line) by month for a self-hosted option.

    A slider (parameter ``peak_factor``, 1 at first) scales the peak: the dashed line redraws
    the GPUs a utilisation-only sizing would need, ``ceil(mean busy GPUs x peak_to_mean x
    factor / max_utilisation)``, computed in the browser (the latency target is not re-solved
    there). GPU axes count whole GPUs.
    """
    seg = segment_of(sim, segment)
    option = _fleet_option(sim, seg, option)
    data = _fleet_data(sim, seg, option, peak_to_mean, max_utilisation)
    gpus, util = _fleet_layers(data)
    named = dict((labels or labels_for()).options(sim.options).iter_rows())
    chart: alt.LayerChart = (
        alt.LayerChart(layer=[gpus, util])
        .resolve_scale(y="independent")
        .properties(
            title=alt.Title(
                f"Fleet size and utilisation: {seg}",
                subtitle=[
                    named.get(option, option),
                    "Bars: simulated GPUs at each month's peak; blue line: utilisation",
                    "Dashed: GPUs a utilisation-only sizing needs (peak factor 1)",
                ],
            ),
            width=520,
        )
    )
    return chart


def _fleet_option(sim: Simulation, seg: str, option: str | None) -> str:
    """The option drawn: ``option`` if the segment has it, else its most often cheapest fleet."""
    if option is None:
        row = sim.cheapest.filter(pl.col("segment") == seg).drop_nulls("self_hosted_option")
        require_rows(row, "fleet_chart", f"segment {seg!r} has no feasible self-hosted option")
        option = str(row["self_hosted_option"].mode().sort()[0])
    check_option(sim, seg, option)
    return option


def _fleet_data(
    sim: Simulation, seg: str, option: str, peak_to_mean: float, max_utilisation: float
) -> pl.DataFrame:
    """The option's feasible months, with what the browser needs to resize the fleet."""
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
    return data.with_columns(label=pl.col("month").dt.strftime("%b %y"))


def _fleet_layers(data: pl.DataFrame) -> tuple[alt.LayerChart, alt.Chart]:
    """The GPU layers (bars and the peak-factor what-if line) and the utilisation line."""
    x = alt.X("label:O", sort=None, title=None, axis=alt.Axis(labelAngle=0))
    base = alt.Chart(inline(data))
    # the most GPUs the axis may have to show: the fleet, or the what-if at the top factor
    top = data.select(
        pl.max_horizontal(
            pl.col("gpus").max(),
            (pl.col("mean_busy") * pl.col("peak_to_mean") * PEAK_MAX / pl.col("max_utilisation"))
            .ceil()
            .max(),
        )
    ).item()
    axis = integer_axis("GPUs at the month's peak", top)
    bars = base.mark_bar(color="#f58518", opacity=0.8).encode(
        x=x,
        y=alt.Y("gpus:Q", axis=axis),
        tooltip=[
            alt.Tooltip("month:T", timeUnit="yearmonth", format="%b %Y"),
            alt.Tooltip("gpus:Q", title="GPUs", format="d"),
            alt.Tooltip("utilisation:Q", title="utilisation", format=".0%"),
            alt.Tooltip("images:Q", title="images", format=",.0f"),
        ],
    )
    util = base.mark_line(color="#4c78a8", point=True).encode(
        x=x,
        y=alt.Y("utilisation:Q", title="Utilisation", axis=alt.Axis(format=".0%")),
        tooltip=[alt.Tooltip("utilisation:Q", title="utilisation", format=".0%")],
    )
    return alt.LayerChart(layer=[bars, _peak_what_if(base, x, axis)]), util


def _peak_what_if(base: alt.Chart, x: alt.X, axis: alt.Axis) -> alt.Chart:
    """Dashed line: the GPUs a utilisation-only sizing needs at the slider's peak factor."""
    factor = alt.param(
        name=PEAK_PARAM,
        value=1.0,
        bind=alt.binding_range(min=0.5, max=PEAK_MAX, step=0.1, name="Peak factor "),
    )
    what_if: alt.Chart = (
        base.transform_calculate(
            what_if=f"ceil(datum.mean_busy * datum.peak_to_mean * {PEAK_PARAM}"
            " / datum.max_utilisation)"
        )
        .mark_line(color="black", strokeDash=[4, 3], point=True)
        .encode(
            x=x,
            y=alt.Y("what_if:Q", axis=axis),
            tooltip=[alt.Tooltip("what_if:Q", title="GPUs at this peak factor", format="d")],
        )
        .add_params(factor)
    )
    return what_if


def break_even_chart(
    result: BreakEven,
    *,
    gpu_hour: float,
    currency: str = "USD",
    label: str = "",
    volume: float | None = None,
    points: int = 240,
    live: bool = False,
) -> alt.LayerChart:
    """Hosted versus self-hosted monthly cost against monthly volume, log-log.

    The self-hosted curve is recomputed in the browser from a GPU-price slider (parameter
    ``gpu_hour``, [currency/GPU-h]): cost = fixed costs + GPUs x 730 h x price. The red rule
    and the answer at the top left mark the smallest volume from which self-hosting stays
    cheaper, as the solver defines the break-even; at the solved price they are the solver's
    volume exactly. A second slider (``log10_volume``) marks a monthly volume. A cost of 0 (a
    free tier) cannot be drawn on the log axis: it is left out, and the subtitle says so.

    Parameters
    ----------
    result : BreakEven
        From :func:`pricing.break_even` (a dedicated fleet, billed 730 h a month).
    gpu_hour : float  [currency/GPU-h]
        The GPU price ``result`` was solved with; the slider starts there.
    volume : float, optional  [images/month]
        Where the volume slider starts (default: the break-even volume or 1e5).
    live : bool
        For a page whose slider moves: the subtitle leaves the answer to the text at the top
        left, which follows the slider (the solved answer would go stale).
    """
    if gpu_hour <= 0:
        raise PricingError(f"gpu_hour must be a positive price per GPU-hour, got {gpu_hour}")
    data = _break_even_data(result, gpu_hour, points)
    start = volume if volume is not None else (result.volume or 1e5)
    base = alt.Chart(inline(data)).transform_calculate(
        self_hosted_now=f"datum.fixed + datum.gpus * {HOURS_PER_MONTH} * {GPU_HOUR_PARAM}"
    )
    lines = _cost_lines(base, currency).add_params(
        _gpu_price_param(gpu_hour, currency), _volume_param(start)
    )
    found = _cheaper_from(base)
    crossing, crossing_label = _crossing_layers(found)
    layers = [lines, crossing, crossing_label, _volume_marker(), _live_answer(found, currency)]
    fleet = f"Dedicated fleet, {HOURS_PER_MONTH:.0f} h a month"
    said = [
        f"{fleet}; the answer at the top left is at the GPU price it shows"
        if live
        else f"{fleet}, solved at {gpu_hour:,.2f} {currency}/h: {_break_even_found(result)}"
    ]
    if data.filter((pl.col("hosted") <= 0) | (pl.col("self_hosted") <= 0)).height:
        said.append("A cost of 0 (a free tier) is not drawn: a log axis has no 0")
    # the label on lines of its own under a short title: a long title would narrow the plot
    head, sep, rest = label.partition(": ")
    title = f"Hosted versus self-hosted{': ' + head if sep else ''}"
    parts = (rest if sep else label).replace(" against ", "\n against ").replace(" vs ", "\n vs ")
    named = [p.strip() for p in parts.split("\n") if p.strip()]
    subtitle = [*named, *said]
    return alt.LayerChart(layer=layers).properties(
        title=alt.Title(title, subtitle=subtitle if len(subtitle) > 1 else subtitle[0])
    )


def _cheaper_from(base: alt.Chart) -> alt.Chart:
    """One row, ``first``: the smallest volume from which self-hosting at the slider's GPU
    price costs no more than the hosted offer at every larger volume of the curve (null:
    never in the range), the solver's definition of the break-even."""
    found: alt.Chart = (
        base.transform_calculate(cheaper="datum.self_hosted_now <= datum.hosted + 1e-9 ? 1 : 0")
        .transform_window(
            above="min(cheaper)",
            sort=[alt.SortField("images", order="descending")],
            frame=[None, 0],
        )
        .transform_calculate(stays="datum.above == 1 ? datum.images : null")
        .transform_aggregate(first="min(stays)")
    )
    return found


def _live_answer(found: alt.Chart, currency: str) -> alt.Chart:
    """The break-even at the slider's GPU price, as text at the top left: the volume from
    which self-hosting stays cheaper, or "never" when there is none."""
    price = f"format({GPU_HOUR_PARAM}, ',.2f') + ' {currency}/h: '"
    text: alt.Chart = (
        found.transform_calculate(
            answer=f"'at ' + {price} + (isValid(datum.first) ? 'self-hosting cheaper from ' + "
            "format(datum.first, ',.0f') + ' images/month' : "
            "'self-hosting never cheaper in the range')"
        )
        .mark_text(align="left", baseline="top", x=6, y=6, fontWeight="bold", color="#333")
        .encode(
            text="answer:N",
            tooltip=[alt.Tooltip("answer:N", title="break-even at the slider's GPU price")],
        )
    )
    return text


def _break_even_data(result: BreakEven, gpu_hour: float, points: int) -> pl.DataFrame:
    """The result's curve, thinned to about ``points`` rows, with its fixed monthly costs.

    Kept besides the thinned grid: the rows where a small fleet changes size (its steps are
    visible), both rows around each change of the cheaper side (so the browser finds the same
    crossings as the full curve), and the solver's break-even itself.
    """
    curve = result.curve.filter(pl.col("images") >= 100)
    if curve.height == 0 or curve["gpus"].null_count() == curve.height:
        raise PricingError(
            "break_even_chart needs the result's curve with fleet sizes (from break_even)"
        )
    step = max(curve.height // points, 1)
    steps = (pl.col("gpus").diff().fill_null(1) != 0) & (pl.col("gpus") <= 12)
    cheaper = pl.col("self_hosted") <= pl.col("hosted") + 1e-9
    flips = (cheaper != cheaper.shift(1)).fill_null(False)
    keep = (pl.int_range(pl.len()) % step == 0) | steps | flips | flips.shift(-1).fill_null(False)
    kept = curve.filter(keep).select("images", "self_hosted", "hosted", "gpus")
    if result.volume is not None and result.self_cost is not None and result.gpus is not None:
        exact = pl.DataFrame(
            {
                "images": [result.volume],
                "self_hosted": [result.self_cost],
                "hosted": [result.hosted_cost],
                "gpus": [result.gpus],
            },
            schema=kept.schema,
        )
        kept = pl.concat([kept, exact]).unique("images", keep="last").sort("images")
    return rounded(
        kept.with_columns(
            fixed=pl.col("self_hosted") - pl.col("gpus") * HOURS_PER_MONTH * gpu_hour
        ),
        4,
    )


def _gpu_price_param(gpu_hour: float, currency: str) -> alt.Parameter:
    """Slider of the GPU price, from a quarter to three times the solved price."""
    return alt.param(
        name=GPU_HOUR_PARAM,
        value=gpu_hour,
        bind=alt.binding_range(
            min=round(gpu_hour * 0.25, 2),
            max=round(gpu_hour * 3, 2),
            step=0.01,
            name=f"GPU price [{currency}/h] ",
        ),
    )


def _volume_param(start: float) -> alt.Parameter:
    """Slider of the monthly volume, log10 of images, starting at ``start``."""
    return alt.param(
        name=VOLUME_PARAM,
        value=round(math.log10(max(start, 1.0)), 2),
        bind=alt.binding_range(min=2, max=9, step=0.05, name="Monthly volume, log10 images "),
    )


def _cost_lines(base: alt.Chart, currency: str) -> alt.Chart:
    """The hosted and the self-hosted monthly cost, log-log, one colour each."""
    fmt = money_format(currency, 0)
    lines: alt.Chart = (
        base.transform_fold(["hosted", "self_hosted_now"], as_=["option", "cost"])
        .transform_filter("datum.cost > 0")  # a log axis has no 0: a free tier is not drawn
        .transform_calculate(
            option="datum.option == 'hosted' ? 'hosted API' : 'self-hosted (dedicated)'"
        )
        .mark_line()
        .encode(
            x=alt.X("images:Q", scale=alt.Scale(type="log"), title="Images per month"),
            y=alt.Y(
                "cost:Q",
                scale=alt.Scale(type="log"),
                title=money_title("Monthly cost", currency),
                axis=money_axis(currency, log=True),
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
                alt.Tooltip("cost:Q", title=money_tip("monthly cost", currency), format=fmt),
                alt.Tooltip("gpus:Q", title="GPUs", format="d"),
            ],
        )
    )
    return lines


def _crossing_layers(found: alt.Chart) -> tuple[alt.Chart, alt.Chart]:
    """The red rule at the break-even of the slider's GPU price, and its label."""
    crossing: alt.Chart = (
        found.transform_filter("isValid(datum.first)")
        .mark_rule(color="#d62728", strokeDash=[6, 3], size=2)
        .encode(
            x="first:Q",
            tooltip=[
                alt.Tooltip("first:Q", title="self-hosting cheaper from", format=",.0f"),
            ],
        )
    )
    # at the foot of the rule: the answer at the top left has the top
    crossing_label = crossing.mark_text(
        align="left", baseline="bottom", dx=4, y={"expr": "height - 4"}, color="#d62728",
        fontWeight="bold",
    ).encode(text=alt.Text("first:Q", format=",.0f"))  # fmt: skip
    return crossing, crossing_label


def _volume_marker() -> alt.Chart:
    """A grey rule at the volume slider's value."""
    marker: alt.Chart = (
        alt.Chart(inline([{}]))
        .transform_calculate(images=f"pow(10, {VOLUME_PARAM})")
        .mark_rule(color="#555", size=1)
        .encode(
            x="images:Q",
            tooltip=[alt.Tooltip("images:Q", title="your volume", format=",.0f")],
        )
    )
    return marker


def _break_even_found(result: BreakEven) -> str:
    """What the solver found at its GPU price, for the subtitle."""
    if result.volume is None:
        return "self-hosting never cheaper in the range"
    return f"break-even {result.volume:,.0f} images/month"
