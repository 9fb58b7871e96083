"""Write charts to disk: self-contained HTML, PNG, SVG and the Vega-Lite JSON spec.

The HTML page inlines Vega, Vega-Lite and Vega-Embed (from vl-convert's bundle), so it opens
offline, makes no network request, and keeps its sliders: every what-if is a Vega-Lite
parameter computed in the browser. Files are written to a temporary name and renamed, so an
export that fails half way leaves the previous files in place.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import altair as alt

from pricing._base.atomic import atomic_write_all
from pricing._charts.theme import theme_config
from pricing.errors import PricingError

FORMATS = ("html", "png", "svg", "json")

#: Extra formats of a dashboard (beside :data:`FORMATS`): the page printed by Chromium.
DASHBOARD_FORMATS = (*FORMATS, "pdf")

_CSS = """
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1680px;
  padding: 20px 28px 40px; color: #1f2328; line-height: 1.4; }
h1 { font-size: 24px; margin: 0 0 2px; }
h2 { font-size: 17px; margin: 22px 0 8px; }
p.meta { color: #57606a; font-size: 12px; margin: 0 0 14px; }
.first-screen { display: grid; gap: 8px 32px; grid-template-columns: minmax(0, 11fr) minmax(0, 9fr);
  align-items: start; }
.first-screen h2 { margin-top: 12px; }
.answer { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px; }
.answer p { margin: 4px 0; }
.question { color: #57606a; font-size: 14px; }
.total { font-size: 15px; }
.total .figure { font-size: 28px; font-weight: bold; margin-right: 4px; }
ul.plans { margin: 8px 0 4px; padding-left: 18px; font-size: 14px; }
ul.plans li { margin: 4px 0; }
.range { color: #57606a; white-space: nowrap; }
.sure { font-size: 12px; color: #57606a; }
dl.assumptions { display: grid; grid-template-columns: minmax(90px, max-content) minmax(0, 1fr);
  gap: 4px 12px; font-size: 12.5px; margin: 0; }
dl.assumptions dt { font-weight: bold; }
dl.assumptions dd { margin: 0; }
dl.assumptions p.fx { margin: 0; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 12.5px; }
th, td { border-bottom: 1px solid #d8dee4; padding: 3px 8px; text-align: left;
  vertical-align: top; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num.band { white-space: normal; min-width: 7em; }
table.months { width: 100%; }
tr.total td { font-weight: bold; border-top: 2px solid #8c959f; }
table.headline, table.leads { width: 100%; }
.badge { display: inline-block; border-radius: 9px; padding: 0 7px; font-size: 11px;
  font-weight: bold; white-space: nowrap; color: #fff; background: #6e7781; }
.badge.official { background: #1b7837; }
.badge.provider { background: #4c78a8; }
.badge.third-party { background: #b35806; }
.badge.claim { background: #d62728; }
ul.leads { font-size: 12.5px; padding-left: 18px; margin: 4px 0; }
.why { color: #57606a; }
.charts { display: grid; gap: 28px 36px; grid-auto-flow: dense;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 560px), 1fr)); margin-top: 8px; }
figure.chart { margin: 0; min-width: 0; }
figure.chart.wide { grid-column: 1 / -1; }
.vis { width: 100%; min-width: 0; }
.vis svg { max-width: 100%; height: auto; }
img.fallback { max-width: 100%; height: auto; }
.controls:not(:empty) { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px;
  padding: 4px 10px; margin: 6px 0 0; }
.vega-bind { font-size: 13px; margin: 2px 0; }
.vega-bind-name { display: inline-block; min-width: 200px; }
.vega-bind input[type=range] { max-width: 45vw; vertical-align: middle; }
figcaption.hint { font-size: 12px; color: #57606a; margin-top: 4px; }
html:not(.js) .hint { display: none; }
ul.notes { color: #57606a; font-size: 12px; }
@media (max-width: 900px) {
  body { padding: 12px 12px 32px; }
  .first-screen { grid-template-columns: minmax(0, 1fr); }
  .vega-bind-name { min-width: 0; display: block; }
  dl.assumptions { grid-template-columns: minmax(0, 1fr); }
  dl.assumptions dd { margin-bottom: 6px; }
}
@media print {
  @page { size: A4; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 11px; }
  .first-screen { grid-template-columns: minmax(0, 1fr); }
  .answer { break-inside: avoid; }
  .controls, .hint { display: none !important; }
  .charts { display: block; }
  figure.chart { break-inside: avoid; margin: 0 0 14px; }
  .table-wrap { overflow: visible; }
  table { font-size: 9.5px; }
  th, td { padding: 2px 4px; }
  td.num, th.num { white-space: normal; }
  a { color: inherit; text-decoration: none; }
  .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="pricing">
<title>{title}</title>
<style>{css}</style>
<script>{bundle}</script>
</head>
<body>
<header>
<h1>{title}</h1>
<p class="meta">{meta}</p>
</header>
{body}
<div id="vis" class="charts">
{figures}
</div>
{notes}
<script>
document.documentElement.classList.add("js");
const spec = {spec};
vegaEmbed(target(spec.charts[0]), fitted(spec.charts[0]), options(spec.charts[0]))
  .then(function (first) {{
    return Promise.all([first].concat(spec.charts.slice(1).map(function (chart) {{
      return vegaEmbed(target(chart), fitted(chart), options(chart));
    }})));
  }})
  .then(function (results) {{
    const views = {{}};
    results.forEach(function (result, i) {{ views[spec.charts[i].name] = result.view; }});
    spec.links.forEach(function (link) {{
      const from = views[link.from], to = views[link.to];
      if (!from || !to) return;
      from.addSignalListener(link.signal, function (name, value) {{
        to.signal(link.signal, value).runAsync();
      }});
    }});
    window.vegaViews = views;
    window.vegaView = results[0].view;
    document.body.dataset.ready = "1";
  }})
  .catch(function (error) {{ console.error(error); document.body.dataset.ready = "error"; }});
function target(chart) {{ return document.getElementById("chart-" + chart.name); }}
function options(chart) {{
  const controls = document.getElementById("controls-" + chart.name);
  return {{actions: false, renderer: "svg", bind: controls}};
}}
// The chart fitted to its place: legends and small multiples as wide as the page allows.
function fitted(chart) {{
  const one = JSON.parse(JSON.stringify(chart.spec));
  const width = target(chart).clientWidth || 640;
  one.config = one.config || {{}};
  one.config.legend = Object.assign({{}}, one.config.legend,
    {{labelLimit: Math.max(120, Math.min(480, width - 60))}});
  // a title wider than the place would narrow the plot to make room for it
  one.config.title = Object.assign({{}}, one.config.title, {{limit: Math.max(160, width - 8)}});
  if (chart.facet) {{
    const fit = width < 560 ? 1 : (width < 860 ? 2 : 3);
    one.columns = Math.min(fit, one.columns || fit);
    one.spec.width = Math.max(150, Math.floor(width / one.columns) - 100);
  }}
  return one;
}}
</script>
</body>
</html>
"""


@dataclass(frozen=True)
class PageChart:
    """One chart of a page: its spec (as the page draws it) and what surrounds it.

    ``hint`` says how to use its what-ifs (shown only when scripts run: a picture has
    none); ``fallback`` is the file name of its picture beside the page, shown when scripts
    do not run (e-mail previews); ``wide`` spans the page's columns; ``facet`` lets the page
    choose how many panels sit side by side.
    """

    name: str
    spec: dict[str, object]
    title: str = ""
    hint: str = ""
    fallback: str | None = None
    wide: bool = False
    facet: bool = False


#: A what-if link between two charts of a page: (chart, its parameter, the chart following).
Link = tuple[str, str, str]


@cache
def javascript_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script, with no external dependency."""
    import vl_convert as vlc

    version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    bundle: str = vlc.javascript_bundle(vl_version=version)  # type: ignore[call-arg]
    bundle = re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)
    if "<!--" in bundle and re.search("<script", bundle, re.IGNORECASE):
        # "<!--" then "<script" would keep the element open past its "</script>"
        raise PricingError(
            "this vl-convert's Vega bundle holds '<!--' and '<script', which cannot be inlined "
            "in a page; install the vl-convert-python version of uv.lock (uv sync)"
        )
    return bundle


#: Characters of JSON text that HTML would read inside a ``<script>`` element: "</script>",
#: "<!--" and "-->" must not appear, and U+2028/2029 end a line in older JavaScript. They can
#: only be inside JSON strings, where the ``\\u`` escape means the same character.
_SCRIPT_ESCAPES = {ord(c): f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"}


def script_json(value: object) -> str:
    """JSON text of ``value`` that is safe as the data of an HTML ``<script>`` element: whatever
    the strings hold (a segment called ``</script>`` or ``<!--<script>``), the element ends
    where the page ends it and the script reads the same value."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False).translate(_SCRIPT_ESCAPES)


def spec_of(chart: alt.TopLevelMixin) -> dict[str, object]:
    """The chart's Vega-Lite spec, with the package theme written in (looks the same anywhere)."""
    spec: dict[str, object] = chart.to_dict()
    config = dict(theme_config())
    config.update(spec.get("config", {}))  # type: ignore[call-overload]
    spec["config"] = config
    return spec


def spec_json(spec: dict[str, object]) -> str:
    """Stable JSON text of a spec: sorted keys, so that a regenerated spec diffs cleanly."""
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def figure_html(chart: PageChart) -> str:
    """One chart's place on a page: chart, controls, hint, and its picture without scripts."""
    name = html.escape(chart.name)
    alt_text = html.escape(chart.title or chart.name)
    if chart.fallback is not None:
        shown = f"<img class='fallback' src='{html.escape(chart.fallback)}' alt='{alt_text}'>"
    else:
        shown = f"<p>{alt_text}: this chart is drawn by JavaScript, which is off.</p>"
    hint = f"<figcaption class='hint'>{html.escape(chart.hint)}</figcaption>" if chart.hint else ""
    wide = " wide" if chart.wide else ""
    return (
        f"<figure class='chart{wide}' id='figure-{name}'>"
        f"<div class='vis' id='chart-{name}'></div>"
        f"<div class='controls' id='controls-{name}'></div>{hint}"
        f"<noscript>{shown}</noscript></figure>"
    )


def charts_page(
    charts: Sequence[PageChart],
    *,
    title: str,
    meta: str = "",
    body_html: str = "",
    notes: Sequence[str] = (),
    links: Sequence[Link] = (),
) -> str:
    """A self-contained HTML page drawing ``charts`` (scripts inlined, no network), each
    as wide as its place; ``links`` pass a parameter of one chart on to another."""
    if not charts:
        raise PricingError("a page needs at least one chart")
    notes_html = (
        "<h2>Notes</h2><ul class='notes'>"
        + "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        + "</ul>"
        if notes
        else ""
    )
    data = {
        "charts": [{"name": c.name, "spec": c.spec, "facet": c.facet} for c in charts],
        "links": [{"from": a, "signal": s, "to": b} for a, s, b in links],
    }
    return _PAGE.format(
        title=html.escape(title),
        meta=html.escape(meta),
        css=_CSS,
        body=body_html,
        figures="\n".join(figure_html(c) for c in charts),
        notes=notes_html,
        spec=script_json(data),
        bundle=javascript_bundle(),
    )


def page(
    spec: dict[str, object],
    *,
    title: str,
    meta: str = "",
    body_html: str = "",
    notes: Sequence[str] = (),
) -> str:
    """A self-contained HTML page drawing one chart's ``spec`` (scripts inlined, no network)."""
    return charts_page(
        [PageChart("chart", spec, title=title, wide=True)],
        title=title,
        meta=meta,
        body_html=body_html,
        notes=notes,
    )


def check_formats(formats: Iterable[str], allowed: Sequence[str] = FORMATS) -> tuple[str, ...]:
    """Validated list of export formats (of ``allowed``)."""
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    unknown = [f for f in chosen if f not in allowed]
    if unknown or not chosen:
        raise PricingError(
            f"unknown export format {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(allowed)} (e.g. --format html,png)"
        )
    return chosen


def render(spec: dict[str, object], fmt: str) -> bytes | str:
    """PNG bytes or SVG text of a spec, drawn by vl-convert (no browser needed)."""
    import vl_convert as vlc

    if fmt == "png":
        png: bytes = vlc.vegalite_to_png(spec, scale=1)
        return png
    svg: str = vlc.vegalite_to_svg(spec)
    return svg


def write_chart(
    chart: alt.TopLevelMixin,
    path: str | Path,
    formats: Iterable[str] = FORMATS,
    *,
    title: str | None = None,
) -> list[Path]:
    """Write one chart as ``path`` + ``.html`` / ``.png`` / ``.svg`` / ``.json``.

    Parameters
    ----------
    path : str or Path
        File name without suffix (``dashboards/ecommerce/spend``).
    formats : iterable of str
        Any of ``html``, ``png``, ``svg``, ``json``.

    Returns
    -------
    list of Path
        The files written.
    """
    chosen = check_formats(formats)
    base = Path(path)
    spec = spec_of(chart)
    name = title or base.name
    rendered: list[tuple[Path, Callable[[], bytes | str]]] = []
    for fmt in chosen:
        target = base.with_name(f"{base.name}.{fmt}")
        if fmt == "json":
            rendered.append((target, lambda: spec_json(spec)))
        elif fmt == "html":
            rendered.append((target, lambda: page(spec, title=name)))
        else:
            rendered.append((target, lambda fmt=fmt: render(spec, fmt)))  # type: ignore[misc]
    # Render everything first: a chart that cannot be drawn writes nothing.
    outputs = [(target, make()) for target, make in rendered]
    atomic_write_all(outputs)
    return [target for target, _ in outputs]
