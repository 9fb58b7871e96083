"""Plans in any currency: simulate and break_even convert USD prices and the workload's own money.

The exchange rates are this file's own, in a copy of the bundled data whose fx/ holds only
them (units per 1 EUR, source ecb-eurofxref): USD 1.20 on 2026-12-01, USD 1.25 and GBP 0.80 on
2026-12-31. A month starting on 2026-12-01 takes 1.20 (published that day), 2027-01-01 takes
1.25 (the last business day's, 1 day old), 2027-02-01 and later take 1.25 as a planning rate
(the latest, 32 days old). Prices from the bundled data, as tests/test_simulate.py reads them:
BFL FLUX.1 Kontext [pro] $0.04 per image, RunPod Community H100 SXM $2.69 per GPU-hour, billed
730 h a month. Every expected figure below is worked out by hand from those numbers.
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pricing import HostingTerms
from pricing._cards.loader import bundled_data_dir
from pricing._dataset import DataSet, load_data_set
from pricing._plan.breakeven import break_even
from pricing._plan.simulate import simulate
from pricing._workloads.inputs import uncertain_inputs
from pricing._workloads.load import load_workload
from pricing.cli import app
from pricing.errors import PricingError, WorkloadError

runner = CliRunner()
HOSTED = "api:bfl/flux-1-kontext-pro"
DEDICATED = "dedicated:runpod/h100-sxm-community:flux-1-dev"
GPU_MONTH = 2.69 * 730  # USD: one RunPod Community H100 for a month
RATES = """date,currency,per_eur,source
2026-12-01,USD,1.20,ecb-eurofxref
2026-12-31,USD,1.25,ecb-eurofxref
2026-12-31,GBP,0.80,ecb-eurofxref
"""

HOSTED_ONLY = """
name = "eur hosted"
currency = "EUR"
start = {start}
months = {months}
{fx}
[traffic]
peak_to_mean = 1.0

