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
from functools import cache
from pathlib import Path

import altair as alt

from pricing._base.atomic import atomic_write_all
from pricing._charts.theme import theme_config
from pricing.errors import PricingError

FORMATS = ("html", "png", "svg", "json")

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="pricing">
<title>{title}</title>
<style>
body {{ font-family: DejaVu Sans, Helvetica, Arial, sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }}
p.meta {{ color: #555; font-size: 13px; margin: 0 0 16px; }}
table.headline {{ border-collapse: collapse; margin: 8px 0 24px; font-size: 13px; }}
table.headline th, table.headline td {{ border-bottom: 1px solid #ddd; padding: 4px 10px;
  text-align: left; }}
table.headline td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.chart {{ margin: 0 0 28px; }}
.controls:not(:empty) {{ position: sticky; top: 0; z-index: 2; background: #f7f7f7;
  border: 1px solid #ddd; padding: 6px 12px; margin: 0 0 16px; }}
.controls:not(:empty)::before {{ content: "What-if (computed in this page, no server)";
  font-weight: bold; font-size: 13px; }}
.vega-bind {{ font-size: 13px; margin: 2px 0; }}
.vega-bind-name {{ display: inline-block; min-width: 230px; }}
ul.notes {{ color: #555; font-size: 12px; }}
</style>
<script>{bundle}</script>
</head>
<body>
<h1>{title}</h1>
<p class="meta">{meta}</p>
{body}
<div id="controls" class="controls"></div>
<div id="vis" class="chart"></div>
{notes}
<script>
const spec = {spec};
vegaEmbed("#vis", spec, {{actions: false, renderer: "svg", bind: "#controls"}})
  .then(function (result) {{ window.vegaView = result.view; document.body.dataset.ready = "1"; }})
  .catch(function (error) {{ console.error(error); document.body.dataset.ready = "error"; }});
</script>
</body>
</html>
"""


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


def page(
    spec: dict[str, object],
    *,
    title: str,
    meta: str = "",
    body_html: str = "",
    notes: Sequence[str] = (),
) -> str:
    """A self-contained HTML page drawing ``spec`` (scripts inlined, no network)."""
    notes_html = (
        "<ul class='notes'>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"
        if notes
        else ""
    )
    return _PAGE.format(
        title=html.escape(title),
        meta=html.escape(meta),
        body=body_html,
        notes=notes_html,
        spec=script_json(spec),
        bundle=javascript_bundle(),
    )


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Validated list of export formats."""
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise PricingError(
            f"unknown export format {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(FORMATS)} (e.g. --format html,png)"
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
