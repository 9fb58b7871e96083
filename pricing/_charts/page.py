"""The dashboard page in HTML: a first screen that answers, then the tables and the charts.

The first screen says what the workload will cost, bought with what, under which assumptions
and how sure (:mod:`pricing._charts.answer`, :mod:`pricing._charts.assumptions`): the
question and the answer in words, the grand total across segments, the cost per month, the
assumptions, the evidence grade of every option bought (a badge) and the unverified leads.
Then the per-segment table, every lead with its reason, and the charts: each as wide as its
place, with its what-if controls and how to use them, and its exported picture for readers
whose mail program runs no scripts. Every name on the page is a label (:mod:`.labels`).
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

from pricing._charts.answer import Answer, Lead, answer
from pricing._charts.assumptions import assumption_rows
from pricing._charts.export import Link, PageChart, charts_page, spec_of
from pricing._charts.labels import input_label
from pricing._charts.plans import OPTION_PARAM
from pricing._charts.prices import HEATMAP_PICK
from pricing._plan.fx import rate_lines

if TYPE_CHECKING:
    from pricing._charts.dashboard import Dashboard

#: Charts whose selections others follow on the page: (chart, parameter, follower).
LINKS: tuple[Link, ...] = (
    ("fan", OPTION_PARAM, "tornado"),
    ("heatmap", HEATMAP_PICK, "cost-per-image"),
)
#: How to use each chart's what-ifs: shown on the interactive page only, never on a picture.
HINTS = {
    "fan": "Click an option in the legend to pick it: the tornado chart explains the one picked.",
    "tornado": "Follows the option picked in the fan chart's legend.",
    "break-even": "Drag the GPU price: the self-hosted curve, the red line and the answer at the "
    "top left follow it. The volume slider marks a monthly volume.",
    "fleet": "Move the peak factor: the dashed line redraws the GPUs a utilisation-only sizing "
    "needs.",
    "cost-per-image": "Pick a provider to show only its offers; a provider clicked on the heatmap "
    "is highlighted here.",
    "heatmap": "Click a provider to highlight its offers on the cost-per-image chart.",
}
#: Charts that span the page's columns.
WIDE = frozenset({"spend", "price-history"})


def money(value: object, currency: str, places: int = 0) -> str:
    """``$1,234`` in USD, ``1,234 EUR`` otherwise; ``n/a`` for a missing amount."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    amount = float(value)  # type: ignore[arg-type]
    return f"${amount:,.{places}f}" if currency == "USD" else f"{amount:,.{places}f} {currency}"


def badge(grade: object) -> str:
    """An evidence grade as a coloured badge."""
    text = html.escape(str(grade or "no grade"))
    return f"<span class='badge {text}' title='evidence grade'>{text}</span>"


def _range(p10: float | None, p90: float | None, currency: str, short: bool = False) -> str:
    """``P10 $1 &ndash; P90 $2`` (``short``: ``$1 &ndash; $2``); empty without a range."""
    if p10 is None or p90 is None:
        return ""
    if short:
        return f"{money(p10, currency)} &ndash; {money(p90, currency)}"
    return f"P10 {money(p10, currency)} &ndash; P90 {money(p90, currency)}"


