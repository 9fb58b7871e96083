"""Exported dashboards in a real headless Chromium: drawn, interactive, offline.

Needs Debian's ``chromium`` (``/usr/bin/chromium``); Playwright drives it (no browser
download). Without it the tests skip, unless ``PRICING_REQUIRE_BROWSER=1`` (set by
``.ci/run``, which installs Chromium), where a missing browser is a failure.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pricing._charts.dashboard import build_dashboard, export_dashboard
from tests import chromium

chromium.require()

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dash")
    # consumer-app: its main request has offers from more than one provider (bfl and fal)
    board = build_dashboard("consumer-app", samples=200, seed=0, as_of="2026-11-21", budget=8000)
    export_dashboard(board, out, ["html"])
    return out / "consumer-app" / "index.html"


class Page:
    """A loaded page and what it did: console messages, errors, requests."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))

    def svg(self, chart: str = "spend") -> str:
        """The drawing of one chart of the page (each chart is its own Vega view)."""
        return str(self.page.evaluate(f"document.querySelector('#chart-{chart} svg').outerHTML"))

    def signal(self, chart: str, name: str) -> str:
        """A JavaScript expression reading a parameter of one chart's view."""
        return f"window.vegaViews[{chart!r}].signal({name!r})"

    def count(self, selector: str) -> int:
        return int(self.page.evaluate(f"document.querySelectorAll({selector!r}).length"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium.launched() as b:
        yield b


@pytest.fixture
def page(browser: Any, exported: Path) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    loaded = Page(context.new_page())
    loaded.page.goto(exported.as_uri())
    loaded.page.wait_for_selector("body[data-ready]", timeout=60_000)
    yield loaded
    context.close()


def test_page_draws_without_errors_or_network(page: Page, exported: Path) -> None:
    assert page.page.evaluate("document.body.dataset.ready") == "1"
    assert page.errors == []
    assert [text for kind, text in page.console if kind == "error"] == []
    # The only request is the file itself: scripts and data are inlined.
    assert page.requests == [exported.as_uri()]
    assert page.count("#vis svg .mark-rect path") > 20  # bars and heatmap cells
    assert page.count("#vis svg .mark-line path") >= 5
    assert page.count("#vis svg .mark-area path") >= 1
    assert "Monthly spend by line item" in page.svg()
    headline = page.page.inner_text("table.headline")
    assert "avatar restyle" in headline
    # the option bought, in words, and the evidence grade its price rests on
    assert "FLUX.2 [klein] 4B on Black Forest Labs, API" in headline
    assert page.page.inner_text("table.headline .badge.official") == "official"
    # BFL's free FLUX.1 [schnell] tier is shown as an unverified lead, with its reason
    leads = page.page.inner_text("table.leads")
    assert "FLUX.1 [schnell] on Black Forest Labs, API" in leads
    assert "free-tier" in leads


def test_gpu_price_slider_redraws_the_break_even_chart(page: Page) -> None:
    before = page.svg("break-even")
    slider = page.page.locator("input[name='gpu_hour']")
    base = float(slider.input_value())
    slider.fill(f"{base * 0.25:.2f}")  # fill() on a range input sets it and fires input
    page.page.wait_for_function(f"{page.signal('break-even', 'gpu_hour')} < {base}", timeout=10_000)
    page.page.wait_for_timeout(200)
    assert page.svg("break-even") != before
    assert page.errors == []


def _answer(page: Page) -> str:
    texts = page.page.evaluate(
        "[...document.querySelectorAll('#vis svg .mark-text text')].map(t => t.textContent)"
    )
    return str(next(t for t in texts if t.startswith("at ") and "/h: self-hosting" in t))


def test_break_even_answer_follows_the_gpu_price_slider(page: Page) -> None:
    # The subtitle states what was solved at the offer's price; the answer at the top left is
    # the one at the slider's price, never a stale "never" beside a drawn break-even line.
    slider = page.page.locator("input[name='gpu_hour']")
    base = float(slider.input_value())
    assert _answer(page).startswith(f"at {base:,.2f} USD/h: ")
    slider.fill(f"{base * 0.25:.2f}")
    page.page.wait_for_function(f"{page.signal('break-even', 'gpu_hour')} < {base}", timeout=10_000)
    page.page.wait_for_timeout(200)
    cheap = _answer(page)
    assert cheap.startswith(f"at {base * 0.25:,.2f} USD/h: ")
    rules = page.page.evaluate(
        "[...document.querySelectorAll('#chart-break-even svg .mark-text text')]"
        ".map(t => t.textContent).filter(t => /^[0-9,]+$/.test(t))"
    )
    if "never" in cheap:
        assert rules == []  # no red line either
    else:
        # the red line's label and the answer name the same volume
        assert cheap.split("cheaper from ")[1].split(" ")[0] in rules
    assert page.errors == []


def test_provider_dropdown_filters_the_bars(page: Page) -> None:
    bars = "#chart-cost-per-image svg .mark-rect path"
    before = page.count(bars)
    page.page.locator("select[name='provider_pick']").select_option("bfl")
    page.page.wait_for_function(f"{page.signal('cost-per-image', 'provider_pick')} === 'bfl'")
    page.page.wait_for_timeout(200)
    assert 0 < page.count(bars) < before


def test_legend_click_links_the_fan_and_tornado_charts(page: Page) -> None:
    before = page.svg("tornado")
    # The fan chart's legend names its options in words ("... on Black Forest Labs, API");
    # Vega listens on the whole SVG, so the click goes to the label's position.
    legend = page.page.locator(
        "#chart-fan svg .role-legend-label text", has_text="on Black Forest Labs, API"
    ).last
    legend.evaluate("el => el.scrollIntoView({block: 'center'})")
    picked = legend.text_content()
    legend.click(force=True)
    # the page passes the fan chart's pick to the tornado chart, which is a view of its own
    page.page.wait_for_function(
        f"Object.keys({page.signal('tornado', 'option_pick')} || {{}}).length > 0"
    )
    page.page.wait_for_timeout(200)
    after = page.svg("tornado")
    assert after != before
    assert html.escape(str(picked)) in after  # its legend names the option it explains
    assert page.errors == []
