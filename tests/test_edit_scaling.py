"""FLUX.2 [dev] and FLUX.1 Kontext [dev] on our own GPUs (issue 17, item 2): sizes, input
images and steps as their reference pipelines run them, derived profiles that respect memory
and compute, and a reason wherever a segment still cannot be self-hosted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

import pricing

AS_OF = "2026-12-07"
#: data/throughput.toml, FLUX.1 [dev] on an H100, bf16 + torch.compile
#: (sayakpaul-diffusers-torchao): 4.209 s / 28 steps at 4,096 tokens; per-step time grows
#: as tokens ** 1.0806
FLUX1_STEP, EXPONENT = 0.150321, 1.0806
#: flux-step-flops: FLUX.1 [dev] 1.26e14 FLOP a step at 1024x1024, FLUX.2 [dev] 2.62e14
FLUX1_FLOP, FLUX2_FLOP = 1.26e14, 2.62e14


def test_kontext_runs_flux1_dev_over_the_output_and_input_tokens() -> None:
    # diffusers' FluxKontextPipeline: 28 steps by default, the input resized to ~1 MP (4,096
    # tokens) and concatenated with the output's 4,096 tokens at every step.
    seconds = pricing.seconds_per_image(
        "flux-1-kontext-dev", "h100-sxm", width=1024, height=1024, inputs=1
    )
    assert seconds == pytest.approx(FLUX1_STEP * 2**EXPONENT * 28, rel=1e-9)
    # 768x768 output (2,304 tokens) with one input
    small = pricing.seconds_per_image(
        "flux-1-kontext-dev", "h100-sxm", width=768, height=768, inputs=1
    )
    assert small == pytest.approx(FLUX1_STEP * ((2304 + 4096) / 4096) ** EXPONENT * 28)


def test_kontext_makes_at_most_one_megapixel() -> None:
    # the pipeline fits its output to max_area = 1024**2
    with pytest.raises(pricing.ThroughputUnknown, match=r"at most 1,048,576 px; 2048x2048"):
        pricing.seconds_per_image(
            "flux-1-kontext-dev", "h100-sxm", width=2048, height=2048, inputs=1
        )


def test_a_generation_profile_does_not_price_an_edit() -> None:
    with pytest.raises(pricing.ThroughputUnknown, match="no source says how input images"):
        pricing.seconds_per_image("flux-1-dev", "h100-sxm", width=1024, height=1024, inputs=1)


def test_flux2_dev_at_its_own_steps_and_flop_rate() -> None:
    # H200 BF16: FLUX.2's FLOPs a step at the rate FLUX.1 [dev] achieves there (1.26e14 FLOP in
    # 6.169 s / 28 steps), 50 steps (diffusers' Flux2Pipeline default)
    rate = FLUX1_FLOP * 28 / 6.169
    h200 = pricing.seconds_per_image("flux-2-dev", "h200", width=1024, height=1024)
    assert h200 == pytest.approx(FLUX2_FLOP / rate * 50, rel=1e-4)
    # B200 BF16 = 1.7x the H200 (NVIDIA, FLUX.2 [dev] at 50 steps)
    b200 = pricing.seconds_per_image("flux-2-dev", "b200", width=1024, height=1024)
    assert b200 == pytest.approx(h200 / 1.7, rel=1e-4)
    # within the dense BF16 peaks (989 and 2,250 TFLOP/s)
    assert FLUX2_FLOP * 50 / h200 < 989e12
    assert FLUX2_FLOP * 50 / b200 < 2250e12


def test_flux2_dev_needs_more_than_an_h100_in_bf16() -> None:
    # ~90 GB in BF16 does not fit 80 GB: on an H100 only the ~54 GB FP8 model, asked for
    assert not pricing.fits("flux-2-dev", "h100-sxm", "bf16")
    with pytest.raises(pricing.ThroughputUnknown, match="quantised"):
        pricing.seconds_per_image("flux-2-dev", "h100-sxm", width=1024, height=1024)
    fp8 = pricing.seconds_per_image(
        "flux-2-dev", "h100-sxm", width=1024, height=1024, precision="fp8-compiled"
    )
    assert fp8 == pytest.approx(FLUX2_FLOP / (FLUX1_FLOP / 0.108536) * 50, rel=1e-4)


def _edits(**segment: Any) -> Any:
    spec: dict[str, Any] = {
        "name": "edits",
        "start": "2027-01-01",
        "months": 1,
        "traffic": {"peak_to_mean": 2.0},
        "segments": [
            {
                "name": "restyle",
                "operation": "edit",
                "models": ["flux-1-kontext-dev", "flux-2-dev"],
                "volume": {"base": 100_000, "growth": 0.0},
                "resolutions": [{"width": 1024, "height": 1024, "share": 1.0}],
                "input_images": 1,
                "steps": 4,
                "model_steps": {"flux-1-kontext-dev": 28},
                "p95_latency_s": 120.0,
                **segment,
            }
        ],
        "self_hosting": {
            "gpus": ["h100-sxm", "h200"],
            "categories": ["on-demand"],
            "licence": {"monthly_fee": 1000, "included_images": 10**9},
        },
    }
    return pricing.Workload.model_validate(spec)


def test_each_model_runs_at_its_own_steps_in_a_segment() -> None:
    wl = _edits()
    seg = wl.segments[0]
    assert seg.steps_for("flux-1-kontext-dev") == 28
    assert seg.steps_for("flux-2-dev") == 4
    # a model the segment does not list is ignored (a preset with its models swapped keeps
    # working); a model id that does not exist is an error naming the closest ones
    assert _edits(model_steps={"flux-1-dev": 28}).segments[0].steps_for("flux-1-dev") == 28


def test_an_unknown_model_in_model_steps_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text(
        """name = "typo"
