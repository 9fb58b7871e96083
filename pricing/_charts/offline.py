"""Charts that draw with no network: an Altair renderer with Vega inlined in each chart.

The ``"pricing-offline"`` renderer (:func:`charts_offline`; :mod:`pricing.notebook` enables
it on import) writes each chart as an HTML fragment that carries Vega, Vega-Lite and
Vega-Embed (vl-convert's bundle, built once per process) instead of loading them from a CDN,
so charts draw in JupyterLab with no network and in a notebook exported to HTML (nbconvert),
with their parameters (sliders, dropdowns) and selections. The bundle runs once per page and
keeps the libraries under its own global, ``window.__pricingVega[<Vega-Lite version>]``, so
a page that already has another ``vegaEmbed`` (JupyterLab's, a CDN's) is left alone.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any

import altair as alt

from pricing._charts.export import script_json
from pricing.errors import PricingError

RENDERER = "pricing-offline"
#: Where the bundle keeps Vega-Embed in the page: its own global, keyed by Vega-Lite version,
#: so a page that already has another ``vegaEmbed`` (JupyterLab, a CDN) is left alone.
STORE = "__pricingVega"


def vega_lite_version() -> str:
    """The Vega-Lite version of this Altair, as vl-convert names it (``"6.4"``)."""
    return str(alt.SCHEMA_VERSION).lstrip("v").rsplit(".", 1)[0]


@cache
def javascript_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script (vl-convert), about 0.9 MB, built once per
    process (a few seconds): it stores them as ``window.__pricingVega[version]``."""
    import vl_convert as vlc

    version = json.dumps(vega_lite_version())
    snippet = (
        f"(window.{STORE} = window.{STORE} || {{}})[{version}] = {{vegaEmbed, vegaLite, vega}};"
    )
    bundle: str = vlc.javascript_bundle(snippet=snippet, vl_version=vega_lite_version())
    bundle = re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)
    if "<!--" in bundle and re.search("<script", bundle, re.IGNORECASE):
        raise PricingError(
            "this vl-convert's Vega bundle holds '<!--' and '<script', which cannot be inlined "
            "in a notebook output; install the vl-convert-python version of uv.lock (uv sync)"
        )
    return bundle


def chart_html(
    spec: Mapping[str, object], embed_options: Mapping[str, object] | None = None
) -> str:
    """One chart as an HTML fragment that draws with no network: a ``div``, then a script that
    runs the inlined bundle once per page and calls Vega-Embed on the ``div``. The ``div`` gets
    ``data-pricing-ready="1"`` once drawn (``"error"`` and the message if it cannot be)."""
    div = f"pricing-vis-{uuid.uuid4().hex}"
    version = json.dumps(vega_lite_version())
    options = {"mode": "vega-lite", **(embed_options or {})}
    return f"""<div id="{div}" class="pricing-chart"></div>
<script type="text/javascript">
(function (spec, options) {{
  var el = document.currentScript && document.currentScript.previousElementSibling;
  if (!el || el.id !== "{div}") {{ el = document.getElementById("{div}"); }}
  var store = window.{STORE} = window.{STORE} || {{}};
  if (!store[{version}]) {{
    (function () {{
{javascript_bundle()}
    }})();
  }}
  store[{version}].vegaEmbed(el, spec, options)
    .then(function () {{ el.dataset.pricingReady = "1"; }})
    .catch(function (error) {{
      el.dataset.pricingReady = "error";
      el.textContent = "The chart could not be drawn: " + error;
      console.error(error);
    }});
}})({script_json(spec)}, {script_json(options)});
</script>
"""


def offline_renderer(spec: dict[str, object], **metadata: Any) -> dict[str, str]:
    """Altair renderer: the chart's HTML with the Vega libraries inlined (:func:`chart_html`)."""
    embed = metadata.get("embed_options") or {}
    return {"text/html": chart_html(spec, embed), "text/plain": "<Altair chart>"}


def charts_offline() -> None:
    """Register and enable the ``"pricing-offline"`` renderer (done on import)."""
    if RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, offline_renderer)
    alt.renderers.enable(RENDERER)