[[segments]]
name = "gen"
operation = "generate"
models = ["flux-1-kontext-pro"]
volume = {{ base = 1000 }}
resolutions = [{{ width = 1024, height = 1024, share = 1.0 }}]
"""

SELF_HOSTED = """
name = "eur self-hosted"
currency = "EUR"
start = 2026-12-01
months = 3

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
    """A copy of the bundled data whose only exchange rates are :data:`RATES`."""
    root = tmp_path_factory.mktemp("fxdata") / "data"
    shutil.copytree(bundled_data_dir(), root)
    shutil.rmtree(root / "fx")
    (root / "fx").mkdir()
    (root / "fx" / "test.csv").write_text(RATES, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def ds(data_dir: Path) -> DataSet:
    return load_data_set(data_dir)


def hosted_only(
    tmp_path: Path, *, start: str = "2026-12-01", months: int = 3, fx: str = ""
) -> Path:
    path = tmp_path / "eur.toml"
    text = HOSTED_ONLY.format(start=start, months=months, fx=fx)
    path.write_text(text, encoding="utf-8")
    return path


def costs(frame: pl.DataFrame, option: str) -> list[float]:
    return frame.filter(pl.col("option") == option).sort("month")["cost"].to_list()


# --------------------------------------------------------------------------- simulate


def test_a_eur_workload_simulates_in_eur_with_each_rate_stated(tmp_path: Path, ds: DataSet) -> None:
    sim = simulate(hosted_only(tmp_path), data=ds, as_of="2026-12-01")
    assert sim.currency == "EUR"
    # 1,000 images x $0.04 = $40 a month: / 1.20 published, / 1.25 (Friday's rate bridged),
    # / 1.25 held as the planning rate
    assert costs(sim.monthly, HOSTED) == pytest.approx([40 / 1.20, 40 / 1.25, 40 / 1.25])
    fx = sim.fx.sort("month")
    assert fx["currency"].to_list() == ["USD"] * 3
    assert fx["kind"].to_list() == ["published", "published", "planning"]
    assert fx["day"].to_list() == [date(2026, 12, 1), date(2026, 12, 31), date(2026, 12, 31)]
    assert fx["rate"].to_list() == pytest.approx([1 / 1.20, 1 / 1.25, 1 / 1.25])
    assert set(fx["source"]) == {"ecb-eurofxref"}
    planning = fx["text"][2]
    assert "1 USD = 0.8 EUR" in planning
    assert "planning rate: the latest ECB reference rate, of 2026-12-31" in planning
    assert "an assumption" in planning
    assert [c.kind for c in sim.conversions] == fx["kind"].to_list()
    # every frame of money carries the currency
    for frame in (sim.monthly, sim.line_items, sim.cheapest, sim.leads, sim.segments):
        assert set(frame["currency"].to_list()) <= {"EUR"}
        assert "currency" in frame.columns


def test_your_rate_wins_and_is_reported_as_yours(tmp_path: Path, ds: DataSet) -> None:
    sim = simulate(hosted_only(tmp_path), data=ds, as_of="2026-12-01", fx=["EURUSD=1.08"])
    assert costs(sim.monthly, HOSTED) == pytest.approx([40 / 1.08] * 3)
    assert set(sim.fx["kind"]) == {"user"}
    assert set(sim.fx["source"]) == {"user"}
    assert sim.fx["day"].null_count() == 3
    assert "(your rate; source: user)" in sim.fx["text"][0]


def test_the_workload_currency_is_converted_into_another(tmp_path: Path, ds: DataSet) -> None:
    path = tmp_path / "self.toml"
    path.write_text(SELF_HOSTED, encoding="utf-8")
    eur = simulate(path, data=ds, as_of="2026-12-01", gpus=["h100-sxm"])
    # one GPU ($1,963.70 / 1.20 in December) + the EUR 1,000 licence + 5 h x EUR 100
    assert costs(eur.monthly, DEDICATED)[0] == pytest.approx(GPU_MONTH / 1.20 + 1000 + 500)
    assert costs(eur.monthly, DEDICATED)[2] == pytest.approx(GPU_MONTH / 1.25 + 1500)
    usd = simulate(path, data=ds, as_of="2026-12-01", gpus=["h100-sxm"], currency="USD")
    assert usd.currency == "USD"
    # in USD the GPU is as priced; the workload's EUR 1,500 a month is x 1.20, then x 1.25
    assert costs(usd.monthly, DEDICATED) == pytest.approx(
        [GPU_MONTH + 1500 * 1.20, GPU_MONTH + 1500 * 1.25, GPU_MONTH + 1500 * 1.25]
    )
    assert costs(usd.monthly, HOSTED) == pytest.approx([40.0] * 3)
    items = usd.line_items.filter(
        (pl.col("option") == DEDICATED) & (pl.col("month") == date(2026, 12, 1))
    )
    by_item = dict(zip(items["item"], items["cost"], strict=True))
    assert by_item["licence"] == pytest.approx(1200.0)
    assert by_item["operations"] == pytest.approx(600.0)
    assert set(usd.fx["currency"]) == {"EUR"}
    # the hosting terms the simulation states are in its currency (first month's rate)
    assert usd.hosting_terms("gen").ops_per_month == pytest.approx(600.0)


def test_an_owned_gpu_converts_its_price_and_the_workloads_hosting(
    tmp_path: Path, ds: DataSet
) -> None:
    """An owned GPU's hourly cost is its hardware (USD) plus the workload's hosting (its
    currency): at 1 EUR = 1.25 USD, EUR 200 of hosting is $250, so the EUR figures of a EUR
    workload are the USD figures of the same workload stated in USD, / 1.25."""
    text = SELF_HOSTED.replace("months = 3", "months = 1")
    usd_path, eur_path = tmp_path / "usd.toml", tmp_path / "eur.toml"
    usd_path.write_text(
        text.replace('currency = "EUR"', 'currency = "USD"') + "owned_hosting_per_month = 250\n",
        encoding="utf-8",
    )
    eur_path.write_text(text + "owned_hosting_per_month = 200\n", encoding="utf-8")
    usd = simulate(usd_path, data=ds, gpus=["h100-sxm"], fx=["EURUSD=1.25"])
    eur = simulate(eur_path, data=ds, gpus=["h100-sxm"], fx=["EURUSD=1.25"])
    owned = pl.col("option").str.starts_with("owned:") & pl.col("item").str.starts_with("GPU")
    a = usd.line_items.filter(owned).sort("option", "item")
    b = eur.line_items.filter(owned).sort("option", "item")
    assert a.height > 0
    assert (b["cost"] * 1.25).to_list() == pytest.approx(a["cost"].to_list())


def test_a_cross_rate_goes_through_eur(tmp_path: Path, ds: DataSet) -> None:
    sim = simulate(hosted_only(tmp_path, start="2027-03-01", months=1), data=ds, currency="GBP")
    # planning month: USD 1.25 and GBP 0.80 per EUR -> 1 USD = 0.80 / 1.25 = 0.64 GBP
    assert costs(sim.monthly, HOSTED) == pytest.approx([40 * 0.64])
    row = sim.fx.row(0, named=True)
    assert (row["currency"], row["to"], row["kind"]) == ("USD", "GBP", "planning")
    assert "a cross rate through EUR" in row["text"]


def test_a_workload_rate_replaces_the_planning_rate_only(tmp_path: Path, ds: DataSet) -> None:
    fx = "[fx]\nEURUSD = 1.10\n"
    sim = simulate(hosted_only(tmp_path, fx=fx), data=ds, as_of="2026-12-01")
    # the two published months keep the ECB's rates; the third takes the workload's 1.10
    assert costs(sim.monthly, HOSTED) == pytest.approx([40 / 1.20, 40 / 1.25, 40 / 1.10])
    third = sim.fx.sort("month").row(2, named=True)
    assert (third["kind"], third["source"], third["day"]) == ("planning", "workload", None)
    assert "the workload's fx EURUSD = 1.1" in third["text"]
    assert "planning rate held for 2027-02-01" in third["text"]
    # --fx wins over both, and the unused workload rate is said to be unused
    mine = simulate(hosted_only(tmp_path, fx=fx), data=ds, as_of="2026-12-01", fx={"USDEUR": 0.9})
    assert costs(mine.monthly, HOSTED) == pytest.approx([40 * 0.9] * 3)
    assert any("EURUSD was not used" in n for n in mine.notes)


def test_a_workload_rate_distribution_widens_the_band_by_its_quantiles(
    tmp_path: Path, ds: DataSet
) -> None:
    fx = '[fx]\nEURUSD = { dist = "triangular", low = 1.02, mode = 1.08, high = 1.15 }\n'
    path = hosted_only(tmp_path, start="2027-06-01", months=1, fx=fx)
    sim = simulate(path, data=ds, samples=4000, seed=7)
    # base case: the mode, 1.08
    assert costs(sim.monthly, HOSTED) == pytest.approx([40 / 1.08])
    # triangular(a=1.02, c=1.08, b=1.15): F(c) = 0.06 / 0.13 = 0.4615, so
    # q(0.1) = a + sqrt(0.1 (b-a)(c-a)), q(0.5) and q(0.9) = b - sqrt((1-p)(b-a)(b-c))
    q10 = 1.02 + math.sqrt(0.1 * 0.13 * 0.06)  # 1.04793
    q50 = 1.15 - math.sqrt(0.5 * 0.13 * 0.07)  # 1.08255
    q90 = 1.15 - math.sqrt(0.1 * 0.13 * 0.07)  # 1.11983
    # cost = $40 / rate falls as the rate rises: its P10 is at the rate's P90 and back
    assert sim.bands is not None
    band = sim.bands.filter(pl.col("option") == HOSTED).row(0, named=True)
    assert band["p10"] == pytest.approx(40 / q90, rel=2e-3)
    assert band["p50"] == pytest.approx(40 / q50, rel=2e-3)
    assert band["p90"] == pytest.approx(40 / q10, rel=2e-3)
    assert band["currency"] == "EUR"
    # the rate is an uncertain input of the tornado, at its own P10 and P90
    assert sim.sensitivity is not None
    row = sim.sensitivity.filter(pl.col("option") == HOSTED).row(0, named=True)
    assert row["input"] == "fx: EURUSD"
    assert (row["low"], row["high"]) == pytest.approx((q10, q90))
    assert (row["cost_at_low"], row["cost_at_high"]) == pytest.approx((40 / q10, 40 / q90))
    assert sim.fx["sampled"].to_list() == [True]
    # a fixed rate leaves no band
    fixed = simulate(
        hosted_only(tmp_path, start="2027-06-01", months=1, fx="[fx]\nEURUSD = 1.08\n"),
        data=ds,
        samples=200,
        seed=7,
    )
    assert fixed.bands is not None
    flat = fixed.bands.filter(pl.col("option") == HOSTED).row(0, named=True)
    assert flat["p10"] == pytest.approx(flat["p90"]) == pytest.approx(40 / 1.08)


def test_a_currency_without_rates_is_one_clear_error(tmp_path: Path, ds: DataSet) -> None:
    with pytest.raises(PricingError, match="no exchange rate for JPY"):
        simulate(hosted_only(tmp_path), data=ds, currency="JPY")
    with pytest.raises(PricingError, match="not understood"):
        simulate(hosted_only(tmp_path), data=ds, fx=["EURUSD=lots"])


# --------------------------------------------------------------------------- the workload file


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ("EURUS = 1.08", "not a pair of two ISO 4217 codes"),
        ("EUREUR = 1.0", "not a pair of two ISO 4217 codes"),
        ("EURUSD = 1.08\nUSDEUR = 0.93", "both given"),
        ('EURUSD = { dist = "normal", mean = 1.08, sd = 0.05 }', "without `low`"),
        ("EURUSD = 0", "above 0"),
    ],
)
def test_bad_workload_rates_are_located_problems(
    tmp_path: Path, ds: DataSet, table: str, problem: str
) -> None:
    with pytest.raises(WorkloadError, match=problem):
        load_workload(hosted_only(tmp_path, fx=f"[fx]\n{table}\n"), data=ds)


