"""Dashboards: composition, exported files, the committed exports, and the command."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import vl_convert as vlc
from typer.testing import CliRunner

import pricing
from pricing._charts.answer import answer
from pricing._charts.dashboard import Dashboard, build_dashboard, export_dashboard
from pricing._charts.export import spec_json, spec_of
from pricing._charts.page import dashboard_html, page_charts
from pricing.cli import app
from pricing.errors import PricingError

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "dashboards"
AS_OF = "2026-11-21"


@pytest.fixture(scope="module")
def board() -> Dashboard:
    return build_dashboard("ecommerce", samples=200, seed=0, as_of=AS_OF, budget=800)


def test_dashboard_composes_every_chart_with_unique_parameters(board: Dashboard) -> None:
    assert list(board.charts) == [
        "spend",
        "fan",
        "tornado",
        "break-even",
        "fleet",
        "cost-per-image",
        "heatmap",
        "price-history",
    ]
    spec: dict[str, Any] = board.spec()
    names = [p["name"] for p in spec.get("params", [])]
    for chart in spec["vconcat"]:
        names += [p["name"] for p in chart.get("params", [])]
        names += [p["name"] for layer in chart.get("layer", []) for p in layer.get("params", [])]
    assert len(names) == len(set(names))
    assert {"gpu_hour", "log10_volume", "peak_factor", "provider_pick", "option_pick"} <= set(names)
    assert spec["usermeta"] == {"workload": "ecommerce", "as_of": AS_OF}


def test_headline_matches_the_simulation(board: Dashboard) -> None:
    sim = board.simulation
    assert board.headline["segment"].to_list() == ["product edits", "lifestyle shots"]
    for row in board.headline.iter_rows(named=True):
        months = sim.monthly.filter(
            (sim.monthly["segment"] == row["segment"]) & (sim.monthly["option"] == row["option"])
        ).sort("month")
        assert row["first_month"] == pytest.approx(months["cost"][0])
        assert row["horizon"] == pytest.approx(months["cost"].sum())
    # lifestyle shots has self-hosted set-ups, so it has a break-even result.
    assert "lifestyle shots" in board.break_evens


def test_export_writes_self_contained_files(board: Dashboard, tmp_path: Path) -> None:
    files = export_dashboard(board, tmp_path, ["html", "png", "svg", "json"])
    folder = tmp_path / "ecommerce"
    assert folder / "index.html" in files
    page = (folder / "index.html").read_text()
    assert "<script src" not in page
    assert "<link" not in page
    assert "vegaEmbed(" in page
    assert "cdn.jsdelivr" not in page
    assert "product edits" in page  # the headline table
    for name in board.charts:
        assert (folder / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert (folder / f"{name}.svg").read_text().lstrip().startswith("<svg")
        one = json.loads((folder / f"{name}.json").read_text())
        assert one["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    assert json.loads((folder / "dashboard.json").read_text()) == json.loads(
        spec_json(board.spec())
    )


def test_export_rejects_unknown_formats_and_writes_nothing(
    board: Dashboard, tmp_path: Path
) -> None:
    with pytest.raises(PricingError, match="choose from html, png, svg, json, pdf"):
        export_dashboard(board, tmp_path, ["gif"])
    assert not any(tmp_path.iterdir())


def _committed() -> list[Path]:
    return sorted(COMMITTED.glob("*/dashboard.json"))


def test_the_bundled_examples_are_committed() -> None:
    names = {p.parent.name for p in _committed()}
    assert {"ecommerce", "agency", "consumer-app"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("path", _committed(), ids=lambda p: p.parent.name)
def test_committed_specs_are_up_to_date(path: Path) -> None:
    meta = json.loads(path.read_text())["usermeta"]
    rebuilt = build_dashboard(meta["workload"], as_of=meta["as_of"])
    stale = []
    if path.read_text() != spec_json(rebuilt.spec()):
        stale.append("dashboard.json")
    for name, chart in rebuilt.charts.items():
        if (path.parent / f"{name}.json").read_text() != spec_json(spec_of(chart)):
            stale.append(f"{name}.json")
    assert not stale, (
        f"{path.parent.name}: {', '.join(stale)} differ from a rebuild; run "
        f"`uv run pricing dashboard {meta['workload']} --as-of {meta['as_of']}` and commit"
    )


def test_dashboard_command_writes_the_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "dashboard",
            "consumer-app",
            "--out",
            str(tmp_path),
            "--format",
            "html,json",
            "--samples",
            "100",
            "--as-of",
            AS_OF,
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "consumer-app" / "index.html").exists()
    assert not list((tmp_path / "consumer-app").glob("*.png"))
    assert "Consumer" in result.output
    assert "index.html" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "gif"], "choose from html, png, svg, json, pdf"),
        (["no-such-workload"], "no-such-workload"),
        (["ecommerce", "--all"], "not both"),
    ],
)
def test_dashboard_command_errors(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["dashboard", *args, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_dashboard_benchmark_runs() -> None:
    bench = ROOT / "benchmarks" / "bench_dashboard.py"
    out = subprocess.run(
        [sys.executable, str(bench), "--samples", "20", "--repeat", "1"],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    for label in ("import pricing", "build default dashboard", "simulation alone", "export"):
        assert label in out


# --------------------------------------------------------------------------- the first screen

#: Internal ids a reader must never see: option ids, a second source's offer tag inside an
#: option id, workload input paths.
INTERNAL_ID = re.compile(
    r"\b(api|dedicated|autoscaled|serverless|deployment|owned|self-hosted):[a-z0-9<]"
    r"|\.gridstackhub:|volume\.(base|growth)|self_hosting:"
)
#: Words that tell a reader to interact: only the interactive page may say them.
INTERACTION = re.compile(r"click|drag|slider|legend to", re.IGNORECASE)


def _visible_text(page: str) -> str:
    """The page's text without its scripts and styles (what a reader can see)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture(scope="module")
