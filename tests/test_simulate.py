"""simulate() and break_even() against hand calculations from the rates in data/.

Figures used (price-facts, typed into data/): RunPod Community H100 SXM $2.69/GPU-h;
RunPod Secure H100 SXM $3.49/GPU-h (silybench, 2026-09-25) and $3.99/GPU-h (datareceipts,
2026-11-09); Lambda 1x H100 SXM $3.78 (techbytes, 2026-05) and $4.29 (api-evangelist,
2026-09); Replicate L40S $0.000975/s (replicate.com) and $0.000972/s (internal page);
BFL FLUX.1 Kontext [pro] $0.04 per image. A dedicated GPU is billed 730 h a month.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import HostingTerms, ImageRequest
from pricing._gpus.gpus import load_gpus
from pricing._plan.breakeven import break_even, solve_break_even
from pricing._plan.simulate import simulate
from pricing._selfhost.autoscale import RatioCurve
from pricing._selfhost.fleet import CURVE_LEVELS, Fleet, Service, level_codes
from pricing._selfhost.gpu_cost import (
    HOURS_PER_MONTH,
    SECONDS_PER_MONTH,
    WEEKS_PER_MONTH,
    autoscaled,
    dedicated,
)
from pricing._selfhost.setups import source_range
from pricing._workloads.demand import daily_curve
from pricing._workloads.inputs import with_values
from pricing._workloads.load import load_workload
from pricing.errors import PricingError

GPU_MONTH = 2.69 * 730  # one RunPod Community H100 for a month: $1,963.70

WORKLOAD = """
name = "test"
currency = "USD"
start = 2027-01-01
months = 3

[traffic]
peak_to_mean = 2.0

[[segments]]
name = "gen"
operation = "generate"
models = ["flux-1-kontext-pro", "flux-1-dev"]
volume = {{ base = {base}, growth = 0.5 }}
resolutions = [{{ width = 1024, height = 1024, share = 1.0 }}]
steps = 28
p95_latency_s = 60.0

