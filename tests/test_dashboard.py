"""Dashboards: composition, exported files, the committed exports, and the command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pricing._charts.dashboard import Dashboard, build_dashboard, export_dashboard
from pricing._charts.export import spec_json, spec_of
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
    with pytest.raises(PricingError, match="choose from html, png, svg, json"):
        export_dashboard(board, tmp_path, ["pdf"])
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
        (["--format", "gif"], "choose from html, png, svg, json"),
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