def answer_html(board: Dashboard, found: Answer) -> str:
    """The question, the grand total, each segment's plan and how sure the figures are."""
    cur = board.simulation.currency
    span = f"{found.first:%b %Y} to {found.last:%b %Y}"
    k = len(found.segments)
    plans = []
    for s in found.segments:
        said = f"<strong>{html.escape(s.label)}</strong> {badge(s.grade)}"
        if s.source:
            said += f" <span class='why'>(price from {html.escape(s.source)})</span>"
        if s.horizon is None:
            cost = f"no option serves every month; {money(s.first_month, cur)} in its first month"
        else:
            band = _range(s.p10, s.p90, cur)
            cost = f"{money(s.horizon, cur)} total" + (
                f" <span class='range'>({band})</span>" if band else ""
            )
        plans.append(
            f"<li>Cheapest for &ldquo;{html.escape(s.segment)}&rdquo; over {found.count} "
            f"months: {said} &mdash; {cost}; first month {money(s.first_month, cur)}.</li>"
        )
    band = _range(found.p10, found.p90, cur)
    return (
        "<div class='answer'>"
        f"<p class='question'>What will &ldquo;{html.escape(board.title)}&rdquo; cost from "
        f"{span}, bought the cheapest way, with which offers, and how sure is that?</p>"
        f"<p class='total'><span class='figure'>{money(found.total, cur)}</span> in all: "
        f"{k} segment{'s' if k > 1 else ''} over {found.count} months"
        + (f" <span class='range'>({band})</span>" if band else "")
        + "</p>"
        f"<ul class='plans'>{''.join(plans)}</ul>"
        f"<p class='sure'>{html.escape(_how_sure(board, len(found.leads)))}</p>"
        "</div>"
    )


def _how_sure(board: Dashboard, leads: int) -> str:
    """Where the ranges come from, and what was left out."""
    sim = board.simulation
    if sim.samples and sim.bands is not None:
        inputs: list[str] = []
        if sim.sensitivity is not None:
            words = {input_label(n) for n in sim.sensitivity["input"].unique().to_list()}
            inputs = sorted(words)
        said = (
            f"How sure: P10 and P90 of {sim.samples:,} Monte Carlo samples (seed {sim.seed})"
            + (f" of {'; '.join(inputs)}" if inputs else "")
            + "; a range of a total is that of the samples' totals."
        )
    else:
        said = "How sure: no Monte Carlo run (0 samples): every figure is the base case."
    if leads:
        said += f" {leads} offer{'s' if leads > 1 else ''} set aside as unverified leads (below)."
    return said


def months_html(found: Answer, currency: str) -> str:
    """The cost per month: each segment's plan, the total and its P10-P90 range."""
    segments = [s.segment for s in found.segments]
    head = "".join(f"<th class='num'>{html.escape(s)}</th>" for s in segments)
    rows = []
    ranges = {r[0]: (r[1], r[2]) for r in found.month_totals.iter_rows()}
    for (month,), frame in found.months.sort("month").group_by("month", maintain_order=True):
        cost = dict(zip(frame["segment"], frame["cost"], strict=True))
        cells = "".join(f"<td class='num'>{money(cost.get(s), currency)}</td>" for s in segments)
        total = [cost.get(s) for s in segments]
        summed = None if any(v is None for v in total) else sum(v or 0.0 for v in total)
        lo, hi = ranges.get(month, (None, None))
        band = "" if lo is None or hi is None else _range(lo, hi, currency, True)
        rows.append(
            f"<tr><td>{month:%b %Y}</td>{cells}<td class='num'>{money(summed, currency)}</td>"
            f"<td class='num band'>{band}</td></tr>"
        )
    totals = "".join(f"<td class='num'>{money(s.horizon, currency)}</td>" for s in found.segments)
    band = _range(found.p10, found.p90, currency, short=True)
    return (
        "<div class='table-wrap'><table class='months'>"
        f"<tr><th>Month</th>{head}<th class='num'>Total</th>"
        "<th class='num'>P10 &ndash; P90</th></tr>"
        + "".join(rows)
        + f"<tr class='total'><td>{found.count} months</td>{totals}"
        f"<td class='num'>{money(found.total, currency)}</td><td class='num band'>{band}</td></tr>"
        "</table></div>"
    )


