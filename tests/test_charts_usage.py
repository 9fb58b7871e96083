"""The usage charts: a replay against alternative offers, and a month against its budget.

Each chart is checked as every chart of the package is: a spec valid against the Vega-Lite
schema, a JSON round trip, fixed names (no ``param_``/``view_`` that change from run to run),
a tooltip on every mark, and a PNG render. The values drawn are checked against hand
calculations from the synthetic rates below.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import altair as alt
import jsonschema
import pytest
import vl_convert as vlc

import pricing
from pricing import Budget, PricingError, Replay, budget_status, replay
from tests.conftest import offer, version, write_data

GEN = '["generate"]'
#: m: acme/m $0.04 (edit $0.06), beta/m $0.03 (no edits), gamma/m $0.05, omega/m $0.07 (no
#: edits); n: acme/n $0.02, delta/n $0.01.
CARDS = {
    "acme": offer(
        version(
            '{ unit = "image", price = 0.04, when = { operation = "generate" } }, '
            '{ unit = "image", price = 0.06, when = { operation = "edit" } }'
        ),
        offer_id="acme/m",
    )
    + offer(
        version('{ unit = "image", price = 0.02 }'), offer_id="acme/n", model="n", operations=GEN
    ),
    "beta": offer(version('{ unit = "image", price = 0.03 }'), offer_id="beta/m", operations=GEN),
    "gamma": offer(version('{ unit = "image", price = 0.05 }'), offer_id="gamma/m"),
    "omega": offer(version('{ unit = "image", price = 0.07 }'), offer_id="omega/m", operations=GEN),
    "delta": offer(
        version('{ unit = "image", price = 0.01 }'), offer_id="delta/n", model="n", operations=GEN
    ),
}
LOG = [
    "timestamp,provider,model,operation,count",
    "2026-02-10T09:00:00Z,acme,m,generate,100",  # Feb m: 4.00 as logged; gamma 5.00
    "2026-03-02T09:00:00Z,acme,m,generate,200",  # Mar m: 8.00
    "2026-03-03T09:00:00Z,acme,m,edit,10",  # Mar m: 0.60; beta cannot edit; gamma 0.50
    "2026-03-04T09:00:00Z,omega,m,edit,5",  # no price as logged; gamma 0.25
    "2026-03-05T09:00:00Z,acme,n,generate,100",  # Mar n: 2.00 as logged; delta 1.00
]
D = Decimal


@cache
def _validator() -> jsonschema.protocols.Validator:
    path = Path(alt.__file__).parent / "vegalite" / "v6" / "schema" / "vega-lite-schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator: jsonschema.protocols.Validator = jsonschema.validators.validator_for(schema)(schema)
    return validator


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> pricing.Catalog:
    return pricing.load_catalog(write_data(tmp_path_factory.mktemp("usage-charts"), CARDS))


@pytest.fixture(scope="module")
def usage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("usage-log") / "usage.csv"
    path.write_text("\n".join(LOG) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def result(usage: Path, cat: pricing.Catalog) -> Replay:
    return replay(usage, catalog=cat)


def _status(result: Replay, cat: pricing.Catalog, monthly: Any, **kw: Any) -> Any:
    alerts = kw.pop("alerts", (0.8, 1.0))
    return budget_status(result, Budget(monthly=monthly, alerts=alerts), **kw)


Builder = Callable[[Replay, pricing.Catalog], Any]
BUILDERS: dict[str, Builder] = {
    "replay": lambda r, c: pricing.replay_chart(r),
    "replay_top_1": lambda r, c: pricing.replay_chart(r, top=1),
    # March: $10.60 spent by March 5 -> $2.12 a day, $65.72 at month end
    "budget": lambda r, c: pricing.budget_chart(_status(r, c, 20)),
    "budget_lasts": lambda r, c: pricing.budget_chart(_status(r, c, 100, alerts=(0.5,))),
    "budget_reached": lambda r, c: pricing.budget_chart(_status(r, c, 5)),
}


def _units(spec: Any) -> Iterator[dict[str, Any]]:
    """Every unit spec (one with a mark) of a possibly layered spec."""
    if isinstance(spec, dict):
        if "mark" in spec:
            yield spec
        for child in spec.get("layer", []):
            yield from _units(child)


def _inlined(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with every named dataset written in place of its name."""
    datasets = spec.get("datasets", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "name" in data and data["name"] in datasets:
                node = {**node, "data": {"values": datasets[data["name"]]}}
            return {k: walk(v) for k, v in node.items() if k != "datasets"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    inlined: dict[str, Any] = walk(spec)
    return inlined


def _rows(unit: dict[str, Any]) -> list[dict[str, Any]]:
    """The data rows of an inlined unit spec."""
    rows: list[dict[str, Any]] = unit["data"]["values"]
    return rows


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_spec_is_valid_and_repeats(name: str, result: Replay, cat: pricing.Catalog) -> None:
    chart = BUILDERS[name](result, cat)
    spec = chart.to_dict()
    errors = sorted(_validator().iter_errors(spec), key=str)
    assert not errors, errors[0].message
    text = json.dumps(spec, sort_keys=True)
    assert json.loads(text) == spec
    # altair reads the spec back to the same chart (data inlined or named, as it likes)
    assert _inlined(type(chart).from_dict(spec).to_dict()) == _inlined(spec)
    # fixed names only: the exported spec is the same byte for byte on every run
    assert "param_" not in text
    assert "view_" not in text
    assert json.dumps(BUILDERS[name](result, cat).to_dict(), sort_keys=True) == text
    for unit in _units(spec):
        assert "tooltip" in unit.get("encoding", {}), unit["mark"]
    assert spec["title"]["text"]
    assert spec["title"]["subtitle"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_png_renders(name: str, result: Replay, cat: pricing.Catalog, tmp_path: Path) -> None:
    png = vlc.vegalite_to_png(BUILDERS[name](result, cat).to_dict(), scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 5_000
    (tmp_path / f"usage-{name}.png").write_bytes(png)  # to look at


# --------------------------------------------------------------------------- replay_chart


def test_replay_chart_draws_by_hand_costs(result: Replay) -> None:
    spec = _inlined(pricing.replay_chart(result).to_dict())
    rows = _rows(spec)
    drawn = {(r["month"], r["model"], r["series"]): r["cost"] for r in rows}
    assert drawn == {
        ("2026-02", "m", "as logged"): 4.0,  # 100 x $0.04
        ("2026-02", "m", "gamma/m"): 5.0,  # 100 x $0.05
        ("2026-03", "m", "as logged"): 8.6,  # 200 x $0.04 + 10 edits x $0.06
        ("2026-03", "m", "gamma/m"): 10.75,  # 215 x $0.05, the unpriced call's 5 included
        ("2026-03", "n", "as logged"): 2.0,  # 100 x $0.02
        ("2026-03", "n", "delta/n"): 1.0,  # 100 x $0.01
    }
    delta = next(r for r in rows if r["series"] == "delta/n")
    assert (delta["saving"], delta["saving_share"]) == (1.0, 0.5)
    # beta/m cannot price the edits: left out, never drawn as 0; the count is in the subtitle
    subtitle = " ".join(spec["title"]["subtitle"])
    assert "1 alternative(s) not drawn" in subtitle
    assert "1 call(s) as logged have no price" in subtitle  # omega's edit
    assert spec["encoding"]["row"]["field"] == "model"  # two models: a row of bars each


def test_replay_chart_top(result: Replay) -> None:
    rows = _rows(_inlined(pricing.replay_chart(result, top=0).to_dict()))
    assert {r["series"] for r in rows} == {"as logged"}
    with pytest.raises(PricingError, match="top must be 0 or more"):
        pricing.replay_chart(result, top=-1)


def test_replay_chart_of_nothing_priced(tmp_path: Path, cat: pricing.Catalog) -> None:
    log = tmp_path / "edits.csv"
    log.write_text(f"{LOG[0]}\n2026-03-04T09:00:00Z,omega,m,edit,5\n", encoding="utf-8")
    with pytest.raises(PricingError, match="nothing to draw for replay_chart"):
        pricing.replay_chart(replay(log, catalog=cat))


# --------------------------------------------------------------------------- budget_chart


def _layer_rows(spec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Data rows of each layer, by the layer's mark type."""
    out: dict[str, list[dict[str, Any]]] = {}
    for unit in _units(_inlined(spec)):
        out.setdefault(unit["mark"]["type"], []).extend(_rows(unit))
    return out


def test_budget_chart_draws_the_status(result: Replay, cat: pricing.Catalog) -> None:
    status = _status(result, cat, 20)
    # March by day 5: m $8.60 + n $2.00 (the omega edit has no price) = $10.60, $2.12 a day;
    # $20 / $2.12 = 9.4 days -> runs out on March 10; $16 (80%) after 7.5 days, on March 8
    assert (status.spent, status.run_rate) == (D("10.60"), D("2.12"))
    assert status.run_out is not None
    assert status.run_out.day == 10
    assert status.alerts["forecast_on"].dt.day().to_list() == [8, 10]
    spec = pricing.budget_chart(status).to_dict()
    rows = _layer_rows(spec)
    amounts = sorted({r["amount"] for r in rows["rule"]})
    assert amounts == [16.0, 20.0]
    (marker,) = rows["point"]
    assert (marker["day_of_month"], marker["amount"]) == (10, 20.0)
    lines = rows["line"]
    assert max(r["cumulative"] for r in lines) == pytest.approx(2.12 * 31)
    subtitle = " ".join(spec["title"]["subtitle"])
    assert "1 call(s) have no price and are not counted" in subtitle
    assert "at this rate the budget runs out on Tue 10 Mar" in subtitle


def test_budget_chart_without_run_out(result: Replay, cat: pricing.Catalog) -> None:
    spec = pricing.budget_chart(_status(result, cat, 100, alerts=(0.5,))).to_dict()
    rows = _layer_rows(spec)
    assert "point" not in rows  # no run-out marker: $65.72 at month end < $100
    assert sorted(r["amount"] for r in rows["rule"]) == [50.0, 100.0]
    assert "lasts the month" in " ".join(spec["title"]["subtitle"])
