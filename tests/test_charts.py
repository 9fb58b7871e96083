"""Every chart builder: a valid Vega-Lite spec, a JSON round trip, tooltips, a PNG render.

Values drawn are checked against hand calculations from the rate cards where a chart shows
a price (FLUX.2 [pro] on BFL: 3 cents for the first megapixel of a 1024x1024 image).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import altair as alt
import jsonschema
import polars as pl
import pytest
import vl_convert as vlc

import pricing
from pricing import ImageRequest, PricingError, Simulation
from pricing._charts.labels import input_label, labels_for
from pricing._charts.theme import cost_scale
from pricing._plan.breakeven import solve_break_even

AS_OF = "2026-11-21"


@cache
def _validator() -> jsonschema.protocols.Validator:
    path = Path(alt.__file__).parent / "vegalite" / "v6" / "schema" / "vega-lite-schema.json"
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return pricing.simulate("ecommerce", samples=200, seed=0, as_of=AS_OF)


@pytest.fixture(scope="module")
def hand_break_even() -> pricing.BreakEven:
    # The hand calculation: one GPU at $2.69/h for 730 h against $0.025/image.
    return pricing.break_even("flux-1-schnell", "a100-80gb", 0.025, gpu_hour=2.69)


Builder = Callable[[Simulation, pricing.BreakEven], Any]

BUILDERS: dict[str, Builder] = {
    "cost_per_image": lambda s, b: pricing.cost_per_image_chart(
        ImageRequest(model="flux-2-pro"), as_of=AS_OF
    ),
    "price_history": lambda s, b: pricing.price_history_chart(until=AS_OF),
    "heatmap": lambda s, b: pricing.cost_heatmap("flux-2-pro", as_of=AS_OF),
    "spend": lambda s, b: pricing.spend_chart(s, budget=1000),
    "fan": lambda s, b: pricing.fan_chart(s),
    "tornado": lambda s, b: pricing.tornado_chart(s),
    "fleet": lambda s, b: pricing.fleet_chart(
        s, segment="lifestyle shots", peak_to_mean=2.0, max_utilisation=0.8
    ),
    "break_even": lambda s, b: pricing.break_even_chart(b, gpu_hour=2.69),
}


def _units(spec: Any) -> Iterator[dict[str, Any]]:
    """Every unit spec (one with a mark) in a possibly layered or concatenated spec."""
    if isinstance(spec, dict):
        if "mark" in spec:
            yield spec
        for key in ("layer", "vconcat", "hconcat", "concat"):
            for child in spec.get(key, []):
                yield from _units(child)
        if isinstance(spec.get("spec"), dict):  # the panel of a facet chart
            yield from _units(spec["spec"])


def _values(spec: Any) -> list[dict[str, Any]]:
    """Every inlined data row of a spec (in ``datasets`` or in ``data.values``)."""
    rows: list[dict[str, Any]] = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "datasets":
                for data in value.values():
                    rows.extend(data)
            elif key == "values" and isinstance(value, list):
                rows.extend(v for v in value if isinstance(v, dict))
            else:
                rows.extend(_values(value))
    elif isinstance(spec, list):
        for item in spec:
            rows.extend(_values(item))
    return rows


@pytest.mark.parametrize("name", list(BUILDERS))
def test_chart_spec_is_valid_vega_lite(
    name: str, sim: Simulation, hand_break_even: pricing.BreakEven
) -> None:
    chart = BUILDERS[name](sim, hand_break_even)
    spec = chart.to_dict()
    errors = list(_validator().iter_errors(spec))
    assert errors == [], errors[0].message if errors else ""
    text = json.dumps(spec, sort_keys=True)
    assert json.loads(text) == spec
    rebuilt = type(chart).from_dict(spec).to_dict()
    assert list(_validator().iter_errors(rebuilt)) == []
    key = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
    assert sorted(map(key, _values(rebuilt))) == sorted(map(key, _values(spec)))
    # Names are fixed, so that exported specs repeat byte for byte.
    assert "param_" not in text
    assert "view_" not in text
    units = list(_units(spec))
    assert units
    for unit in units:
        mark = unit["mark"]
        has = "tooltip" in unit.get("encoding", {}) or (
            isinstance(mark, dict) and "tooltip" in mark
        )
        assert has, f"{name}: a {mark} mark has no tooltip"
    assert spec["title"]["text"]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BUILDERS))
def test_chart_renders_to_png(
    name: str, sim: Simulation, hand_break_even: pricing.BreakEven
) -> None:
    png = vlc.vegalite_to_png(BUILDERS[name](sim, hand_break_even).to_dict(), scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 200
    assert height > 100


def test_cost_per_image_draws_the_rate_card_price() -> None:
    spec = pricing.cost_per_image_chart(ImageRequest(model="flux-2-pro"), as_of=AS_OF).to_dict()
    rows = {r["offer_id"]: r for r in _values(spec)}
    # BFL FLUX.2 [pro]: $0.03 for the first megapixel and $0.015 per extra megapixel of
    # 1,000,000 px (data/rate-cards/bfl.toml); 1024x1024 is 1.048576 MP.
    expected = 0.03 + 0.015 * 0.048576
    assert rows["bfl/flux-2-pro"]["per_image"] == pytest.approx(expected, abs=1e-6)
    assert all(r["low"] <= r["per_image"] <= r["high"] for r in rows.values())
    assert {p["name"] for p in spec["params"]} == {"provider_pick"}


def test_break_even_chart_recomputes_self_hosting_from_the_gpu_price(
    hand_break_even: pricing.BreakEven,
) -> None:
    spec = pricing.break_even_chart(hand_break_even, gpu_hour=2.69).to_dict()
    assert "78,548" in spec["title"]["subtitle"]
    rows = [r for r in _values(spec) if "gpus" in r]
    assert len(rows) > 100
    # No licence or operations: the fixed part is 0 and the browser's formula
    # fixed + gpus x 730 h x price gives back the solved curve.
    for r in rows:
        assert r["fixed"] == pytest.approx(0, abs=1e-3)
        assert r["gpus"] * 730 * 2.69 == pytest.approx(r["self_hosted"], rel=1e-6)
    params = {p["name"]: p for p in spec["params"]}
    assert params["gpu_hour"]["value"] == 2.69
    assert params["gpu_hour"]["bind"]["input"] == "range"


def test_spend_chart_budget_line_and_monthly_totals(sim: Simulation) -> None:
    spec = pricing.spend_chart(sim, budget=1234.5).to_dict()
    rows = _values(spec)
    assert {"budget": 1234.5, "label": "budget"} in rows
    plan = pricing.plan_options(sim)
    expected = (
        sim.monthly.join(plan, on=["segment", "option"])
        .group_by("month")
        .agg(pl.col("cost").sum())
        .sort("month")
    )
    drawn: dict[str, float] = {}
    for r in rows:
        if "item" in r:
            drawn[r["month"]] = drawn.get(r["month"], 0.0) + r["cost"]
    for month, cost in expected.iter_rows():
        assert drawn[month.isoformat()] == pytest.approx(cost, abs=0.05)


def test_fan_chart_shows_best_hosted_and_best_self_hosted(sim: Simulation) -> None:
    spec = pricing.fan_chart(sim, segment="lifestyle shots", top=3).to_dict()
    shown = {r["option"] for r in _values(spec)}
    assert len(shown) == 3
    assert bands_kinds(sim, shown) == {"hosted", "self-hosted"}
    for r in _values(spec):
        assert r["p10"] <= r["p50"] <= r["p90"]


def bands_kinds(sim: Simulation, options: set[str]) -> set[str]:
    assert sim.bands is not None
    return set(sim.bands.filter(pl.col("option").is_in(list(options)))["kind"].to_list())


def test_chart_errors_name_the_fix(sim: Simulation) -> None:
    with pytest.raises(PricingError, match="product edits"):
        pricing.fan_chart(sim, segment="no such segment")
    plain = pricing.simulate("ecommerce", as_of=AS_OF)
    with pytest.raises(PricingError, match="samples="):
        pricing.fan_chart(plain)
    with pytest.raises(PricingError, match="no option"):
        pricing.tornado_chart(sim, option="api:nobody/nothing")
    with pytest.raises(PricingError, match="positive"):
        pricing.spend_chart(sim, budget=-5)
    with pytest.raises(PricingError, match="unknown model"):
        pricing.cost_heatmap("no-such-model")
    with pytest.raises(PricingError, match="columns"):
        pricing.cost_per_image_chart(pl.DataFrame({"offer_id": ["x"]}))


# --------------------------------------------------------------------------- labels and axes


def _axes(spec: Any) -> list[dict[str, Any]]:
    """Every axis of every encoding channel in a spec."""
    found = []
    for unit in _units(spec):
        for channel in unit.get("encoding", {}).values():
            if isinstance(channel, dict) and isinstance(channel.get("axis"), dict):
                found.append(channel["axis"] | {"field": channel.get("field")})
    return found


def test_options_are_named_in_words(sim: Simulation) -> None:
    labels = labels_for()
    named = dict(labels.options(sim.options).iter_rows())
    # model names from data/models.toml, provider names from the rate cards and GPU names
    # from data/gpus/gpus.toml; a self-hosted option says its pricing category and mode
    assert named["api:deepinfra/flux-1-dev"] == "FLUX.1 [dev] on DeepInfra, API"
    assert (
        named["autoscaled:hyperstack/h100-sxm-on-demand:flux-1-dev"]
        == "FLUX.1 [dev] on Hyperstack H100 SXM, on-demand, autoscaled"
    )
    assert len(set(named.values())) == len(named)  # two options never read alike
    assert input_label("lifestyle shots: volume.base", "lifestyle shots") == "Volume (base)"
    assert input_label("self_hosting: ops_hours_per_month") == "Ops hours per month"
    assert input_label("fx: EURUSD") == "Exchange rate EUR/USD"
    assert input_label("shots: volume.growth", "edits") == "Volume growth per month of shots"


def test_charts_name_options_and_inputs_with_labels(sim: Simulation) -> None:
    fan = pricing.fan_chart(sim, segment="lifestyle shots").to_dict()
    assert fan["layer"][0]["encoding"]["color"]["field"] == "label"
    assert {r["label"] for r in _values(fan)} >= {"FLUX.1 [dev] on DeepInfra, API"}
    tornado = pricing.tornado_chart(sim, segment="product edits").to_dict()
    inputs = {r["input"] for r in _values(tornado)}
    assert {"Volume (base)", "Volume growth per month", "Ops hours per month"} <= inputs
    assert tornado["layer"][0]["encoding"]["y"]["axis"]["labelLimit"] >= 300  # not cut off
    spend = pricing.spend_chart(sim).to_dict()
    assert "product edits: FLUX.2 [dev] on Replicate, API" in spend["title"]["subtitle"]


def test_gpu_axes_count_whole_gpus(sim: Simulation) -> None:
    spec = pricing.fleet_chart(
        sim, segment="lifestyle shots", peak_to_mean=2.0, max_utilisation=0.8
    ).to_dict()
    gpu_axes = [a for a in _axes(spec) if a.get("title") == "GPUs at the month's peak"]
    assert gpu_axes
    for axis in gpu_axes:
        assert axis["format"] == "d"
        assert all(isinstance(v, int) for v in axis["values"]) or axis["tickMinStep"] == 1
    # one GPU each month: ticks 0 and 1, never 0.5
    svg = vlc.vegalite_to_svg(spec)
    ticks = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "0.5" not in ticks


def test_log_axes_never_label_a_small_amount_0(hand_break_even: pricing.BreakEven) -> None:
    spec = pricing.break_even_chart(hand_break_even, gpu_hour=2.69).to_dict()
    y = next(a for a in _axes(spec) if a["field"] == "cost")
    assert y["format"] == "$,.2~r"
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", vlc.vegalite_to_svg(spec))
    assert "$0" not in texts
    assert cost_scale([0.0, 10.0]).type == "linear"  # a free tier: no log axis
    assert cost_scale([1.0, 10.0]).type == "log"


def test_break_even_line_and_subtitle_agree(hand_break_even: pricing.BreakEven) -> None:
    # The red rule is drawn at the solver's volume (78,548 images a month at $2.69/h, the
    # README's hand calculation), the one the subtitle states.
    spec = pricing.break_even_chart(hand_break_even, gpu_hour=2.69).to_dict()
    assert "break-even 78,548 images/month" in spec["title"]["subtitle"]
    assert "slider" not in json.dumps(spec["title"])
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", vlc.vegalite_to_svg(spec))
    assert "78,548" in texts  # the rule's label
    assert "at 2.69 USD/h: self-hosting cheaper from 78,548 images/month" in texts


def test_break_even_chart_draws_beside_a_free_hosted_offer() -> None:
    # A hosted side that costs 0 (a free tier) cannot sit on a log axis: it is left out and
    # said so, and the self-hosted curve is still drawn (the chart is never empty).
    result = solve_break_even(
        lambda v: 2000.0 + 0.001 * v, lambda v: 0.0 * v, gpus=lambda v: 1 + 0 * v
    )
    spec = pricing.break_even_chart(result, gpu_hour=2.69).to_dict()
    assert "A cost of 0 (a free tier) is not drawn" in json.dumps(spec["title"])
    svg = vlc.vegalite_to_svg(spec)
    lines = re.findall(r'<path[^>]*d="(M[^"]+)"', svg.split('class="mark-line role-mark')[1])
    assert lines
    assert len(lines[0]) > 20
    assert "self-hosting never cheaper in the range" in svg


def test_price_history_has_a_panel_per_offer_with_sources_named() -> None:
    spec = pricing.price_history_chart(until=AS_OF).to_dict()
    assert spec["facet"]["field"] == "offer"
    rows = _values(spec)
    offers = {r["offer"] for r in rows}
    assert "Black Forest Labs" in offers  # sellers, not offer ids
    sources = {r["source"] for r in rows if r["source"]}
    assert "BasedLabs" in sources  # each line is named by its source's publisher
    assert all(r["per_image"] is not None for r in rows if r["at_end"])