def assumptions_html(board: Dashboard) -> str:
    """The assumptions of the figures, as a definition list."""
    sim = board.simulation
    rows = assumption_rows(board.workload, sim, board.labels) if board.workload is not None else []
    samples = (
        f"{sim.samples:,} Monte Carlo samples, seed {sim.seed}"
        if sim.samples
        else "none: the base case only"
    )
    rows += [
        ("Evidence", sim.evidence[:1].upper() + sim.evidence[1:] + "."),
        ("Prices", f"in force on {sim.as_of.isoformat()} (the rate cards' versions of that day)."),
        ("Samples", samples + "."),
    ]
    items = "".join(
        f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>" for term, text in rows
    )
    cur = html.escape(sim.currency)
    fx = rates_html(board) or "<p class='fx'>No exchange rate was needed.</p>"
    items += f"<dt>Currency</dt><dd><p class='fx'>Every figure is in {cur}.</p>{fx}</dd>"
    return f"<dl class='assumptions'>{items}</dl>"


def rates_html(board: Dashboard) -> str:
    """The exchange rates the page's figures were converted at, one line (none in USD)."""
    months = board.simulation.conversions
    lines = rate_lines(months)
    lines += [f"price charts: {c.describe()}" for c in board.conversions if c not in months]
    if not lines:
        return ""
    said = "; ".join(lines)
    return f"<p class='fx'>Exchange rates: {html.escape(said)}.</p>"


def _lead_figure(lead: Lead, currency: str) -> str:
    if lead.per_gpu_hour:
        return f"{money(lead.figure, currency, 2)}/GPU-h"
    return f"{money(lead.figure, currency, 4)}/image"


def leads_summary_html(found: Answer, currency: str, shown: int = 6) -> str:
    """The unverified leads in short, for the first screen."""
    if not found.leads:
        return "<p class='leads'>No offer was excluded by the evidence policy.</p>"
    items = "".join(
        f"<li><strong>{html.escape(d.label)}</strong> {badge(d.grade)} {_lead_figure(d, currency)}"
        f" <span class='why'>&mdash; {html.escape(d.why)}</span></li>"
        for d in found.leads[:shown]
    )
    more = len(found.leads) - shown
    tail = f"<li>and {more} more, with their reasons, <a href='#leads'>below</a></li>"
    return f"<ul class='leads'>{items}{tail if more > 0 else ''}</ul>"


def leads_html(found: Answer, currency: str) -> str:
    """Every unverified lead with its figure and reason: nothing is excluded in silence."""
    if not found.leads:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(d.label)}</td><td>{badge(d.grade)}</td>"
        f"<td class='num'>{_lead_figure(d, currency)}</td>"
        f"<td>{html.escape(', '.join(d.segments))}</td><td>{html.escape(d.reason)}</td></tr>"
        for d in found.leads
    )
    return (
        "<h2 id='leads'>Unverified leads: excluded from every figure above</h2>"
        "<div class='table-wrap'><table class='leads'><tr><th>Offer</th><th>Grade</th>"
        "<th class='num'>Price</th><th>Segments</th><th>Why excluded</th></tr>"
        f"{rows}</table></div>"
    )


def _probability(p: float | None, why: str | None) -> str:
    """P(self-hosting is cheaper), or that no self-hosted option was evaluated (never 0%;
    the reason is under the table)."""
    if why is not None:
        return "none evaluated (see below)"
    return "n/a" if p is None else f"{p:.0%}"


