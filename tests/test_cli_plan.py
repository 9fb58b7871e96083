"""The planning commands: simulate, breakeven, gpus list, workloads list."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from typer.testing import CliRunner

from pricing.cli import app

runner = CliRunner()


def test_breakeven_prints_the_hand_calculated_volume() -> None:
    # FLUX.1 [schnell] is Apache-2.0: no licence to state
    args = ["breakeven", "--model", "flux-1-schnell", "--gpu", "a100-80gb", "--gpu-hour", "2.69"]
    result = runner.invoke(app, [*args, "--hosted", "0.025", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["volume"] == 78_548  # $2.69 x 730 h / $0.025
    assert payload["gpus"] == 1
    text = runner.invoke(app, [*args, "--hosted", "0.025"])
    assert "78,548 images/month" in text.stdout


def test_breakeven_explains_a_missing_gpu_price() -> None:
    result = runner.invoke(
        app, ["breakeven", "--model", "flux-1-schnell", "--gpu", "a100-80gb", "--hosted", "0.025"]
    )
    assert result.exit_code == 2
    assert "--gpu-hour" in result.output  # the option, not the Python API's gpu_hour=
    assert "gpu_hour=" not in result.output


def test_breakeven_asks_for_a_licence_no_source_prices() -> None:
    args = ["breakeven", "--model", "flux-1-dev", "--gpu", "h100-sxm", "--gpu-hour", "2.69"]
    result = runner.invoke(app, [*args, "--hosted", "0.025"])
    assert result.exit_code == 2
    assert "FLUX non-commercial licence" in result.output
    assert "--licence" in result.output
    # stated terms: $1,000 a month and 100,000 images included, $0.01 beyond; by hand:
    # 1963.70 + 1000 + 0.01 (V - 100,000) = 0.025 V  ->  V = 1,963.70 / 0.015 = 130,913.3
    terms = ["--licence", "1000", "--included-images", "100000", "--overage", "0.01"]
    stated = runner.invoke(app, [*args, "--hosted", "0.025", *terms])
    assert stated.exit_code == 0, stated.output
    assert "130,914 images/month" in stated.stdout
    assert "0.01/image beyond 100,000 images a month" in stated.stdout
    assert "GPU: h100-sxm at 2.69/GPU-hour" in stated.stdout


def test_simulate_json_has_totals_cheapest_and_bands() -> None:
    result = runner.invoke(app, ["simulate", "small", "--samples", "50", "--seed", "4", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["seed"] == 4
    assert payload["samples"] == 50
    assert len(payload["cheapest"]) == 12
    kinds = {r["kind"] for r in payload["totals"]}
    assert kinds == {"hosted", "self-hosted"}
    assert payload["bands"]


def test_simulate_price_spread_flag_samples_gpu_prices() -> None:
    # RunPod Secure H100 SXM: $3.49 (silybench) and $3.99 (datareceipts) per GPU-hour
    args = ["simulate", "small", "--samples", "40", "--seed", "2", "--gpu"]
    args += ["runpod/h100-sxm-secure.2026-11", "--json"]
    spread = runner.invoke(app, [*args, "--price-spread"])
    assert spread.exit_code == 0, spread.output
    flat = runner.invoke(app, [*args, "--no-price-spread"])
    assert flat.exit_code == 0, flat.output

    def gpu_band(output: str) -> list[tuple[float, float]]:
        bands = json.loads(output)["bands"]
        return [
            (b["p10"], b["p90"])
            for b in bands
            if "runpod/h100-sxm-secure" in b["option"] and b["p10"] is not None
        ]

    assert gpu_band(spread.stdout)
    assert all(low < high for low, high in gpu_band(spread.stdout))
    assert all(low == high for low, high in gpu_band(flat.stdout))


def test_simulate_table_and_unknown_workload() -> None:
    result = runner.invoke(app, ["simulate", "ecommerce"])
    assert result.exit_code == 0, result.output
    assert "cheapest" in result.stdout
    assert "product edits" in result.stdout
    bad = runner.invoke(app, ["simulate", "no-such-workload"])
    assert bad.exit_code == 2
    assert "no-such-workload" in bad.output


def test_gpus_list_filters_by_gpu() -> None:
    result = runner.invoke(app, ["gpus", "list", "--gpu", "h100", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    ids = {r["offer_id"] for r in rows}
    assert "runpod/h100-sxm-community" in ids
    assert all("h100" in r["gpu"] for r in rows)
    none = runner.invoke(app, ["gpus", "list", "--gpu", "zz99"])
    assert none.exit_code == 2


def test_workloads_list_names_the_bundled_examples() -> None:
    result = runner.invoke(app, ["workloads", "list", "--json"])
    assert result.exit_code == 0, result.output
    names = {r["name"] for r in json.loads(result.stdout)}
    assert {"ecommerce", "agency", "consumer-app", "small", "medium", "large"} <= names


def test_simulate_says_when_one_option_is_cheapest_every_month() -> None:
    # the small preset: 10,000 images every month, no growth, so every month costs the same
    payload = json.loads(runner.invoke(app, ["simulate", "small", "--json"]).stdout)
    options = {r["option"] for r in payload["cheapest"]}
    costs = {r["cost"] for r in payload["cheapest"]}
    assert len(options) == 1
    assert len(costs) == 1
    text = " ".join(runner.invoke(app, ["simulate", "small"], terminal_width=200).stdout.split())
    cost = Decimal(costs.pop())  # money in --json is an exact decimal string
    assert f"the cheapest in every month is {options.pop()} (${cost:,.0f}/month)" in text
    assert "the cheapest is" not in text  # no "from <month> the cheapest is" for the first month


def test_json_money_is_exact_decimal_strings() -> None:
    # One GPU at $2.69/h for 730 h: $1,963.70 a month (float arithmetic gives 1963.6999999999998)
    args = ["breakeven", "--model", "flux-1-schnell", "--gpu", "a100-80gb", "--gpu-hour", "2.69"]
    payload = json.loads(runner.invoke(app, [*args, "--hosted", "0.025", "--json"]).stdout)
    assert payload["self_cost"] == "1963.7"
    assert payload["hosted_cost"] == "1963.7"  # 78,548 images x $0.025 = $1,963.70
    assert payload["hosting"]["licence_per_month"] == "0"
    sim = json.loads(runner.invoke(app, ["simulate", "ecommerce", "--json"]).stdout)
    for row in sim["totals"]:
        for key in ("horizon_cost", "idle", "per_image"):
            assert row[key] is None or Decimal(row[key]) >= 0
    for row in sim["cheapest"]:
        assert isinstance(row["cost"], str)


def test_an_option_that_cannot_serve_every_month_has_no_horizon_cost() -> None:
    payload = json.loads(runner.invoke(app, ["simulate", "ecommerce", "--json"]).stdout)
    partial = [r for r in payload["totals"] if not r["feasible"]]
    assert partial, "ecommerce has options that cannot price some month"
    for row in partial:
        assert row["horizon_cost"] is None  # never a partial sum, never 0
        assert row["per_image"] is None
        assert row["reason"]
    served = [r for r in payload["totals"] if r["feasible"]]
    assert all(r["horizon_cost"] is not None for r in served)
    # within each segment, options that serve every month are ranked before the others
    for seg in {r["segment"] for r in payload["totals"]}:
        flags = [r["feasible"] for r in payload["totals"] if r["segment"] == seg]
        assert flags == sorted(flags, reverse=True)


def test_simulate_sensitivity_lists_inputs_that_move_the_cost() -> None:
    result = runner.invoke(app, ["simulate", "ecommerce"], terminal_width=200)
    assert result.exit_code == 0, result.output
    tables = [t.split("└")[0] for t in result.stdout.split("what moves the cost of")[1:]]
    assert tables
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for table in tables
        for line in table.splitlines()
        if line.startswith("│")
    ]
    assert rows
    for name, low, high, cost_low, cost_high in rows:
        assert cost_low != cost_high, name  # an input that moves nothing is left out
        for value in (low, high):  # plain numbers: 28,944 not 2.894e+04
            assert re.fullmatch(r"-?[\d,]+(\.\d+)?", value), (name, value)


def test_gpus_list_shows_whole_offer_ids() -> None:
    # the ids are what --gpu takes, so the table never cuts them (output to a pipe is 160
    # columns wide, too narrow for every column at full width)
    rows = json.loads(runner.invoke(app, ["gpus", "list", "--json"]).stdout)
    longest = max((r["offer_id"] for r in rows), key=len)
    assert len(longest) > 30
    result = runner.invoke(app, ["gpus", "list"])
    assert result.exit_code == 0, result.output
    assert re.search(rf"│ {re.escape(longest)} +│", result.stdout)