def test_a_workload_rate_distribution_is_an_uncertain_input(tmp_path: Path, ds: DataSet) -> None:
    fx = '[fx]\nEURUSD = { dist = "uniform", low = 1.0, high = 1.2 }\n'
    work = load_workload(hosted_only(tmp_path, fx=fx), data=ds)
    (found,) = uncertain_inputs(work)
    assert (found.path, found.label) == (("fx", "EURUSD"), "fx: EURUSD")
    assert found.central == pytest.approx(1.1)


# --------------------------------------------------------------------------- break-even


def test_break_even_in_eur_converts_the_gpu_price_and_states_the_rate(ds: DataSet) -> None:
    # $2.69 x 730 h / 1.20 = EUR 1,636.42 of GPU + EUR 100 licence (as given, in EUR), against
    # EUR 0.025 an image (as given): V = 1,736.42 / 0.025 = 69,456.7 -> 69,457 images
    result = break_even(
        "flux-1-dev",
        "runpod/h100-sxm-community",
        0.025,
        hosting=HostingTerms(licence_per_month=100),
        as_of="2026-12-01",
        data=ds,
        currency="EUR",
    )
    assert result.currency == "EUR"
    assert result.volume == 69_457
    assert result.gpus == 1
    assert result.self_cost == pytest.approx(GPU_MONTH / 1.20 + 100)
    (made,) = result.conversions
    assert (made.kind, made.day, made.source) == ("published", date(2026, 12, 1), "ecb-eurofxref")
    assert any("2.242 EUR/GPU-hour (2.69 USD/GPU-hour converted)" in n for n in result.notes)
    # against an offer: both sides converted, so the volume is the USD one
    usd = break_even(
        "flux-1-dev", "runpod/h100-sxm-community", "bfl/flux-1-dev",
        hosting=HostingTerms(licence_per_month=120), as_of="2026-12-01", data=ds,
    )  # fmt: skip
    eur = break_even(
        "flux-1-dev", "runpod/h100-sxm-community", "bfl/flux-1-dev",
        hosting=HostingTerms(licence_per_month=100), as_of="2026-12-01", data=ds, currency="EUR",
    )  # fmt: skip
    assert eur.volume == usd.volume
    assert eur.self_cost == pytest.approx(usd.self_cost / 1.20)  # type: ignore[operator]


