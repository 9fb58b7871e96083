"""Charts of real usage: a replayed log against alternative offers, and a month against its budget.

Each builder takes what the engine returns (:class:`~pricing.Replay`,
:class:`~pricing.BudgetStatus`) and returns an Altair chart in the package theme
(:mod:`pricing._charts.theme`). Calls without a price are never drawn as 0: they are left out
of the bars and lines and counted in the subtitle.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from pathlib import Path

import altair as alt
import polars as pl

from pricing._base.atomic import atomic_write_all
from pricing._charts.export import check_formats, page, render, spec_json, spec_of
from pricing._charts.theme import (
    BUDGET_COLOUR,
    inline,
    money_format,
    money_title,
    require_rows,
    rounded,
)
from pricing._usage.budget import BudgetStatus
from pricing._usage.replay import Replay
from pricing.errors import PricingError

AS_LOGGED = "as logged"
ACTUAL_COLOUR = "#4c78a8"
ALERT_COLOUR = "#f58518"
#: Colours of the alternative offers, after the grey of the cost as logged.
_ALT_COLOURS = ("#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d", "#eeca3b")


def _money_axis(currency: str) -> alt.Axis:
    """Currency labels to the cent, trailing zeros trimmed: $0.5, $2, $10,000."""
    return alt.Axis(format=money_format(currency, 2).replace(".2f", ".2~f"))


def _one_currency(frames: list[pl.DataFrame], what: str) -> str:
    found = sorted({str(c) for f in frames for c in f["currency"].drop_nulls().unique()})
    if len(found) != 1:
        raise PricingError(
            f"{what}: costs are in {', '.join(found) or 'no currency'}; one chart shows one "
            "currency. Replay a log of one currency (or filter it) first."
        )
    return found[0]


def _actual(result: Replay) -> pl.DataFrame:
    """Cost as logged per month and model; null (never 0) where no call has a price."""
    cost = pl.col("cost")
    return result.costs.group_by("month", "model").agg(
        pl.col("requests", "images", "unpriced").sum().cast(pl.Int64),
        cost=pl.when(cost.is_not_null().any()).then(cost.sum()),
    )


def _cheapest(result: Replay, top: int) -> tuple[pl.DataFrame, int]:
    """The ``top`` cheapest alternatives per model that price every call, and how many
    alternatives were left out because some calls had no price on them."""
    in_use = result.costs.select("model", "offer_id").unique()
    alts = result.alternatives.join(in_use, on=["model", "offer_id"], how="anti")
    ranked = alts.group_by("model", "offer_id").agg(
        total=pl.col("cost").sum(),
        partial=(pl.col("unpriced") > 0).any() | pl.col("cost").is_null().any(),
    )
    partial = ranked.filter(pl.col("partial")).height
    best = (
        ranked.filter(~pl.col("partial"))
        .sort("model", "total", "offer_id")
        .group_by("model", maintain_order=True)
        .head(top)
        .select("model", "offer_id")
    )
    return alts.join(best, on=["model", "offer_id"], how="semi"), partial


def replay_chart(result: Replay, *, top: int = 5) -> alt.Chart:
    """Usage replay: actual cost against the same usage on alternative offers, by month.

    Grouped bars per month: the cost as logged, then the cost of the same calls on each of
    the ``top`` cheapest alternative offers of the model (one row of bars per model when the
    log uses several). The tooltip gives the saving against the cost as logged, on the calls
    both price. Alternatives that cannot price every call are not drawn, and calls as logged
    without a price are not counted; the subtitle gives both counts.

    Parameters
    ----------
    result : Replay
        From :func:`pricing.replay` (with ``alternatives=True`` for the alternative bars).
    top : int
        Alternatives drawn per model, cheapest first over the whole log [offers].
    """
    if top < 0:
        raise PricingError(f"top must be 0 or more alternatives, got {top}")
    actual = _actual(result)
    require_rows(actual.drop_nulls("cost"), "replay_chart", "no call of the log has a price")
    alts, partial = _cheapest(result, top)
    currency = _one_currency([result.costs, alts], "replay_chart")
    ordered = (
        alts.group_by("offer_id").agg(pl.col("cost").sum()).sort("cost", "offer_id")["offer_id"]
    ).to_list()
    models = actual["model"].drop_nulls().unique().sort().to_list()
    chart = _replay_bars(_replay_data(actual, alts), [AS_LOGGED, *ordered], currency, models)
    chart = chart.properties(
        title=alt.Title(
            "Usage replay: actual cost against the same usage on alternative offers, by month",
            subtitle=_replay_notes(result, top, partial),
        ),
        width=520,
        height=280 if len(models) < 2 else 200,
    )
    # Models differ in volume by orders of magnitude, and in their alternatives: each row of
    # bars gets its own cost scale and its own slots.
    if len(models) > 1:
        chart = chart.resolve_scale(y="independent", xOffset="independent")
    return chart


def _replay_data(actual: pl.DataFrame, alts: pl.DataFrame) -> pl.DataFrame:
    """One row per month, model and series (as logged, or an offer): cost and counts."""
    logged = actual.drop_nulls("cost").select(
        "month",
        "model",
        pl.lit(AS_LOGGED).alias("series"),
        "cost",
        "requests",
        "images",
        "unpriced",
        pl.lit(None, dtype=pl.Float64).alias("saving"),
        pl.lit(None, dtype=pl.Float64).alias("saving_share"),
    )
    others = alts.select(
        "month",
        "model",
        pl.col("offer_id").alias("series"),
        pl.col("cost").cast(pl.Float64),
        pl.col("requests", "images", "unpriced").cast(pl.Int64),
        pl.col("saving").cast(pl.Float64),
        (pl.col("saving_pct") / 100).alias("saving_share"),
    )
    return rounded(
        pl.concat([logged.with_columns(pl.col("cost").cast(pl.Float64)), others], how="diagonal")
        .with_columns(pl.col("month").dt.strftime("%Y-%m"))
        .sort("month", "model", "series"),
        4,
    )


def _replay_bars(
    data: pl.DataFrame, series: list[str], currency: str, models: list[str]
) -> alt.Chart:
    """Grouped bars per month (a row of them per model when there are several)."""
    fmt = money_format(currency, 2)
    colours = ["#555555", *(_ALT_COLOURS[i % len(_ALT_COLOURS)] for i in range(len(series) - 1))]
    encoding: dict[str, object] = {}
    if len(models) > 1:
        encoding["row"] = alt.Row("model:N", title="model")
    chart: alt.Chart = (
        alt.Chart(inline(data))
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Month (UTC)", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("series:N", sort=series),
            y=alt.Y("cost:Q", title=money_title("Cost", currency), axis=_money_axis(currency)),
            color=alt.Color(
                "series:N",
                title="Priced on",
                sort=series,
                scale=alt.Scale(domain=series, range=colours),
            ),
            tooltip=[
                alt.Tooltip("month:O", title="month"),
                alt.Tooltip("model:N", title="model"),
                alt.Tooltip("series:N", title="priced on"),
                alt.Tooltip("cost:Q", title="cost", format=fmt),
                alt.Tooltip("requests:Q", title="calls", format=",d"),
                alt.Tooltip("images:Q", title="images", format=",d"),
                alt.Tooltip("unpriced:Q", title="calls without a price", format=",d"),
                alt.Tooltip("saving:Q", title="saving vs as logged", format=fmt),
                alt.Tooltip("saving_share:Q", title="saving %", format="+.1%"),
            ],
            **encoding,
        )
    )
    return chart


def _replay_notes(result: Replay, top: int, partial: int) -> list[str]:
    """The subtitle: what is compared, and what is left out and why."""
    notes = [
        f"as logged vs up to {top} cheapest alternative offer(s) per model; "
        "saving = as logged - offer, on the calls both price"
    ]
    unpriced = int(result.costs["unpriced"].sum()) if result.costs.height else 0
    if unpriced:
        notes.append(f"{unpriced:,} call(s) as logged have no price and are not counted")
    if partial:
        notes.append(f"{partial} alternative(s) not drawn: some calls have no price there")
    if result.alternatives.height == 0:
        notes.append("no alternatives: the log was replayed with alternatives=False")
    return notes


def budget_chart(status: BudgetStatus) -> alt.LayerChart:
    """Burn-up of a month against its budget: spend so far, forecast, budget and alerts.

    The solid line is the cumulative month-to-date spend, the dashed line the forecast to
    month end at the run rate; the red rule is the budget, the orange dashed rules the alert
    thresholds, and a diamond marks the day the budget runs out (actual or forecast).

    Parameters
    ----------
    status : BudgetStatus
        From :func:`pricing.budget_status`.
    """
    require_rows(status.daily, "budget_chart", "the status counts no day of the month")
    month = f"{status.month:%B %Y}"
    x = alt.X(
        "day_of_month:Q",
        title=f"Day of {month} (UTC)",
        scale=alt.Scale(domain=[1, status.days_in_month], nice=False),
        axis=alt.Axis(format="d", tickMinStep=1),
    )
    layers: list[alt.Chart] = [_forecast_line(status, x), _spent_line(status, x)]
    layers += _rules(status)
    if status.run_out is not None:
        layers.append(_run_out(status))
    cur = status.currency
    return alt.LayerChart(layer=layers).properties(
        title=alt.Title(
            f"Budget {month}: {status.spent:,.2f} of {status.budget.monthly:,.2f} {cur} spent "
            f"({status.used:.0%})",
            subtitle=_budget_subtitle(status),
        )
    )


def _spent_line(status: BudgetStatus, x: alt.X) -> alt.Chart:
    """The cumulative month-to-date spend, a point per day."""
    fmt = money_format(status.currency, 2)
    daily = rounded(
        status.daily.with_columns(pl.col("day").dt.strftime("%a %Y-%m-%d").alias("date")), 4
    )
    chart: alt.Chart = (
        alt.Chart(inline(daily))
        .mark_line(color=ACTUAL_COLOUR, point=alt.OverlayMarkDef(color=ACTUAL_COLOUR))
        .encode(
            x=x,
            y=alt.Y("cumulative:Q", title=_y_title(status), axis=_money_axis(status.currency)),
            tooltip=[
                alt.Tooltip("date:N", title="day"),
                alt.Tooltip("cost:Q", title="spent that day", format=fmt),
                alt.Tooltip("cumulative:Q", title="spent this month", format=fmt),
                alt.Tooltip("requests:Q", title="calls", format=",d"),
                alt.Tooltip("unpriced:Q", title="calls without a price", format=",d"),
            ],
        )
    )
    return chart


def _forecast_line(status: BudgetStatus, x: alt.X) -> alt.Chart:
    """The forecast to month end at the run rate, dashed."""
    projection = rounded(
        status.projection.with_columns(pl.col("day").dt.strftime("%a %Y-%m-%d").alias("date")),
        4,
    )
    chart: alt.Chart = (
        alt.Chart(inline(projection))
        .mark_line(color=ACTUAL_COLOUR, strokeDash=[6, 4], opacity=0.8)
        .encode(
            x=x,
            y=alt.Y("cumulative:Q", title=_y_title(status)),
            tooltip=[
                alt.Tooltip("date:N", title="day"),
                alt.Tooltip(
                    "cumulative:Q",
                    title="forecast this month",
                    format=money_format(status.currency, 2),
                ),
            ],
        )
    )
    return chart


def _budget_subtitle(status: BudgetStatus) -> list[str]:
    """What is drawn, when the budget runs out, what is not counted, and the log."""
    cur = status.currency
    day = status.run_out
    if day is None:
        run_out = "at this rate the budget lasts the month"
    elif day <= status.as_of:
        run_out = f"the budget ran out on {day:%a %d %b}"
    else:
        run_out = f"at this rate the budget runs out on {day:%a %d %b}"
    subtitle = [
        f"solid: spent up to {status.as_of.isoformat()}; dashed: forecast at "
        f"{status.run_rate:,.2f} {cur}/day, {status.forecast:,.2f} {cur} at month end",
        run_out,
    ]
    if status.estimated_calls:
        subtitle.append(
            f"forecast includes an estimate of {status.estimated_calls:,} unpriced call(s) at "
            f"their offer's nearest price: {status.estimated:,.2f} {cur}"
        )
    left_out = status.unpriced - status.estimated_calls
    if left_out:
        subtitle.append(f"{left_out:,} call(s) have no price and are not counted")
    subtitle.append(f"log: {status.source}")
    return subtitle


def _y_title(status: BudgetStatus) -> str:
    return money_title("Spend this month", status.currency)


def _rules(status: BudgetStatus) -> list[alt.Chart]:
    """The budget rule and one dashed rule per alert threshold, labelled, with tooltips."""
    alerts = status.alerts.with_columns(
        label=pl.format("{}% alert", (pl.col("threshold") * 100).round(0).cast(pl.Int64)),
        crossed_text=pl.col("crossed_on").dt.strftime("%Y-%m-%d").fill_null("not yet"),
        forecast_text=pl.col("forecast_on").dt.strftime("%Y-%m-%d").fill_null("not this month"),
    )
    budget_alert = alerts.filter(pl.col("threshold") == 1.0)
    budget_row = {
        "label": "budget",
        "amount": float(status.budget.monthly),
        "crossed_text": budget_alert["crossed_text"][0] if budget_alert.height else "",
        "forecast_text": budget_alert["forecast_text"][0] if budget_alert.height else "",
    }
    others = rounded(
        alerts.filter(pl.col("threshold") != 1.0).select(
            "label", "amount", "crossed_text", "forecast_text"
        ),
        4,
    )
    tooltip = [
        alt.Tooltip("label:N", title="line"),
        alt.Tooltip("amount:Q", title="amount", format=money_format(status.currency, 2)),
        alt.Tooltip("crossed_text:N", title="reached on"),
        alt.Tooltip("forecast_text:N", title="reached at the run rate on"),
    ]
    charts: list[alt.Chart] = []
    # Alert labels beyond the right edge of the plot, level with their rule: no line of spend
    # or forecast is drawn there, so none crosses them. The budget's at the left end, above
    # its rule: the spend starts low, and a close alert rule never shares its side.
    for rows, colour, dash, outside in (
        (others.to_dicts(), ALERT_COLOUR, [4, 4], True),
        ([budget_row], BUDGET_COLOUR, [1, 0], False),
    ):
        if not rows:
            continue
        rule = (
            alt.Chart(inline(rows))
            .mark_rule(color=colour, strokeDash=dash, size=2)
            .encode(y=alt.Y("amount:Q", title=_y_title(status)), tooltip=tooltip)
        )
        label = rule.mark_text(
            align="left",
            baseline="middle" if outside else "bottom",
            dx=6 if outside else 4,
            dy=0 if outside else -3,
            color=colour,
            fontWeight="bold",
        ).encode(x=alt.value("width" if outside else 0), text="label:N")
        charts += [rule, label]
    return charts


def _run_out(status: BudgetStatus) -> alt.Chart:
    day = status.run_out
    if day is None:  # pragma: no cover - the caller checks
        raise PricingError("budget_chart: the budget does not run out this month")
    actual = day <= status.as_of
    row = {
        "day_of_month": day.day,
        "amount": float(status.budget.monthly),
        "date": f"{day:%a %Y-%m-%d}",
        "kind": "reached" if actual else f"forecast at {status.run_rate:,.2f}/day",
    }
    marker: alt.Chart = (
        alt.Chart(inline([row]))
        .mark_point(shape="diamond", size=220, filled=True, color=BUDGET_COLOUR, opacity=1)
        .encode(
            x="day_of_month:Q",
            y=alt.Y("amount:Q", title=_y_title(status)),
            tooltip=[
                alt.Tooltip("date:N", title="budget runs out on"),
                alt.Tooltip("kind:N", title="how"),
                alt.Tooltip("amount:Q", title="budget", format=money_format(status.currency, 2)),
            ],
        )
    )
    return marker


# --------------------------------------------------------------------------- budget files

#: A row of a budget's status table: what, its figure, a note.
StatusRow = tuple[str, str, str]


def budget_page(status: BudgetStatus, table: Sequence[StatusRow] = (), *, title: str = "") -> str:
    """The budget as one self-contained HTML page (works offline): the status ``table`` (what,
    figure, note; as ``pricing budget`` prints it) above the burn-up chart, the status's notes
    below it."""
    rows = "".join(
        f"<tr><th>{html.escape(what)}</th><td class='num'>{html.escape(figure)}</td>"
        f"<td>{html.escape(note)}</td></tr>"
        for what, figure, note in table
    )
    body = f"<table class='headline budget-status'><tbody>{rows}</tbody></table>" if rows else ""
    return page(
        spec_of(budget_chart(status)),
        title=title or f"Budget {status.month:%B %Y}",
        meta=f"{status.source}, as of {status.as_of.isoformat()}; {status.evidence}".strip("; "),
        body_html=body,
        notes=status.notes,
    )


def write_budget(
    status: BudgetStatus,
    path: str | Path,
    formats: Iterable[str] = ("html",),
    *,
    table: Sequence[StatusRow] = (),
    title: str = "",
) -> list[Path]:
    """Write a budget as ``path`` + ``.html`` (:func:`budget_page`: the status table and the
    chart), ``.png``, ``.svg`` (the chart) and ``.json`` (its Vega-Lite spec): all rendered
    before any is written, and written all or none. Returns the files written."""
    base = Path(path)
    spec = spec_of(budget_chart(status))
    outputs: list[tuple[Path, bytes | str]] = []
    for fmt in check_formats(formats):
        target = base.with_name(f"{base.name}.{fmt}")
        if fmt == "html":
            outputs.append((target, budget_page(status, table, title=title)))
        elif fmt == "json":
            outputs.append((target, spec_json(spec)))
        else:
            outputs.append((target, render(spec, fmt)))
    atomic_write_all(outputs)
    return [target for target, _ in outputs]
