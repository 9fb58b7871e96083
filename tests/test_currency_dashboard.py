"""A dashboard in EUR: axes, tooltips and the headline in EUR, and the rates used on the page.

The rates are this file's own, in a copy of the bundled data whose fx/ holds only them
(units per 1 EUR, source ecb-eurofxref): USD 1.20 on 2026-12-01 and 1.25 on 2026-12-31. The
workload starts in 2027-01: its first month takes 1.25 (the last business day's, one day old),
the next a planning rate (the latest, 1.25); the price charts, priced as of 2026-12-01, take
that day's 1.20. Prices from the bundled data: DeepInfra FLUX.1 [dev] is $0.009 per 25 steps,
$0.01008 an image at 28 steps; RunPod Community H100 SXM $2.69 per GPU-hour.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pricing._cards.loader import bundled_data_dir
from pricing._charts.dashboard import Dashboard, build_dashboard, export_dashboard
from pricing._charts.export import spec_of
from pricing._dataset import load_data_set
from pricing.cli import app

RATES = """date,currency,per_eur,source
2026-12-01,USD,1.20,ecb-eurofxref
2026-12-31,USD,1.25,ecb-eurofxref
"""
AS_OF = "2026-12-01"
WORKLOAD = """
name = "eur board"
currency = "EUR"
start = 2027-01-01
months = 2

[traffic]
peak_to_mean = 2.0

[[segments]]
name = "gen"
operation = "generate"
models = ["flux-1-kontext-pro", "flux-1-dev"]
volume = { base = 1000 }
resolutions = [{ width = 1024, height = 1024, share = 1.0 }]
steps = 28
p95_latency_s = 60.0

[self_hosting]
gpus = ["h100-sxm"]
categories = ["community"]
ops_hours_per_month = 5
ops_hourly_rate = 100
licence = { monthly_fee = 1000, included_images = 1000, overage_per_image = 0.01 }
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fxboard") / "data"
    shutil.copytree(bundled_data_dir(), root)
    shutil.rmtree(root / "fx")
    (root / "fx").mkdir()
    (root / "fx" / "test.csv").write_text(RATES, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fxboard-workload") / "eur-board.toml"
    path.write_text(WORKLOAD, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def board(data_dir: Path, workload: Path) -> Dashboard:
    data = load_data_set(data_dir)
    return build_dashboard(workload, samples=100, seed=0, as_of=AS_OF, data=data)


def _walk(node: Any) -> list[Any]:
    """Every dict and list inside a spec."""
    found = [node]
    if isinstance(node, dict):
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def test_the_board_is_in_eur_with_the_hand_figures(board: Dashboard) -> None:
    sim = board.simulation
    assert sim.currency == "EUR"
    row = board.headline.row(0, named=True)
    # the plan: DeepInfra, 1,000 images x $0.01008 = $10.08 a month, / 1.25
    assert row["option"] == "api:deepinfra/flux-1-dev"
    assert row["first_month"] == pytest.approx(10.08 / 1.25)
    assert row["horizon"] == pytest.approx(2 * 10.08 / 1.25)
    # the break-even beside it uses the simulation's first month rate: $2.69 / 1.25 = 2.152
    spec = json.dumps(spec_of(board.charts["break-even"]))
    assert "solved at 2.15 EUR/h" in spec
    assert '"value": 2.152' in spec  # where the GPU-price slider starts [EUR/h]


def test_axes_and_tooltips_name_eur_and_never_dollars(board: Dashboard) -> None:
    titles: list[str] = []
    formats: list[str] = []
    for name, chart in board.charts.items():
        spec = spec_of(chart)
        for node in _walk(spec):
            if isinstance(node, dict):
                if isinstance(node.get("title"), str):
                    titles.append(node["title"])
                if isinstance(node.get("format"), str):
                    formats.append(node["format"])
        if name not in ("cost-per-image", "heatmap", "price-history"):
            # only the price charts name USD: the rate their prices were converted at
            assert "USD" not in json.dumps(spec.get("title", "")), name
    money = [t for t in titles if "[" in t and "]" in t and "px" not in t]
    assert money
    assert all("[EUR]" in t for t in money), money
    for expected in ("Monthly spend [EUR]", "Monthly cost [EUR]", "Cost per image [EUR]"):
        assert expected in titles
    assert {"P10 [EUR]", "cost [EUR]", "monthly cost [EUR]", "per image [EUR]"} <= set(titles)
    assert not [f for f in formats if f.startswith("$")]


def test_the_price_charts_are_converted_at_the_price_days_rate(board: Dashboard) -> None:
    heat = json.dumps(spec_of(board.charts["heatmap"]))
    assert "Prices converted: 1 USD = 0.833333 EUR (ECB reference rate of 2026-12-01" in heat
    cost = spec_of(board.charts["cost-per-image"])
    values = [
        row
        for node in _walk(cost)
        if isinstance(node, dict) and isinstance(node.get("values"), list)
        for row in node["values"]
    ]
    (deepinfra,) = [r for r in values if r.get("offer_id") == "deepinfra/flux-1-dev"]
    assert deepinfra["per_image"] == pytest.approx(0.01008 / 1.20, abs=1e-6)
    converted = board.conversions[-1]
    assert (converted.kind, str(converted.asked)) == ("published", AS_OF)


def test_the_page_states_the_rates(board: Dashboard, tmp_path: Path) -> None:
    files = export_dashboard(board, tmp_path, formats=("html",))
    page = files[0].read_text(encoding="utf-8")
    assert "Exchange rates: 1 USD = 0.8 EUR (ECB reference rate of 2026-12-31" in page
    assert "planning rate: the latest ECB reference rate, of 2026-12-31, held for 2027-02-01" in (
        page
    )
    assert "price charts: 1 USD = 0.833333 EUR (ECB reference rate of 2026-12-01" in page
    assert "currency EUR" in page
    assert " EUR</td>" in page  # the headline's money
    assert "$" not in page.split("<table class='headline'>")[1].split("</table>")[0]


def test_dashboard_command_in_eur_with_your_rate(
    data_dir: Path, workload: Path, tmp_path: Path
) -> None:
    args = ["dashboard", str(workload), "--data", str(data_dir), "--out", str(tmp_path)]
    args += ["--format", "html", "--samples", "50", "--as-of", AS_OF, "--fx", "EURUSD=1.08"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Exchange rates used" in result.stdout
    assert "1 USD = 0.925926 EUR (your rate; source: user)" in result.stdout
    page = (tmp_path / "eur-board" / "index.html").read_text(encoding="utf-8")
    assert "Exchange rates: 1 USD = 0.925926 EUR (your rate; source: user)" in page
    bad = runner.invoke(app, [*args[:7], "--currency", "EURO"])
    assert bad.exit_code == 2
    assert bad.output.startswith("error:")
    assert "Traceback" not in bad.output


runner = CliRunner()