# --------------------------------------------------------------------------- command line


def test_simulate_command_in_eur_with_your_rate(tmp_path: Path, data_dir: Path) -> None:
    path = hosted_only(tmp_path)
    args = ["simulate", str(path), "--data", str(data_dir), "--fx", "EURUSD=1.08"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["currency"] == "EUR"
    assert [f["kind"] for f in payload["fx"]] == ["user"] * 3
    assert payload["fx"][0]["rate"] == str(Decimal(1) / Decimal("1.08"))
    total = next(t for t in payload["totals"] if t["option"] == HOSTED)
    assert float(total["horizon_cost"]) == pytest.approx(3 * 40 / 1.08)
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert "EUR/image" in text.stdout
    assert "Exchange rates used" in text.stdout
    assert "1 USD = 0.925926 EUR (your rate; source: user)" in text.stdout


def test_simulate_command_states_the_planning_rate(tmp_path: Path, data_dir: Path) -> None:
    path = hosted_only(tmp_path, start="2027-03-01", months=1)
    result = runner.invoke(app, ["simulate", str(path), "--data", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "2027-03-01: 1 USD = 0.8 EUR (planning rate: the latest ECB reference rate, of " in (
        result.stdout
    )
    (line,) = [x for x in result.stdout.splitlines() if "api:bfl/flux-1-kontext-pro" in x]
    assert "32 EUR" in line  # $40 / 1.25
    assert "0.0320 EUR" in line


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--currency", "eu", "is not an ISO 4217 code"),
        ("--fx", "EURUSD=abc", "is not understood"),
        ("--fx", "EUREUR=1", "converts EUR to itself"),
        ("--currency", "XYZ", "no exchange rate for XYZ"),
    ],
)
def test_a_bad_code_or_rate_is_one_error_line(
    tmp_path: Path, data_dir: Path, option: str, value: str, said: str
) -> None:
    path = hosted_only(tmp_path)
    breakeven = ["breakeven", "--model", "flux-1-dev", "--gpu", "runpod/h100-sxm-community"]
    for command in (["simulate", str(path)], [*breakeven, "--hosted", "0.025", "--licence", "1"]):
        result = runner.invoke(app, [*command, "--data", str(data_dir), option, value])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert lines[0].startswith("error:")
        assert said in " ".join(lines)


def test_breakeven_command_in_eur(data_dir: Path) -> None:
    # $2.69 x 730 / 1.25 = EUR 1,570.96 + EUR 100 = EUR 1,670.96 = 66,838.4 images at 0.025
    args = ["breakeven", "--model", "flux-1-dev", "--gpu", "runpod/h100-sxm-community"]
    args += ["--hosted", "0.025", "--licence", "100", "--data", str(data_dir)]
    args += ["--currency", "EUR", "--fx", "EURUSD=1.25"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["volume"] == 66_839
    assert payload["currency"] == "EUR"
    assert [(f["kind"], f["rate"]) for f in payload["fx"]] == [("user", "0.8")]
    text = runner.invoke(app, args)
    assert "66,839 images/month" in text.stdout
    assert "1,670.96 EUR/month" in text.stdout
    assert "1 USD = 0.8 EUR (your rate; source: user)" in text.stdout
