"""Segments that run the same model share one fleet (issue 17, item 4): sized for their
combined traffic, paid once, carried in proportion to busy GPU time; N+1 redundancy."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pricing

AS_OF = "2026-12-07"
LAMBDA_H100 = "lambda/1x-h100-sxm-on-demand"
#: data/gpus/offers.toml: Lambda's 1x H100 SXM on demand, $4.29 a GPU-hour (api-evangelist-lambda)
H100_HOUR = 4.29
#: data/throughput.toml: FLUX.1 [dev] bf16 + torch.compile on an H100, 0.150321 s a step
#: (sayakpaul/diffusers-torchao), 28 steps at 1024x1024, no fixed overhead
SECONDS = 0.150321 * 28
MONTH_H = 730.0


def _workload(volumes: list[float], *, targets: list[float] | None = None, **sh: Any) -> Any:
    targets = targets or [30.0] * len(volumes)
    return pricing.Workload.model_validate(
        {
            "name": "two teams, one model",
            "start": "2027-01-01",
            "months": 1,
            "traffic": {"peak_to_mean": 2.5},
            "segments": [
                {
                    "name": f"team {k}",
                    "operation": "generate",
                    "models": ["flux-1-dev"],
                    "volume": {"base": v, "growth": 0.0},
                    "resolutions": [{"width": 1024, "height": 1024, "share": 1.0}],
                    "steps": 28,
                    "p95_latency_s": t,
                }
                for k, (v, t) in enumerate(zip(volumes, targets, strict=True))
            ],
            "self_hosting": {
                "max_utilisation": 0.8,
                "licence": {"monthly_fee": 1000, "included_images": 100000},
                **sh,
            },
        }
    )


def _items(sim: pricing.Simulation, segment: str) -> dict[str, float]:
    option = f"dedicated:{LAMBDA_H100}:flux-1-dev"
    rows = sim.line_items.filter(pl.col("segment") == segment, pl.col("option") == option)
    return dict(rows.select("item", "cost").iter_rows())


def test_two_segments_share_one_fleet_and_split_it_by_busy_time() -> None:
    # 10,000 + 30,000 images a month: at a 2.5x peak the two need 40,000 / (730 x 3600)
    # x 2.5 x 4.209 s = 0.16 of one GPU together, so one H100 serves both ($3,131.70 a
    # month), not one each. Team 0 has a quarter of the busy time, so a quarter of the fleet.
    sim = pricing.simulate(
        _workload([10_000, 30_000]), gpus=[LAMBDA_H100], modes=("dedicated",), as_of=AS_OF
    )
    fleet = MONTH_H * H100_HOUR
    for segment, images, share in (("team 0", 10_000, 0.25), ("team 1", 30_000, 0.75)):
        items = _items(sim, segment)
        busy = images * SECONDS / 3600 * H100_HOUR
        assert items["GPU busy"] == pytest.approx(busy, rel=1e-6)
        assert items["GPU busy"] + items["GPU idle"] == pytest.approx(fleet * share, rel=1e-9)
        assert items["licence"] == pytest.approx(1000 * share, rel=1e-9)
    month = sim.monthly.filter(pl.col("option").str.starts_with("dedicated:"))
    assert month["gpus"].to_list() == [1, 1]  # the one shared fleet, seen from each segment
    assert month["cost"].sum() == pytest.approx(fleet + 1000, rel=1e-9)
    shared = sim.options.filter(pl.col("segment") == "team 0")["shared_with"].to_list()
    assert shared == ["team 1"]
    how = sim.line_items.filter(pl.col("item") == "GPU idle")["allocation"].to_list()
    assert all("shared with" in h and "busy GPU time" in h for h in how)
    assert any("share one fleet" in n for n in sim.notes)


def test_redundancy_keeps_a_spare_instance_running_all_month() -> None:
    # N+1: the same fleet plus one spare H100 billed all month, shared like the rest.
    sim = pricing.simulate(
        _workload([10_000, 30_000], redundancy=1),
        gpus=[LAMBDA_H100],
        modes=("dedicated",),
        as_of=AS_OF,
    )
    spare = MONTH_H * H100_HOUR
    assert _items(sim, "team 0")["GPU spare (redundancy)"] == pytest.approx(spare * 0.25)
    assert _items(sim, "team 1")["GPU spare (redundancy)"] == pytest.approx(spare * 0.75)
    assert sim.monthly["gpus"].to_list() == [2, 2]
    # the spare is never "busy": cost per image without idle time leaves it out
    row = sim.monthly.filter(pl.col("segment") == "team 0").row(0, named=True)
    assert row["cost_per_image_busy"] == pytest.approx(
        (SECONDS / 3600 * H100_HOUR * 10_000 + 250) / 10_000, rel=1e-6
    )


def test_a_segment_keeps_its_own_fleet_when_sharing_would_break_its_target() -> None:
    # Team 1 wants 3 s at p95, below the 4.2 s an idle H100 needs: a shared fleet could never
    # meet it, so team 0 (30 s) keeps a fleet of its own and team 1 has no self-hosted price.
    sim = pricing.simulate(
        _workload([10_000, 30_000], targets=[30.0, 3.0]),
        gpus=[LAMBDA_H100],
        modes=("dedicated",),
        as_of=AS_OF,
    )
    items = _items(sim, "team 0")
    assert items["GPU busy"] + items["GPU idle"] == pytest.approx(MONTH_H * H100_HOUR)
    team1 = sim.monthly.filter(pl.col("segment") == "team 1").row(0, named=True)
    assert team1["feasible"] is False
    assert team1["cost"] is None
    assert "latency target" in team1["reason"]


def _split(parts: int, base: float, peak: float) -> Any:
    spec = pricing.load_workload("small").model_dump()
    spec["traffic"] = {"peak_to_mean": peak}
    whole = spec["segments"][0]
    spec["segments"] = [
        {**whole, "name": f"part {k}", "volume": {"base": base / parts, "growth": 0.0}}
        for k in range(parts)
    ]
    return pricing.Workload.model_validate(spec)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.integers(2, 4),
    base=st.floats(1_000, 3_000_000),
    peak=st.floats(1.0, 6.0),
)
def test_splitting_a_segment_never_raises_the_self_hosted_cost(
    parts: int, base: float, peak: float
) -> None:
    # The same images as one segment or as identical parts: one shared fleet, paid once,
    # in every deployment mode (the bound is one fleet-rounding step; sharing the
    # fleet makes it exact).
    gpus = [LAMBDA_H100, "runpod/h100-sxm-serverless"]

    def cost(wl: Any) -> dict[str, float]:
        sim = pricing.simulate(
            wl, modes=("dedicated", "autoscaled", "serverless"), gpus=gpus, as_of=AS_OF
        )
        own = sim.monthly.filter(pl.col("kind") == "self-hosted")
        totals = own.group_by("option").agg(pl.col("cost").sum(), pl.col("feasible").all())
        return {o: c for o, c, ok in totals.iter_rows() if ok}

    whole, split = cost(_split(1, base, peak)), cost(_split(parts, base, peak))
    assert whole.keys() == split.keys()
    assert whole  # at least one self-hosted option serves it
    for option, value in whole.items():
        assert split[option] == pytest.approx(value, rel=1e-9), option


def test_an_unknown_gpu_name_is_refused_with_the_closest_ones() -> None:
    # a typo would otherwise leave every self-hosted option out without a word
    with pytest.raises(pricing.PricingError, match=r"unknown GPU 'h100-sm'.*h100-sxm"):
        pricing.simulate("small", gpus=["h100-sm"], as_of=AS_OF)


def test_a_plan_that_buys_only_part_of_a_shared_fleet_says_so() -> None:
    # team 0 makes 4-step drafts and may also use FLUX.1 [schnell], hosted at $0.003 or less
    # (official prices), below a FLUX.1 [dev] share that pays $0.005 a licensed image over
    # 100,000; team 1 can only run FLUX.1 [dev] and at 3M images a month self-hosts it
    # (under DeepInfra's $0.01008 at 28 steps). Its share assumed team 0's traffic on its fleet.
    licence = {"monthly_fee": 1000, "included_images": 100000, "overage_per_image": 0.005}
    spec = _workload([2_000, 3_000_000], licence=licence).model_dump()
    spec["segments"][0]["models"] = ["flux-1-dev", "flux-1-schnell"]
    spec["segments"][0]["steps"] = 4
    sim = pricing.simulate(pricing.Workload.model_validate(spec), as_of=AS_OF)
    plan = dict(pricing.plan_options(sim).iter_rows())
    assert plan["team 0"].startswith("api:")
    assert not plan["team 1"].startswith("api:")
    from pricing._plan.summary import plan_notes

    notes = plan_notes(sim)
    assert len(notes) == 1
    assert notes[0].startswith(f"team 1: its plan, {plan['team 1']}, is a share of a fleet")
    assert "team 0" in notes[0]