def headline_html(board: Dashboard, found: Answer) -> str:
    """Per segment: the option bought, its evidence, its costs and the self-hosting answer."""
    cur = board.simulation.currency
    head = (
        "<tr><th>Segment</th><th>Option bought</th><th>Evidence</th>"
        "<th class='num'>First month</th>"
        f"<th class='num'>Horizon ({found.count} months)</th><th class='num'>P10 &ndash; P90</th>"
        "<th class='num'>Best hosted, horizon</th><th class='num'>Best self-hosted, horizon</th>"
        "<th>P(self-hosting cheaper), last month</th><th class='num'>Break-even "
        "[images/month]</th></tr>"
    )
    plans = {s.segment: s for s in found.segments}
    rows = []
    for r in board.headline.iter_rows(named=True):
        plan = plans[r["segment"]]
        be = r["break_even_images"]
        source = f" {html.escape(plan.source)}" if plan.source else ""
        band = _range(plan.p10, plan.p90, cur, short=True)
        rows.append(
            f"<tr><td>{html.escape(str(r['segment']))}</td><td>{html.escape(plan.label)}</td>"
            f"<td>{badge(plan.grade)}{source}</td>"
            f"<td class='num'>{money(r['first_month'], cur)}</td>"
            f"<td class='num'>{money(r['horizon'], cur)}</td><td class='num band'>{band}</td>"
            f"<td class='num'>{money(r['hosted_horizon'], cur)}</td>"
            f"<td class='num'>{money(r['self_hosted_horizon'], cur)}</td>"
            f"<td>{_probability(r['p_self_hosting_cheaper'], r['no_self_hosting'])}</td>"
            "<td class='num'>"
            + (
                "never in range"
                if be is None and r["segment"] in board.break_evens
                else ("n/a" if be is None else f"{be:,.0f}")
            )
            + "</td></tr>"
        )
    why = "".join(
        f"<li>{html.escape(str(segment))}: no self-hosted option evaluated: "
        f"{html.escape(board.labels.words(str(reason)))}</li>"
        for segment, reason in board.simulation.no_self_hosting.iter_rows()
    )
    return (
        "<h2>Per segment</h2><div class='table-wrap'>"
        f"<table class='headline'>{head}{''.join(rows)}</table></div>"
        + (f"<ul class='notes'>{why}</ul>" if why else "")
    )


def first_screen_html(board: Dashboard, found: Answer) -> str:
    """The answer, the cost per month, the assumptions and the leads in short."""
    cur = board.simulation.currency
    return (
        "<section class='first-screen'>"
        f"<div class='left'>{answer_html(board, found)}"
        f"<h2>Assumptions</h2>{assumptions_html(board)}</div>"
        f"<div class='right'><h2>Cost per month</h2>{months_html(found, cur)}"
        f"<h2>Unverified leads (not in any figure)</h2>{leads_summary_html(found, cur)}</div>"
        "</section>"
    )


def page_charts(board: Dashboard, pictures: bool) -> list[PageChart]:
    """The page's charts: the linked versions, as wide as their place, each following the
    parameters :data:`LINKS` pass it, with its hint and (``pictures``) its PNG beside the page."""
    out = []
    for name, chart in board.charts.items():
        spec = spec_of(board.linked.get(name, chart))
        params = list(spec.get("params", []))  # type: ignore[call-overload]
        # a parameter another chart sets: declared here, set by the page's script
        params += [{"name": p, "value": None} for _, p, to in LINKS if to == name]
        if params:
            spec["params"] = params
        facet = "facet" in spec
        if not facet:
            spec["width"] = "container"
            spec["autosize"] = {"type": "fit-x", "contains": "padding"}
        title = spec.get("title", {})
        text = title.get("text", name) if isinstance(title, dict) else title
        out.append(
            PageChart(
                name,
                spec,
                title=str(text),
                hint=HINTS.get(name, ""),
                fallback=f"{name}.png" if pictures else None,
                wide=name in WIDE,
                facet=facet,
            )
        )
    return out


def dashboard_html(board: Dashboard, meta: str, pictures: bool) -> str:
    """The whole page: first screen, per-segment table, leads, charts and notes."""
    found = answer(board.simulation, board.headline, board.labels)
    cur = board.simulation.currency
    body = (
        first_screen_html(board, found)
        + headline_html(board, found)
        + leads_html(found, cur)
        + "<h2>Charts</h2>"
    )
    return charts_page(
        page_charts(board, pictures),
        title=f"{board.title}: cost plan",
        meta=meta,
        body_html=body,
        notes=[board.labels.words(n) for n in board.notes],
        links=[link for link in LINKS if link[0] in board.charts and link[2] in board.charts],
    )
