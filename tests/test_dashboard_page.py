"""The default dashboard's page in a real headless Chromium: on a wide screen, on a phone,
without scripts, and printed to PDF.

Needs Debian's ``chromium`` (``/usr/bin/chromium``); Playwright drives it (no browser
download). Without it the tests skip, unless ``PRICING_REQUIRE_BROWSER=1`` (set by
``.ci/run``), where a missing browser is a failure. The page is the default workload's
(``ecommerce``), exported with its pictures as ``pricing dashboard`` writes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pricing._charts.dashboard import Dashboard, build_dashboard, export_dashboard
from pricing._workloads.load import DEFAULT_WORKLOAD
from tests import chromium

ROOT = Path(__file__).resolve().parents[1]
chromium.require()

pytestmark = pytest.mark.slow

AS_OF = "2026-11-21"
#: Internal ids a reader must never see (option ids, a tagged offer inside one, input paths).
INTERNAL_ID = re.compile(
    r"\b(api|dedicated|autoscaled|serverless|deployment|owned|self-hosted):[a-z0-9<]"
    r"|\.gridstackhub:|volume\.(base|growth)|self_hosting:"
)
#: Everything a reader can read: the page's text and the text drawn in its charts.
VISIBLE_TEXT = (
    "document.body.innerText + '\\n' + "
    "[...document.querySelectorAll('svg text')].map(t => t.textContent).join('\\n')"
)
#: Per chart: the data marks it drew (bars, lines, areas, cells, points, rules, text).
MARKS = """[...document.querySelectorAll('figure.chart')].map(f => [f.id,
  [...f.querySelectorAll('svg g.role-mark > *')].filter(el => el.tagName === 'text'
    ? el.textContent.trim() !== '' : ((el.getAttribute('d') || '').length > 3
    || el.tagName === 'line')).length])"""


@pytest.fixture(scope="module")
def board() -> Dashboard:
    return build_dashboard(DEFAULT_WORKLOAD, samples=200, seed=0, as_of=AS_OF)


@pytest.fixture(scope="module")
def exported(board: Dashboard, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("default")
    export_dashboard(board, out, ["html", "png"])
    return out / board.name / "index.html"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium.launched() as b:
        yield b


def open_page(browser: Any, path: Path, width: int, *, scripts: bool = True) -> Any:
    """The page loaded in a window ``width`` px wide; console errors kept in ``.errors``."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=scripts
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    page.goto(path.as_uri())
    if scripts:
        page.wait_for_selector("body[data-ready]", timeout=60_000)
        assert page.evaluate("document.body.dataset.ready") == "1", errors
        page.wait_for_timeout(300)
    return page


def test_wide_screen_answers_first_and_fills_the_width(browser: Any, exported: Path) -> None:
    page = open_page(browser, exported, 1400)
    try:
        assert page.errors == []
        # the answer, the grand total and the cost per month are on the first screen
        for selector in (".answer .total", "table.months", "dl.assumptions"):
            box = page.locator(selector).bounding_box()
            assert box is not None
            assert box["y"] < 900, selector
        assert page.locator(".answer .badge").count() >= 2  # an evidence grade per plan
        # charts as wide as their place: two columns of about 650 px, or the whole width
        widths = page.evaluate(
            "[...document.querySelectorAll('figure.chart')].map(f => "
            "[f.id, f.clientWidth, f.querySelector('svg').getBoundingClientRect().width])"
        )
        for name, place, drawn in widths:
            assert place >= 600, name
            assert drawn >= 0.9 * place, (name, place, drawn)
        spend = next(w for w in widths if w[0] == "figure-spend")
        assert spend[2] >= 0.85 * 1400
        # hints are for this page only: shown here, where the controls work
        assert page.locator("figcaption.hint").first.is_visible()
    finally:
        page.context.close()


def test_every_chart_draws_marks_and_no_internal_id_shows(browser: Any, exported: Path) -> None:
    page = open_page(browser, exported, 1400)
    try:
        marks = dict(page.evaluate(MARKS))
        assert set(marks) == {f"figure-{name}" for name in page_names(exported)}
        assert all(count > 0 for count in marks.values()), marks
        text = page.evaluate(VISIBLE_TEXT)
        found = INTERNAL_ID.search(text)
        assert found is None, text[max(found.start() - 80, 0) : found.end() + 80]
        assert "FLUX.2 [dev] on Replicate, API" in text  # the plan of product edits
        assert "Volume (base)" in text  # the tornado's inputs, in words
    finally:
        page.context.close()


def page_names(path: Path) -> list[str]:
    return re.findall(r"<div class='vis' id='chart-([a-z-]+)'>", path.read_text("utf-8"))


def test_phone_width_has_no_horizontal_scroll(browser: Any, exported: Path) -> None:
    page = open_page(browser, exported, 390)
    try:
        assert page.errors == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.evaluate("document.body.scrollWidth <= window.innerWidth")
        marks = dict(page.evaluate(MARKS))
        assert all(count > 0 for count in marks.values()), marks
        box = page.locator(".answer .total").bounding_box()
        assert box is not None
        assert box["y"] < 900  # the grand total is on a phone's first screen too
        assert box["x"] + box["width"] <= 390
    finally:
        page.context.close()


@pytest.mark.parametrize("workload", ["agency", "consumer-app", "ecommerce"])
def test_every_committed_first_screen_shows_its_tables_whole(browser: Any, workload: str) -> None:
    # the bundled examples as committed (dashboards/); consumer-app's six-figure ranges once
    # pushed the P10-P90 column out of sight
    page = open_page(browser, ROOT / "dashboards" / workload / "index.html", 1400)
    try:
        assert page.errors == []
        cut = page.evaluate(
            "[...document.querySelectorAll('.first-screen .table-wrap')]"
            ".filter(w => w.scrollWidth > w.clientWidth + 1).length"
        )
        assert cut == 0
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        page.context.close()


def test_without_scripts_every_chart_is_its_picture(browser: Any, exported: Path) -> None:
    page = open_page(browser, exported, 1400, scripts=False)
    try:
        page.wait_for_load_state("load")
        pictures = page.evaluate(
            "[...document.querySelectorAll('img.fallback')].map(i => "
            "[i.getAttribute('src'), i.complete && i.naturalWidth > 0])"
        )
        assert sorted(src for src, _ in pictures) == sorted(
            f"{name}.png" for name in page_names(exported)
        )
        assert all(loaded for _, loaded in pictures), pictures
        assert page.locator("figcaption.hint").first.is_hidden()  # no "drag" beside a picture
        assert "$" in page.inner_text(".answer .total")  # the answer needs no script
    finally:
        page.context.close()


def test_print_layout_hides_the_controls(browser: Any, exported: Path) -> None:
    page = open_page(browser, exported, 1400)
    try:
        page.emulate_media(media="print")
        assert page.locator(".controls").first.is_hidden()
        assert page.locator("figcaption.hint").first.is_hidden()
        assert page.locator(".answer .total").is_visible()
    finally:
        page.context.close()


def test_the_page_prints_to_pdf(board: Dashboard, tmp_path: Path) -> None:
    files = export_dashboard(board, tmp_path, ["html", "pdf"])
    pdf = tmp_path / board.name / "dashboard.pdf"
    assert pdf in files
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert re.search(rb"/Type\s*/Page(?!s)", data), "no page object in the PDF"