def page_text(board: Dashboard, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("page")
    export_dashboard(board, out, ["html", "png"])
    return (out / "ecommerce" / "index.html").read_text(encoding="utf-8")


def test_the_first_screen_answers_with_a_grand_total(board: Dashboard, page_text: str) -> None:
    text = " ".join(_visible_text(page_text).split())
    horizons = board.headline["horizon"].to_list()
    total = sum(horizons)
    # the grand total is the segments' horizon costs added up, shown before anything else
    first = text.index(f"${total:,.0f} in all: 2 segments over 12 months")
    assert first < text.index("Assumptions") < text.index("Per segment")
    assert "What will “E-commerce catalogue” cost from Jan 2027 to Dec 2027" in text
    # each segment: its plan in words with its evidence grade, its total and its range
    plan = dict(board.headline.select("segment", "option").iter_rows())
    names = dict(board.labels.options(board.simulation.options).iter_rows())
    for row in board.headline.iter_rows(named=True):
        said = f"Cheapest for “{row['segment']}” over 12 months: {names[plan[row['segment']]]}"
        assert said in text
        assert f"${row['horizon']:,.0f} total (P10 $" in text
    assert "<span class='badge official' title='evidence grade'>official</span>" in page_text
    assert "<span class='badge third-party' title='evidence grade'>third-party</span>" in page_text


def test_the_first_screen_states_its_assumptions(board: Dashboard, page_text: str) -> None:
    text = " ".join(_visible_text(page_text).split())
    # data/workloads/ecommerce.toml, in words
    assert "edit, 1024x1024 (70%), 2048x2048 (30%); 1 input image; 28 steps" in text
    assert "Volume: 200,000 (triangular, 150,000 to 300,000) images in Jan 2027" in text
    assert "growing 3% (triangular, 1% to 5%) a month" in text
    assert "Models: FLUX.1 Kontext [pro], FLUX.2 [pro], FLUX.1 Kontext [dev], FLUX.2 [dev]" in text
    assert "GPUs: H100 SXM, L40S, H200 SXM, B200" in text
    assert (
        "licence 1,000 USD a month for 100,000 images, then 0.01 USD an image (the "
        "workload's terms)" in text
    )
    assert "Default evidence policy: official, provider, third-party prices" in text
    assert "in force on 2026-11-21" in text
    assert "200 Monte Carlo samples, seed 0" in text
    assert "Every figure is in USD. No exchange rate was needed." in text


def test_a_licence_of_no_fee_is_said_to_be_the_workloads_word() -> None:
    # data/workloads/consumer-app.toml: licence = { monthly_fee = 0, ... }, a placeholder
    page = (ROOT / "dashboards" / "consumer-app" / "index.html").read_text(encoding="utf-8")
    text = " ".join(_visible_text(page).split())
    assert "licence: no fee, as the workload states (its own terms, in no source" in text
    assert "licence 0 USD" not in text


def test_the_cost_per_month_table_adds_up(board: Dashboard, page_text: str) -> None:
    table = page_text.split("<table class='months'>")[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(\w{3} \d{4})</td>(.*?)</tr>", table)
    assert len(rows) == 12
    sim = board.simulation
    plan = pricing.plan_options(sim)
    monthly = sim.monthly.join(plan, on=["segment", "option"])
    first = monthly.filter(pl.col("month") == pl.col("month").min())
    cells = re.findall(r"<td class='num'>([^<]*)</td>", rows[0][1])
    assert rows[0][0] == "Jan 2027"
    assert cells[2] == f"${first['cost'].sum():,.0f}"  # product edits + lifestyle shots
    assert "<tr class='total'><td>12 months</td>" in table


def test_a_range_of_a_total_is_the_range_of_the_summed_samples(board: Dashboard) -> None:
    sim = board.simulation
    found = answer(sim, board.headline, board.labels)
    plan = pricing.plan_options(sim)
    # each sample's cost of the plan: both segments' planned options, every month
    per_sample = [np.asarray(sim.draws[seg, opt]) for seg, opt in plan.iter_rows()]
    assert all(d.shape == (200, 12) for d in per_sample)
    horizon = sum(d.sum(axis=1) for d in per_sample)
    lo, hi = np.quantile(horizon, [0.1, 0.9])
    assert found.p10 is not None
    assert found.p90 is not None
    assert found.p10 == pytest.approx(lo)
    assert found.p90 == pytest.approx(hi)
    # narrower than the parts' ranges added up: the segments' volumes are drawn apart
    widths = [s.p90 - s.p10 for s in found.segments if s.p10 is not None and s.p90 is not None]
    assert len(widths) == 2
    assert found.p90 - found.p10 < sum(widths)
    january = sum(d[:, 0] for d in per_sample)
    first = found.month_totals.row(0, named=True)
    jan_lo, jan_hi = np.quantile(january, [0.1, 0.9])
    assert first["p10"] == pytest.approx(jan_lo)
    assert first["p90"] == pytest.approx(jan_hi)


def test_the_page_lists_every_lead_with_its_reason(board: Dashboard, page_text: str) -> None:
    text = " ".join(_visible_text(page_text).split())
    assert "Unverified leads: excluded from every figure above" in text
    # LLM API's FLUX.2 [pro] figure is a claim (data/sources.toml), excluded with its flags
    assert "FLUX.2 [pro] on LLM API claim $0.0010/image — claim; below-upstream" in text
    leads = board.simulation.leads.unique(["offer_id", "model"])  # one row per offer and model
    listed = page_text.split("<table class='leads'>")[1].split("</table>")[0]
    assert listed.count("<tr><td>") == leads.height


def test_the_page_shows_labels_never_internal_ids(page_text: str) -> None:
    text = _visible_text(page_text)
    assert INTERNAL_ID.search(text) is None, INTERNAL_ID.search(text)
    assert "FLUX.2 [dev] on Replicate, API" in text  # product edits' plan, in words


def test_every_chart_has_a_picture_for_readers_without_scripts(
    board: Dashboard, page_text: str
) -> None:
    for name in board.charts:
        assert f"<div class='vis' id='chart-{name}'></div>" in page_text
        fallback = f"<noscript><img class='fallback' src='{name}.png' alt='"
        assert fallback in page_text, name
    # no picture exported: the page says the chart needs JavaScript
    only = build_dashboard("consumer-app", samples=0, as_of=AS_OF)
    html_only = dashboard_html(only, "", pictures=False)
    assert "<noscript><img" not in html_only
    assert "this chart is drawn by JavaScript, which is off" in html_only


def _svg_texts(chart: Any) -> list[str]:
    svg = vlc.vegalite_to_svg(spec_of(chart))
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@pytest.mark.slow
def test_static_pictures_carry_labels_and_no_interaction_hints(board: Dashboard) -> None:
    for name, chart in board.charts.items():
        texts = _svg_texts(chart)
        assert texts, name
        joined = "\n".join(texts)
        assert INTERNAL_ID.search(joined) is None, (name, INTERNAL_ID.search(joined))
        assert INTERACTION.search(joined) is None, (name, INTERACTION.search(joined))
    # the page's own versions say how to use them, under the chart, not in it
    assert "Click an option in the legend" in dashboard_html(board, "", pictures=False)


def test_the_page_tells_the_tornado_which_option_the_fan_picked(board: Dashboard) -> None:
    charts = {c.name: c for c in page_charts(board, pictures=False)}
    tornado = charts["tornado"].spec
    assert {"name": "option_pick", "value": None} in tornado["params"]  # type: ignore[operator]
    for name in ("spend", "fan", "tornado", "break-even", "fleet", "cost-per-image"):
        assert charts[name].spec["width"] == "container", name
    assert charts["price-history"].facet


def test_pdf_is_skipped_with_a_note_without_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pricing._charts.pdf.find_chromium", lambda: None)
    args = ["dashboard", "consumer-app", "--out", str(tmp_path), "--samples", "0"]
    result = CliRunner().invoke(app, [*args, "--as-of", AS_OF, "--format", "html,pdf"])
    assert result.exit_code == 0, result.output
    assert "note: no PDF: no headless Chromium found" in " ".join(result.output.split())
    assert (tmp_path / "consumer-app" / "index.html").exists()
    assert not (tmp_path / "consumer-app" / "dashboard.pdf").exists()
    alone = CliRunner().invoke(app, [*args, "--as-of", AS_OF, "--format", "pdf"])
    assert alone.exit_code == 2
    assert "Traceback" not in alone.output
    assert "--format pdf needs Chromium" in alone.output