[self_hosting]
gpus = ["h100-sxm"]
categories = ["community"]
ops_hours_per_month = 5
ops_hourly_rate = 100
{licence}
"""
LICENCE = "licence = { monthly_fee = 1000, included_images = 1000, overage_per_image = 0.01 }"


def write(
    tmp_path: Path,
    base: str = "1000",
    licence: str = LICENCE,
    *,
    category: str = "community",
    ratio: str = "2.0",
    top: str = "",
) -> Path:
    text = WORKLOAD.format(base=base, licence=licence)
    text = text.replace('categories = ["community"]', f'categories = ["{category}"]')
    text = text.replace("peak_to_mean = 2.0", f"peak_to_mean = {ratio}")
    path = tmp_path / "w.toml"
    path.write_text(top + text, encoding="utf-8")
    return path


def month_costs(result: pl.DataFrame, option: str) -> list[float]:
    return result.filter(pl.col("option") == option).sort("month")["cost"].to_list()


# --------------------------------------------------------------------------- simulate


def test_hosted_cost_is_images_times_the_exact_price(tmp_path: Path) -> None:
    sim = simulate(write(tmp_path), gpus=["h100-sxm"])
    # 1,000 images, then +50% a month: 1,000, 1,500, 2,250 images at $0.04
    assert month_costs(sim.monthly, "api:bfl/flux-1-kontext-pro") == pytest.approx(
        [40.0, 60.0, 90.0]
    )


def test_dedicated_gpu_month_licence_and_operations_by_hand(tmp_path: Path) -> None:
    sim = simulate(write(tmp_path), gpus=["h100-sxm"])
    option = "dedicated:runpod/h100-sxm-community:flux-1-dev"
    # one GPU all month + licence fee + overage beyond 1,000 images at $0.01 + 5 h x $100
    expected = [GPU_MONTH + 1000 + over * 0.01 + 500 for over in (0, 500, 1250)]
    assert month_costs(sim.monthly, option) == pytest.approx(expected)
    items = sim.line_items.filter(
        (pl.col("option") == option) & (pl.col("month") == pl.date(2027, 1, 1))
    )
    by_item = dict(zip(items["item"], items["cost"], strict=True))
    assert by_item["GPU busy"] + by_item["GPU idle"] == pytest.approx(GPU_MONTH)
    assert by_item["licence"] == pytest.approx(1000)
    assert by_item["operations"] == pytest.approx(500)
    row = sim.monthly.filter(pl.col("option") == option).sort("month").row(0, named=True)
    assert row["gpus"] == 1
    # busy share: 1,000 images x seconds per image / 730 h, well under 1%
    assert 0 < row["utilisation"] < 0.01
    assert row["cost_per_image_busy"] < row["cost_per_image"]


def test_unknown_licence_leaves_self_hosting_unpriced_never_zero(tmp_path: Path) -> None:
    sim = simulate(write(tmp_path, licence=""), gpus=["h100-sxm"])
    selfh = sim.monthly.filter(pl.col("kind") == "self-hosted")
    assert selfh.height > 0
    assert selfh["cost"].is_null().all()
    assert selfh["reason"].str.contains("licence").all()
    assert sim.cheapest["self_hosted_option"].is_null().all()


def test_cheapest_option_per_month_is_the_minimum(tmp_path: Path) -> None:
    sim = simulate(write(tmp_path), gpus=["h100-sxm"])
    for row in sim.cheapest.iter_rows(named=True):
        month = sim.monthly.filter(
            (pl.col("segment") == row["segment"]) & (pl.col("month") == row["month"])
        )
        assert row["cost"] == pytest.approx(month["cost"].min())
        assert row["cost"] <= row["hosted_cost"]
        assert row["cost"] <= row["self_hosted_cost"]


def test_sampling_repeats_with_its_seed(tmp_path: Path) -> None:
    path = write(tmp_path, base='{ dist = "triangular", low = 500, mode = 1000, high = 3000 }')
    a = simulate(path, gpus=["h100-sxm"], samples=200, seed=11)
    b = simulate(path, gpus=["h100-sxm"], samples=200, seed=11)
    c = simulate(path, gpus=["h100-sxm"], samples=200, seed=12)
    assert a.bands is not None
    assert b.bands is not None
    assert c.bands is not None
    assert a.bands.equals(b.bands)
    assert not a.bands.equals(c.bands)
    assert (a.seed, a.samples) == (11, 200)
    ok = a.bands.drop_nulls()
    assert (ok["p10"] <= ok["p50"]).all()
    assert (ok["p50"] <= ok["p90"]).all()
    # hosted cost is linear in volume: its P50 is $0.04 x the P50 of the first month's volume
    first = a.bands.filter(
        (pl.col("option") == "api:bfl/flux-1-kontext-pro")
        & (pl.col("month") == pl.date(2027, 1, 1))
    )
    # triangular(500, 1000, 3000): F(x) = (x-500)^2 / (2500 x 500) below the mode (F = 0.2),
    # so the median solves 1 - (3000-x)^2 / (2500 x 2000) = 0.5: x = 3000 - sqrt(2.5e6)
    median = 3000 - 2_500_000**0.5
    assert first["p50"][0] == pytest.approx(0.04 * median, rel=0.02)
    assert a.self_hosting_cheaper is not None
    assert a.self_hosting_cheaper["probability"].is_between(0, 1).all()


def test_sensitivity_moves_cost_with_volume(tmp_path: Path) -> None:
    path = write(tmp_path, base='{ dist = "uniform", low = 1000, high = 2000 }')
    sim = simulate(path, gpus=["h100-sxm"])
    assert sim.sensitivity is not None
    row = sim.sensitivity.filter(pl.col("option") == "api:bfl/flux-1-kontext-pro").row(
        0, named=True
    )
    assert row["input"] == "gen: volume.base"
    # P10 and P90 of uniform(1000, 2000): 1100 and 1900 images in month 1, x(1 + 1.5 + 2.25)
    assert (row["low"], row["high"]) == pytest.approx((1100, 1900))
    assert row["cost_at_low"] == pytest.approx(0.04 * 1100 * 4.75)
    assert row["cost_at_high"] == pytest.approx(0.04 * 1900 * 4.75)


def test_latency_target_below_service_time_is_infeasible(tmp_path: Path) -> None:
    text = (
        write(tmp_path)
        .read_text(encoding="utf-8")
        .replace("p95_latency_s = 60.0", "p95_latency_s = 0.5")
    )
    path = tmp_path / "tight.toml"
    path.write_text(text, encoding="utf-8")
    sim = simulate(path, gpus=["h100-sxm"])
    selfh = sim.monthly.filter(pl.col("kind") == "self-hosted")
    assert (~selfh["feasible"]).all()
    assert selfh["cost"].is_null().all()


def test_bundled_default_workload_simulates() -> None:
    sim = simulate("ecommerce")
    assert set(sim.monthly["segment"]) == {"product edits", "lifestyle shots"}
    assert sim.cheapest.height == 2 * 12
    assert (sim.monthly.filter(pl.col("feasible"))["cost"] >= 0).all()


def test_bad_samples_and_currency(tmp_path: Path) -> None:
    with pytest.raises(PricingError, match="samples"):
        simulate(write(tmp_path), samples=-1)
    # a currency the FX data has no rate for (a EUR workload simulates: test_currency_plans)
    xyz = tmp_path / "xyz.toml"
    xyz.write_text(write(tmp_path).read_text().replace('"USD"', '"XYZ"'), encoding="utf-8")
    with pytest.raises(PricingError, match="no exchange rate for XYZ"):
        simulate(xyz)


# --------------------------------------------------------------------------- price spreads

SECURE = "dedicated:runpod/h100-sxm-secure.2026-11:flux-1-dev"


def test_gpu_price_range_spans_each_sources_newest_figure() -> None:
    data = load_gpus()
    secure = data.offer("runpod/h100-sxm-secure.2026-11")
    assert source_range(data, secure) == pytest.approx((3.49, 3.99))
    lambda_h100 = data.offer("lambda/1x-h100-sxm-on-demand")
    assert source_range(data, lambda_h100) == pytest.approx((3.78, 4.29))
    # per-second prices: $0.000972/s and $0.000975/s x 3,600 s
    l40s = data.offer("replicate/1x-l40s-deployment")
    assert source_range(data, l40s) == pytest.approx((3.4992, 3.51))
    community = data.offer("runpod/h100-sxm-community")  # one source: no range
    assert source_range(data, community) == pytest.approx((2.69, 2.69))


def test_gpu_hourly_price_is_sampled_between_its_sources_by_hand(tmp_path: Path) -> None:
    path = write(tmp_path, category="secure")
    sim = simulate(path, gpus=["h100-sxm"], samples=1000, seed=3, price_spread=True)
    # one GPU all month at the newest figure ($3.99) in the base case; sampled uniformly
    # between $3.49 and $3.99: P10 $3.54, P50 $3.74, P90 $3.94. Plus the $1,000 licence
    # fee, overage of 0 / 500 / 1,250 images at $0.01 and 5 h x $100 of operations.
    fixed = np.array([1000 + over * 0.01 + 500 for over in (0, 500, 1250)])
    assert month_costs(sim.monthly, SECURE) == pytest.approx(730 * 3.99 + fixed)
    assert sim.bands is not None
    bands = sim.bands.filter(pl.col("option") == SECURE).sort("month")
    for q, price in (("p10", 3.54), ("p50", 3.74), ("p90", 3.94)):
        assert bands[q].to_numpy() == pytest.approx(730 * price + fixed, rel=1e-4)
    # without spreads every sample is the base case
    still = simulate(path, gpus=["h100-sxm"], samples=50, seed=3)
    assert still.bands is not None
    flat = still.bands.filter(pl.col("option") == SECURE)
    assert (flat["p10"] == flat["p90"]).all()


def test_workload_prices_sources_asks_for_price_spreads(tmp_path: Path) -> None:
    path = write(tmp_path, category="secure", top='prices = { dist = "sources" }\n')
    assert load_workload(path).prices is not None
    by_file = simulate(path, gpus=["h100-sxm"], samples=100, seed=5)
    by_flag = simulate(
        write(tmp_path, category="secure"),
        gpus=["h100-sxm"],
        samples=100,
        seed=5,
        price_spread=True,
    )
    assert by_file.bands is not None
    assert by_flag.bands is not None
    assert by_file.bands.equals(by_flag.bands)
    off = simulate(path, gpus=["h100-sxm"], samples=100, seed=5, price_spread=False)
    assert off.bands is not None
    gpu = off.bands.filter(pl.col("option") == SECURE)
    assert (gpu["p10"] == gpu["p90"]).all()


# --------------------------------------------------------------------------- traffic curves


def test_autoscaled_fleet_follows_each_samples_peak_to_mean_by_hand() -> None:
    # 0.5 requests/s on average, 1 s each, no latency target, no utilisation cap.
    # Ratio 1: a flat day, 1 GPU every hour: 168 GPU-h a week, no scale-up.
    # Ratio 24: the whole day's traffic in one hour at 12 requests/s needs 13 GPUs (a < c),
    # 1 GPU the other 23 hours: 36 GPU-h and 12 GPUs started a day, 252 and 84 a week; each
    # start bills 120 s + half of a 3,600 s increment = 1,920 s.
    fleet = Fleet(Service((1.0,), (1.0,)), p95_target_s=math.inf, max_utilisation=1.0)
    requests = np.full((2, 1), 0.5 * SECONDS_PER_MONTH)
    cost = autoscaled(
        requests,
        RatioCurve(np.array([[1.0], [24.0]]), daily_curve),
        fleet,
        gpu_hour=2.0,
        gpus_per_instance=1,
        min_gpus=1,
        startup_s=120.0,
        granularity_s=3600.0,
    )
    billed_h = np.array([168.0, 252 + 84 * 1920 / 3600]) * WEEKS_PER_MONTH
    assert (cost.busy + cost.idle)[:, 0] == pytest.approx(2.0 * billed_h)
    assert cost.gpus[:, 0].tolist() == [1, 13]
    # more ratios than are followed one by one: interpolated between nodes that include the
    # lowest and highest ratio, so those two rows are still exact
    ratios = np.linspace(1.0, 24.0, 30).reshape(-1, 1)
    many = autoscaled(
        np.full((30, 1), 0.5 * SECONDS_PER_MONTH),
        RatioCurve(ratios, daily_curve),
        fleet,
        gpu_hour=2.0,
        gpus_per_instance=1,
        min_gpus=1,
        startup_s=120.0,
        granularity_s=3600.0,
    )
    total = (many.busy + many.idle)[:, 0]
    assert total[[0, -1]] == pytest.approx(2.0 * billed_h)
    assert (total >= 2.0 * billed_h[0] - 1e-9).all()


def test_uncertain_peak_to_mean_reshapes_the_autoscaled_curve(tmp_path: Path) -> None:
    path = write(tmp_path, base="200000", ratio='{ dist = "uniform", low = 1.5, high = 6.0 }')
    sim = simulate(path, gpus=["h100-sxm"], modes=("api", "autoscaled"))
    assert sim.sensitivity is not None
    option = "autoscaled:runpod/h100-sxm-community:flux-1-dev"
    row = sim.sensitivity.filter(
        (pl.col("option") == option) & (pl.col("input") == "traffic: peak_to_mean")
    ).row(0, named=True)
    # P10 and P90 of uniform(1.5, 6): 1.95 and 5.55
    assert (row["low"], row["high"]) == pytest.approx((1.95, 5.55))
    assert row["cost_at_low"] != pytest.approx(row["cost_at_high"])
    # the same answer two ways: the workload with the ratio fixed at its P10 / P90
    wl = load_workload(path)
    for ratio, cost in ((1.95, row["cost_at_low"]), (5.55, row["cost_at_high"])):
        fixed = simulate(
            with_values(wl, {("traffic", "peak_to_mean"): ratio}),
            gpus=["h100-sxm"],
            modes=("api", "autoscaled"),
        )
        assert sum(month_costs(fixed.monthly, option)) == pytest.approx(cost)


def test_a_week_of_equal_days_is_followed_as_one_day() -> None:
    fleet = Fleet(Service((6.5,), (1.0,)), p95_target_s=30.0, max_utilisation=0.8)
    requests = np.array([[1e5, 4e5, 2e6]])
    day = daily_curve(3.0)
    week, one = (
        autoscaled(
            requests,
            profile,
            fleet,
            gpu_hour=2.69,
            gpus_per_instance=1,
            min_gpus=1,
            startup_s=120.0,
            granularity_s=60.0,
        )
        for profile in (np.tile(day, 7), day)
    )
    assert np.array_equal(week.busy + week.idle, one.busy + one.idle)
    assert np.array_equal(week.gpus, one.gpus)


# --------------------------------------------------------------------------- fleet levels


@given(
    st.lists(st.sampled_from([10.0, 20.0, 30.0, 45.0, math.inf]), min_size=1, max_size=40),
    st.lists(st.sampled_from([0.5, 0.6, 0.7, 0.8, 0.9]), min_size=1, max_size=40),
    st.integers(1, 12),
)
@settings(max_examples=60, deadline=None)
def test_levels_of_a_sample_stand_for_its_months(
    targets: list[float], caps: list[float], months: int
) -> None:
    n = min(len(targets), len(caps))
    t, c = np.array(targets[:n]), np.array(caps[:n])
    levels, codes = level_codes(t, c, months)
    spread_levels, spread_codes = level_codes(np.repeat(t, months), np.repeat(c, months))
    assert len(levels) <= CURVE_LEVELS
    assert np.array_equal(levels[codes], spread_levels[spread_codes])
    # never a longer target or a higher cap than the sample's own: never fewer GPUs
    assert (levels[codes, 0] <= np.repeat(t, months)).all()
    assert (levels[codes, 1] <= np.repeat(c, months)).all()


# --------------------------------------------------------------------------- dedicated fleets


@given(st.lists(st.floats(0, 5e7), min_size=2, max_size=30))
@settings(max_examples=40, deadline=None)
def test_dedicated_cost_never_falls_with_volume(volumes: list[float]) -> None:
    fleet = Fleet(Service((6.5,), (1.0,)), p95_target_s=30.0, max_utilisation=0.8)
    requests = np.sort(np.asarray(volumes)).reshape(1, -1)
    cost = dedicated(requests, 2.5, fleet, gpu_hour=2.69, gpus_per_instance=8)
    total = (cost.busy + cost.idle)[0]
    assert (np.diff(total) >= -1e-6).all()
    assert (cost.gpus % 8 == 0).all()  # whole 8-GPU instances
    assert (cost.idle >= -1e-9).all()


# --------------------------------------------------------------------------- break-even


def test_break_even_one_gpu_against_an_api_by_hand() -> None:
    # $2.69/h x 730 h = $1,963.70 = 78,548 images at $0.025. FLUX.1 [schnell] is Apache-2.0
    # (data/licences.toml), so its licence costs nothing and the default terms hold.
    result = break_even("flux-1-schnell", "a100-80gb", 0.025, gpu_hour=2.69)
    assert result.volume == 78_548
    assert result.gpus == 1  # one GPU's capacity covers it
    assert result.self_cost == pytest.approx(GPU_MONTH)
    assert result.hosted_cost == pytest.approx(0.025 * 78_548)
    # the same on a listed offer ($2.69/h), for FLUX.1 [dev] with its licence stated as free
    same = break_even("flux-1-dev", "runpod/h100-sxm-community", 0.025, hosting=HostingTerms())
    assert same.volume == 78_548


def test_break_even_margin_and_fixed_costs_by_hand() -> None:
    # 10% cheaper: 1963.70 <= 0.9 x 0.025 V  ->  V >= 87,275.6
    r = break_even("flux-1-schnell", "a100-80gb", 0.025, gpu_hour=2.69, margin=0.1)
    assert r.margin_volume == 87_276
    # plus $1,000 licence and $500 ops a month: (1963.70 + 1500) / 0.025 = 138,548
    terms = HostingTerms(licence_per_month=1000, ops_per_month=500)
    fixed = break_even("flux-1-dev", "h100-sxm", 0.025, gpu_hour=2.69, hosting=terms)
    assert fixed.volume == 138_548
    assert fixed.hosting == terms
    assert "licence 1,000.00/month, operations 500.00/month" in fixed.notes[-1]
    assert "defaults" not in fixed.notes[-1]
    # Unstated terms are the defaults, and the result says so.
    assert r.hosting == HostingTerms()
    assert "defaults: pass hosting=HostingTerms(...)" in r.notes[-1]
    assert "licence 0.00/month" in r.notes[-1]
    assert any("licence: Apache-2.0, free for commercial use" in n for n in r.notes)


def test_break_even_takes_the_request_of_a_call() -> None:
    # 4 images a call, each as one 1024x1024 image: the same per-image crossing, 78,548
    req = ImageRequest(model="flux-1-schnell", count=4)
    assert break_even(req, "a100-80gb", 0.025, gpu_hour=2.69).volume == 78_548


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("peak_to_mean", 0.5),
        ("max_utilisation", 0.0),
        ("max_utilisation", 1.5),
        ("licence_per_month", -1.0),
        ("ops_per_month", math.nan),
        ("p95_latency_s", 0.0),
    ],
)
def test_hosting_terms_refuse_values_no_fleet_has(field: str, value: float) -> None:
    changed: dict[str, Any] = {field: value}
    with pytest.raises(PricingError, match=field):
        HostingTerms(**changed)


def test_break_even_against_a_hosted_offer_and_never() -> None:
    # FLUX.1 Kontext [pro] at $0.04 on BFL: 1963.70 / 0.04 = 49,092.5 -> 49,093 images
    free = HostingTerms()  # stated: the [dev] licence taken as costing nothing
    r = break_even("flux-1-dev", "h100-sxm", "bfl/flux-1-kontext-pro", gpu_hour=2.69, hosting=free)
    assert r.volume == 49_093
    never = break_even("flux-1-dev", "h100-sxm", 0.00001, gpu_hour=2.69, hosting=free)
    assert never.volume is None
    assert "never" in never.notes[0]


def test_break_even_asks_for_licence_terms_no_source_prices() -> None:
    # FLUX.1 [dev]: FLUX non-commercial licence, fee in no source: asked for, never $0
    with pytest.raises(PricingError, match=r"non-commercial licence.*--licence"):
        break_even("flux-1-dev", "h100-sxm", 0.025, gpu_hour=2.69)


def test_break_even_with_included_images_and_overage_by_hand() -> None:
    # $1,000 a month with 100,000 images included, $0.01 each beyond. One GPU ($1,963.70) +
    # $1,000 = $2,963.70 against $0.025 V: 118,548 images, above the 100,000 included, so
    # overage: 2963.70 + 0.01 (V - 100,000) = 0.025 V  ->  V = 1,963.70 / 0.015 = 130,913.3.
    # The fleet: FLUX.1 [dev] at 3.7067 s on one H100 serves 730 x 3600 / 3.7067 = 708,990
    # images a month, so one GPU still covers it.
    terms = HostingTerms(
        licence_per_month=1000, licence_included_images=100_000, licence_overage_per_image=0.01
    )
    r = break_even("flux-1-dev", "h100-sxm", 0.025, gpu_hour=2.69, hosting=terms)
    assert r.volume == 130_914
    assert any("0.01/image beyond 100,000 images a month" in n for n in r.notes)
    # At $0.008 hosted the overage alone is dearer: never, and the note names why
    never = break_even("flux-1-dev", "h100-sxm", 0.008, gpu_hour=2.69, hosting=terms)
    assert never.volume is None
    assert any("the licence overage alone" in n for n in never.notes)


def test_solve_finds_every_crossing_of_a_step_curve() -> None:
    # self-hosting: $100 per block of 1,000 images; hosted $0.15 per image:
    # cheaper from 667 to 1000, dearer just above 1000 (a new block), cheaper again from 1334
    def steps(v: np.ndarray) -> np.ndarray:
        return np.ceil(np.asarray(v) / 1000) * 100.0

    def linear(v: np.ndarray) -> np.ndarray:
        return np.asarray(v) * 0.15

    r = solve_break_even(steps, linear, max_volume=1e4)
    assert r.volume == 1334
    assert r.crossings[:3] == (667.0, 1001.0, 1334.0)


@pytest.mark.parametrize(
    ("hosted", "gpu_hour", "message"),
    [
        (math.nan, 2.69, "hosted price per image"),
        (-0.01, 2.69, "hosted price per image"),
        (0.025, -2.69, "gpu_hour must be a price above 0"),
        (0.025, math.inf, "gpu_hour must be a price above 0"),
    ],
)
def test_break_even_refuses_prices_no_one_charges(
    hosted: float, gpu_hour: float, message: str
) -> None:
    with pytest.raises(PricingError, match=message):
        break_even("flux-1-schnell", "a100-80gb", hosted, gpu_hour=gpu_hour)


def test_break_even_needs_a_price_for_a_gpu_type() -> None:
    with pytest.raises(PricingError, match="gpu_hour"):
        break_even("flux-1-schnell", "a100-80gb", 0.025)
    assert HOURS_PER_MONTH == 730
