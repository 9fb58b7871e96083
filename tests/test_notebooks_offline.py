"""Notebooks that work offline: the renderer, the table helper, the controls, and a notebook
exported to HTML opened in a real headless Chromium with every network request refused.

The browser test needs Debian's ``chromium`` (``/usr/bin/chromium``), driven by Playwright
as in ``tests/test_browser.py``; it skips without it unless ``PRICING_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import altair as alt
import nbformat
import polars as pl
import pytest
from nbclient import NotebookClient

import pricing
from pricing import notebook as nb
from tests import chromium
from tests.conftest import CatalogBuilder, offer, version

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def chart_mimebundle(chart: alt.TopLevelMixin) -> dict[str, Any]:
    shown = chart._repr_mimebundle_()
    bundle = shown[0] if isinstance(shown, tuple) else shown
    assert isinstance(bundle, dict)
    return bundle


# ---- the renderer -------------------------------------------------------------------------


def test_importing_the_helper_enables_the_offline_renderer() -> None:
    assert alt.renderers.active == nb.RENDERER
    alt.renderers.enable("default")
    try:
        nb.charts_offline()
        nb.charts_offline()  # twice is harmless
        assert alt.renderers.active == nb.RENDERER
    finally:
        nb.charts_offline()


def test_a_charts_html_inlines_vega_and_loads_no_script() -> None:
    title = "</script><script>window.hacked = 1</script><!--"
    chart = (
        alt.Chart(alt.Data(values=[{"x": 1, "y": 2}]))  # type: ignore[no-untyped-call]
        .mark_point()
        .encode(x="x:Q", y="y:Q")
        .properties(title=title)
    )
    bundle = chart_mimebundle(chart)
    page = bundle["text/html"]
    assert "https://cdn" not in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert "Error loading script" not in page
    assert "vegaEmbed(" in page
    assert "__pricingVega" in page  # the bundle, under its own global
    assert len(page) > 500_000  # Vega, Vega-Lite and Vega-Embed are in the page
    # One script element, whatever the spec holds: the title cannot end it.
    assert len(re.findall(r"</script", page, re.IGNORECASE)) == 1
    assert "window.hacked" in page
    assert "</script><script>window.hacked" not in page


def test_every_chart_gets_its_own_container() -> None:
    spec = {"mark": "point", "data": {"values": [{"x": 1}]}, "encoding": {}}
    first, second = nb.chart_html(spec), nb.chart_html(spec)
    ids = [re.search(r'<div id="([^"]+)"', html).group(1) for html in (first, second)]  # type: ignore[union-attr]
    assert ids[0] != ids[1]


# ---- numbers and names --------------------------------------------------------------------


def test_money_reads_as_money() -> None:
    assert nb.money(Decimal("0.004620750000")) == "$0.004621"
    assert nb.money(1234.5) == "$1,234.50"
    assert nb.money(Decimal("1234.567"), "EUR") == "€1,234.57"
    assert nb.money(0.035, "GBP") == "£0.035"
    assert nb.money(12.5, "CHF") == "12.50 CHF"
    assert nb.money(-12.345) == "-$12.35"
    assert nb.money(0) == "$0.00"
    assert nb.money(None) == "—"  # no price is not $0
    assert nb.money(float("nan")) == "—"


def test_volumes_and_shares() -> None:
    assert nb.count(1.0114e6) == "1,011,400"
    assert nb.count(2_500_000) == "2,500,000"
    assert nb.count(None) == "—"
    assert nb.percent(0.6321) == "63.2%"
    assert nb.number(0.0012345) == "0.001234"


def test_table_formats_by_column_and_keeps_the_exact_frame() -> None:
    frame = pl.DataFrame(
        {
            "option": ["a <b>"],
            "images": [1.0114e6],
            "cost": [Decimal("4672.2")],
            "per_image": [Decimal("0.004620750000")],
            "utilisation": [0.625],
            "saving_pct": [12.34],
            "rows_unpriced": [3],
            "currency": ["EUR"],
        }
    )
    shown = nb.table(frame, names=False)
    assert shown.frame is frame
    assert shown.shown.row(0) == (
        "a <b>",
        "1,011,400",
        "€4,672.20",
        "€0.004621",
        "62.5%",
        "12.3%",
        "3",
        "EUR",
    )
    page = shown._repr_html_()
    assert "a &lt;b&gt;" in page
    assert "a <b>" not in page
    assert "…" not in page
    assert "a <b>" in repr(shown)


@pytest.fixture
def named_data(build: CatalogBuilder) -> pricing.DataSet:
    """A data set with one hosted offer (``acme/m``), GPU ``g1`` and two offers of it that
    differ only in their region."""
    catalog = build(offer(version('{ unit = "image", price = 0.04 }')))
    data = pricing.load_data_set()
    gpu = next(iter(data.gpus.gpus.values())).model_copy(update={"id": "g1", "name": "NVIDIA G1"})
    first = data.gpus.offers[0].model_copy(
        update={
            "id": "cloudy/g1-east",
            "provider": "cloudy",
            "gpu": "g1",
            "gpus": 8,
            "category": "spot",
            "region": "east",
            "effective": date(2026, 1, 1),
        }
    )
    second = first.model_copy(update={"id": "cloudy/g1-west", "region": None})
    third = first.model_copy(update={"id": "cloudy/g1-other", "region": None})
    gpus = dataclasses.replace(data.gpus, gpus={"g1": gpu}, offers=(first, second, third))
    return dataclasses.replace(data, catalog=catalog, gpus=gpus)


def test_option_names_are_human_and_unique(named_data: pricing.DataSet) -> None:
    # The names the charts use (pricing/_charts/labels.py), made unique within a table.
    assert nb.option_name("api:acme/m", named_data) == "Model M on Acme, API"
    assert nb.option_name("acme/m", named_data) == "Model M on Acme, API"
    assert nb.option_name("dedicated:cloudy/g1-east:m", named_data) == (
        "Model M on cloudy 8x G1, spot, dedicated"
    )
    assert nb.option_name("cloudy/g1-east", named_data) == "cloudy 8x G1, spot"
    assert nb.option_name("unknown-thing", named_data) == "unknown-thing"
    ids = ["autoscaled:cloudy/g1-west:m", "autoscaled:cloudy/g1-other:m", "api:acme/m"]
    names = nb.option_names(ids, named_data)
    assert len(set(names.values())) == 3
    assert "cloudy/g1-west" in names["autoscaled:cloudy/g1-west:m"]
    assert names["api:acme/m"] == "Model M on Acme, API"
    shown = nb.table(pl.DataFrame({"option": ids, "model": ["m"] * 3}), data=named_data)
    assert shown.shown["option"].to_list() == [names[i] for i in ids]
    assert shown.shown["model"].to_list() == ["Model M"] * 3


# ---- what-ifs -----------------------------------------------------------------------------

OFFER = "runpod/h100-sxm-community"


def test_gpu_price_reaches_break_even_and_simulation_alike() -> None:
    request = pricing.ImageRequest(model="flux-1-dev")
    terms = pricing.HostingTerms(peak_to_mean=2.5, max_utilisation=0.8)
    cheap = nb.with_gpu_price(OFFER, 1.25)
    assert cheap.gpus.offer(OFFER).gpu_hourly_price == Decimal("1.25")
    assert nb.with_gpu_price(OFFER, None) is pricing.load_data_set()
    by_data = pricing.break_even(request, OFFER, 0.02, hosting=terms, data=cheap)
    by_arg = pricing.break_even(request, OFFER, 0.02, hosting=terms, gpu_hour=1.25)
    assert by_data.volume == by_arg.volume
    assert by_data.self_cost == by_arg.self_cost

    def gpu_cost(data: pricing.DataSet) -> float:
        sim = pricing.simulate("small", gpus=[OFFER], modes=("dedicated",), data=data)
        items = sim.line_items.filter(pl.col("item").is_in(["GPU busy", "GPU idle"]))
        return float(items["cost"].sum())

    listed = float(pricing.load_data_set().gpus.offer(OFFER).gpu_hourly_price)
    assert gpu_cost(cheap) == pytest.approx(gpu_cost(pricing.load_data_set()) * 1.25 / listed)
    with pytest.raises(pricing.PricingError, match="unknown GPU offer"):
        nb.with_gpu_price("nobody/nothing", 1.0)


def test_what_if_runs_once_then_on_every_change() -> None:
    calls: list[tuple[int, str]] = []

    def update(n: int, word: str) -> list[object]:
        if n == 7:
            raise pricing.PricingError("seven is not allowed")
        calls.append((n, word))
        return [f"n = {n}", nb.table(pl.DataFrame({"cost": [float(n)]}))]

    shown = nb.what_if(update, n=nb.slider("n", 1, 0, 10), word=nb.choice("w", ["a", "b"], "c"))
    assert calls == [(1, "c")]  # a value not among the choices is added to them
    assert len(shown.handles) == 2
    shown.controls["n"].value = 3
    shown.controls["word"].value = "b"
    assert calls == [(1, "c"), (3, "c"), (3, "b")]
    assert shown.status.value == ""
    shown.controls["n"].value = 7
    assert "seven is not allowed" in shown.status.value
    assert calls[-1] == (3, "b")


def test_a_slider_starts_at_the_assumption() -> None:
    wide = nb.slider("peak", 10.0, 1.0, 8.0, 0.1)
    assert (wide.value, wide.min, wide.max, wide.readout_format) == (10.0, 1.0, 10.0, ".1f")
    whole = nb.slider("hours", 20, 0, 200)
    assert (type(whole).__name__, whole.value) == ("IntSlider", 20)


# ---- an exported notebook in a real browser, offline --------------------------------------

needs_browser = pytest.mark.skipif(not chromium.installed(), reason=chromium.NOT_INSTALLED)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Notebook 02 run top to bottom (controls and charts), exported to HTML by nbconvert."""
    from nbconvert import HTMLExporter

    out = tmp_path_factory.mktemp("exported")
    book: nbformat.NotebookNode = nbformat.read(  # type: ignore[no-untyped-call]
        NOTEBOOKS / "02-hosted-vs-self-hosted.ipynb", as_version=4
    )
    client = NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(out)}}
    )
    client.execute()
    body, _ = HTMLExporter().from_notebook_node(book)  # type: ignore[no-untyped-call]
    page = out / "02-hosted-vs-self-hosted.html"
    page.write_text(body, encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def offline_page(exported: Path) -> Iterator[dict[str, Any]]:
    with chromium.launched() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        refused: list[str] = []
        errors: list[str] = []

        def offline(route: Any) -> None:
            if route.request.url.startswith("file:"):
                route.continue_()
            else:  # no network: nbconvert's own require.js and MathJax links fail too
                refused.append(route.request.url)
                route.abort("internetdisconnected")

        context.route("**/*", offline)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(exported.as_uri())
        page.wait_for_function(
            "[...document.querySelectorAll('.pricing-chart')].length > 0 && "
            "[...document.querySelectorAll('.pricing-chart')].every(e => e.dataset.pricingReady)",
            timeout=60_000,
        )
        yield {"page": page, "refused": refused, "errors": errors}
        context.close()


@pytest.mark.slow
@needs_browser
def test_exported_notebook_draws_its_charts_offline(offline_page: dict[str, Any]) -> None:
    page = offline_page["page"]
    states = page.evaluate(
        "[...document.querySelectorAll('.pricing-chart')].map(e => [e.dataset.pricingReady,"
        " e.querySelectorAll('svg .mark-line path, svg .mark-rect path, svg .mark-symbol path,"
        " canvas').length])"
    )
    assert len(states) >= 2  # the break-even and fleet charts of the last cell
    assert all(ready == "1" and marks > 0 for ready, marks in states), states
    assert "Error loading script" not in page.content()
    assert not [url for url in offline_page["refused"] if "vega" in url]
    assert not [e for e in offline_page["errors"] if "vega" in e.lower()]


@pytest.mark.slow
@needs_browser
def test_exported_charts_keep_their_sliders(offline_page: dict[str, Any]) -> None:
    page = offline_page["page"]
    chart = page.locator(".pricing-chart").first
    slider = chart.locator("input[name='gpu_hour']")
    before = chart.locator("svg").first.inner_html()
    base = float(slider.input_value())
    slider.fill(f"{base * 0.25:.2f}")  # fill() on a range input sets it and fires input
    page.wait_for_timeout(300)
    assert chart.locator("svg").first.inner_html() != before