start = 2027-01-01
months = 1
[traffic]
peak_to_mean = 2.0
[[segments]]
name = "s"
operation = "generate"
models = ["flux-2-dev"]
model_steps = { "flux-2-devv" = 50 }
volume = { base = 1000, growth = 0.0 }
resolutions = [{ width = 1024, height = 1024, share = 1.0 }]
""",
        encoding="utf-8",
    )
    with pytest.raises(pricing.WorkloadError, match=r"unknown model 'flux-2-devv' in model_steps"):
        pricing.load_workload(path)


def test_edit_segments_get_self_hosted_edit_models() -> None:
    sim = pricing.simulate(_edits(), modes=("dedicated",), as_of=AS_OF)
    own = sim.options.filter(pl.col("kind") == "self-hosted")
    models = set(own["model"].to_list())
    assert models == {"flux-1-kontext-dev", "flux-2-dev"}  # Kontext on H100, FLUX.2 on H200
    assert set(own.filter(pl.col("model") == "flux-2-dev")["gpu"].to_list()) == {"h200"}


def test_a_segment_says_why_it_cannot_be_self_hosted() -> None:
    # 2048x2048 edits: Kontext [dev] cannot make them; FLUX.2 [dev] only on the H100 (listed)
    # at fp8, which the workload does not accept
    wl = _edits(resolutions=[{"width": 2048, "height": 2048, "share": 1.0}])
    spec = wl.model_dump()
    spec["self_hosting"]["gpus"] = ["h100-sxm"]
    sim = pricing.simulate(pricing.Workload.model_validate(spec), as_of=AS_OF)
    reason = sim.self_hosting_reason("restyle")
    assert reason is not None
    assert "flux-1-kontext-dev makes images of at most 1,048,576 px" in reason
    assert "flux-2-dev: profiled on b200, h200, none of which self_hosting.gpus lists" in reason
    assert "on h100-sxm only quantised" in reason


def test_a_segment_no_option_can_serve_says_so_instead_of_zero_percent() -> None:
    # 1 s at p95: no GPU makes a FLUX edit that fast
    sim = pricing.simulate(_edits(p95_latency_s=1.0), samples=10, seed=1, as_of=AS_OF)
    reason = sim.self_hosting_reason("restyle")
    assert reason is not None
    assert reason.startswith("with every input at its centre, none of its")
    assert "over the latency target" in reason
    assert sim.self_hosting_cheaper is not None
    assert sim.self_hosting_cheaper["probability"].null_count() == sim.self_hosting_cheaper.height


def test_l40s_fp8_follows_the_mlperf_l40s_to_h100_ratio() -> None:
    # MLPerf Inference v4.1, SDXL FP8 in TensorRT: 1.37 samples/s on 2 L40S, 16.35 on 8 H100
    ratio = (1.37 / 2) / (16.35 / 8)

    def fp8(gpu: str) -> float:
        return pricing.seconds_per_image(
            "flux-1-dev", gpu, width=1024, height=1024, precision="fp8-compiled"
        )

    assert fp8("l40s") == pytest.approx(fp8("h100-sxm") / ratio, rel=1e-4)


def test_break_even_stops_where_the_fleet_would_pass_the_sizing_limit() -> None:
    # FLUX.2 [dev] on a B200, four 2048x2048 images a call at a peak 6x the mean: 1e9 images
    # a month would need more than the 100,000 GPUs the queueing model sizes. The range ends
    # at 90% of it: 90,000 GPUs x 0.7 x 730 h x 3,600 s x 4 images / (seconds a call x 6).
    req = pricing.ImageRequest(model="flux-2-dev", width=2048, height=2048, count=4)
    terms = pricing.HostingTerms(licence_per_month=1000, max_utilisation=0.7, peak_to_mean=6.0)
    call = 4 * pricing.seconds_per_image("flux-2-dev", "b200", width=2048, height=2048)
    limit = 90_000 * 0.7 * 730 * 3600 * 4 / (call * 6)
    assert limit < 1e9
    even = pricing.break_even(req, "b200", 0.05, gpu_hour=6.0, hosting=terms)
    note = next(n for n in even.notes if n.startswith("range:"))
    assert f"up to {limit:,.0f} images a month" in note
    assert even.curve["images"].max() == pytest.approx(limit, abs=1)  # the grid is rounded
