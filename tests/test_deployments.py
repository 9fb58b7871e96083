"""Per-second hardware bought as a deployment (issue 17, item 5): Replicate bills every second
an instance is online, set-up and idle included, and scales to the deployment's minimum."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest

import pricing

AS_OF = "2026-12-07"
#: data/gpus/offers.toml (replicate-pricing): Nvidia H100 $0.001525 a second, 2x $0.003050
H100_S, H100X2_S = 0.001525, 0.003050
#: data/throughput.toml: FLUX.1 [dev] bf16 + torch.compile on an H100, 28 steps at 1024x1024
SECONDS = 0.150321 * 28
MONTH_S = 730 * 3600


def _workload(images: float, **deployment: Any) -> Any:
    spec: dict[str, Any] = {
        "name": "a private FLUX.1 [dev] deployment",
        "start": "2027-01-01",
        "months": 1,
        "traffic": {"peak_to_mean": 1.0},  # flat: one instance is all it ever needs
        "segments": [
            {
                "name": "renders",
                "operation": "generate",
                "models": ["flux-1-dev"],
                "volume": {"base": images, "growth": 0.0},
                "resolutions": [{"width": 1024, "height": 1024, "share": 1.0}],
                "steps": 28,
                "p95_latency_s": 30.0,
            }
        ],
        "self_hosting": {"licence": {"monthly_fee": 1000, "included_images": 10**9}},
    }
    if deployment:
        spec["self_hosting"]["deployment"] = deployment
    return pricing.Workload.model_validate(spec)


def _gpu(sim: pricing.Simulation, offer: str) -> dict[str, float]:
    rows = sim.line_items.filter(
        pl.col("option") == f"deployment:{offer}:flux-1-dev", pl.col("item").str.starts_with("GPU")
    )
    return dict(rows.select("item", "cost").iter_rows())


def test_an_instance_kept_online_is_billed_all_month() -> None:
    # min_instances = 1 at 10,000 images a month: one H100 online 730 h at $5.49 an hour
    # ($0.001525 x 3,600), busy 10,000 x 4.209 s of it; a 2x H100 instance bills both GPUs.
    offers = ["replicate/1x-h100-sxm-deployment", "replicate/2x-h100-sxm-deployment"]
    sim = pricing.simulate(
        _workload(10_000, min_instances=1), gpus=offers, modes=("deployment",), as_of=AS_OF
    )
    one = _gpu(sim, offers[0])
    assert one["GPU busy"] == pytest.approx(10_000 * SECONDS * H100_S)
    assert one["GPU busy"] + one["GPU idle"] == pytest.approx(MONTH_S * H100_S)
    two = _gpu(sim, offers[1])
    assert two["GPU busy"] + two["GPU idle"] == pytest.approx(MONTH_S * H100X2_S)
    assert sim.monthly.sort("option")["gpus"].to_list() == [1, 2]


def test_a_deployment_scaled_to_zero_bills_the_time_a_request_keeps_it_awake() -> None:
    # Replicate's default: 0 instances, idle "a few minutes" (180 s) after each request.
    # Poisson arrivals at 10,000 a month: an instance is online while a request came in the
    # last 180 s, 1 - exp(-rate x 180) of the month (about half of it).
    offer = "replicate/1x-h100-sxm-deployment"
    sim = pricing.simulate(_workload(10_000), gpus=[offer], modes=("deployment",), as_of=AS_OF)
    online = 1 - math.exp(-10_000 / MONTH_S * 180)
    gpu = _gpu(sim, offer)
    assert gpu["GPU busy"] + gpu["GPU idle"] == pytest.approx(MONTH_S * online * H100_S)
    note = next(n for n in sim.notes if n.startswith("deployment options"))
    assert "0 instance(s) always online" in note
    assert "180 s idle" in note
    assert "self_hosting.deployment" in note


def test_deployment_terms_are_the_workloads_when_given() -> None:
    # idle 0 and set-up 0: nothing but busy time is billed below one instance's load
    offer = "replicate/1x-h100-sxm-deployment"
    sim = pricing.simulate(
        _workload(10_000, idle_s=0, setup_s=0), gpus=[offer], modes=("deployment",), as_of=AS_OF
    )
    gpu = _gpu(sim, offer)
    assert gpu["GPU busy"] + gpu["GPU idle"] == pytest.approx(10_000 * SECONDS * H100_S)
    assert any("the workload's self_hosting.deployment" in n for n in sim.notes)


def test_hardware_time_offers_point_to_their_deployment_options() -> None:
    sim = pricing.simulate("small", as_of=AS_OF)
    kinds = sim.options.filter(pl.col("provider") == "replicate")
    assert "deployment" in kinds["mode"].to_list()
    assert "api" in kinds["mode"].to_list()  # Replicate's per-image official models
    assert not kinds.filter(pl.col("mode") == "serverless").height  # never billed as one
    note = next(n for n in sim.notes if "hardware-time" in n)
    assert "deployment:replicate/1x-h100-sxm-deployment" in note
