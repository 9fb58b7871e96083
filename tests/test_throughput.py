"""Throughput profiles (data/throughput.toml) and licence terms (data/licences.toml).

Expected seconds are the published benchmark figures of price-facts C1-C3, or hand arithmetic
on them; tolerances are stated where a fitted line meets a published point.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing._gpus.gpus import load_gpus
from pricing._gpus.licences import ModelLicence, load_licences
from pricing._gpus.profiles import ThroughputData, ThroughputProfile, image_tokens, load_throughput
from pricing._gpus.throughput import fits, memory_need_gb, seconds_per_image, throughput_table
from pricing.errors import PriceNotFound, ProfileNotFound, RateCardError, ThroughputUnknown

DATA = load_throughput()
# profiles that scale with resolution to any size (Kontext [dev] stops at 1024x1024)
SCALABLE = [p for p in DATA.profiles if p.token_exponent is not None and p.max_pixels is None]


def spi(
    model: str, gpu: str, precision: str | None, w: int, h: int, steps: int, **kw: int
) -> float:
    return seconds_per_image(
        model, gpu, width=w, height=h, steps=steps, precision=precision, profiles=DATA, **kw
    )


# ----------------------------------------------------------------------------- bundled data


def test_bundled_profiles_load_and_cite_known_sources() -> None:
    sources = load_gpus().sources
    assert len(DATA.profiles) >= 15
    for p in DATA.profiles:
        cited = [*p.sources, *(x.source for x in p.points), *(b.source for b in p.batch)]
        cited += [m.source for m in p.memory_batch] + [p.memory_source or p.sources[0]]
        assert all(s in sources for s in cited), p.id
        assert p.gpu in DATA.gpus
        assert p.fit


def test_required_coverage() -> None:
    ids = {p.id for p in DATA.profiles}
    assert {
        "flux-1-dev/h100-sxm/bf16",
        "flux-1-dev/h100-sxm/bf16-compiled",
        "flux-1-dev/h100-sxm/fp8-compiled",
        "flux-1-dev/a100-80gb/bf16",
        "flux-1-dev/l40s/bf16",
        "flux-1-dev/l20/bf16",
        "flux-1-schnell/rtx-4090/fp16",
        "flux-1-schnell/rtx-4090/fp8",
        "flux-1-schnell/h100-pcie/bf16",
        "flux-1-schnell/a100-80gb/bf16",
        "flux-1-dev/h200/bf16",
        "sdxl/a100-80gb/bf16",
        "sdxl/a100-80gb/bf16-compiled",
    } <= ids


def test_image_tokens() -> None:
    # price-facts C3: 1024^2 = 4,096 tokens; 2048^2 = 16,384
    assert image_tokens(1024, 1024) == 4096
    assert image_tokens(2048, 2048) == 16384
    assert image_tokens(1000, 1000) == 63 * 63
    with pytest.raises(ValueError, match="positive"):
        image_tokens(0, 512)


# ----------------------------------------------------------------------------- published points

PUBLISHED = [  # model, gpu, precision, width, height, steps, seconds (price-facts C1), tolerance
    ("flux-1-dev", "h100-sxm", "bf16", 1024, 1024, 28, 6.573, 0.01),
    ("flux-1-dev", "h100-sxm", "bf16-compiled", 1024, 1024, 28, 4.209, 0.01),
    ("flux-1-dev", "h100-sxm", "fp8-compiled", 1024, 1024, 28, 3.039, 0.01),
    ("flux-1-dev", "a100-80gb", "bf16", 1024, 1024, 28, 15.65, 0.01),
    ("flux-1-dev", "l40s", "bf16", 1024, 1024, 28, 16.0, 0.01),  # TheStage card
    ("flux-1-dev", "b200", "bf16", 1024, 1024, 28, 4.4, 0.01),  # TheStage card
    ("flux-1-dev", "l20", "bf16", 1024, 1024, 28, 24.94, 0.01),
    ("flux-1-dev", "l20", "fp8-compiled", 1024, 1024, 28, 13.26, 0.01),
    ("flux-1-schnell", "rtx-4090", "fp16", 1024, 1024, 1, 0.85, 0.03),
    ("flux-1-schnell", "rtx-4090", "fp16", 1024, 1024, 4, 2.60, 0.03),
    ("flux-1-schnell", "rtx-4090", "fp16", 1024, 1024, 8, 4.95, 0.03),
    ("flux-1-schnell", "rtx-4090", "fp8", 1024, 1024, 4, 1.80, 0.03),
    ("flux-1-schnell", "rtx-4090", "fp8", 1024, 1024, 8, 3.40, 0.03),
    ("flux-1-schnell", "h100-pcie", "bf16", 1024, 1024, 4, 1.536, 0.01),
    ("flux-1-schnell", "a100-80gb", "bf16", 2048, 2048, 4, 10.0, 0.01),
    ("flux-1-schnell", "h100-sxm", "fp8-compiled", 1024, 1024, 4, 0.72, 0.01),
    ("flux-1-schnell", "h100-sxm", "fp8-compiled", 512, 512, 4, 0.29, 0.01),
    ("sdxl", "h100-sxm", "fp8-compiled", 1024, 1024, 20, 8 / 18.10, 0.001),  # MLPerf v5.1
    ("sdxl", "l4", "fp8-compiled", 1024, 1024, 20, 4 / 1.006, 0.001),  # MLPerf v5.1
    ("sdxl", "a100-80gb", "bf16", 1024, 1024, 30, 3.31, 0.01),
    ("sdxl", "a100-80gb", "bf16-compiled", 1024, 1024, 30, 2.54, 0.01),
]


@pytest.mark.parametrize(
    ("model", "gpu", "precision", "w", "h", "steps", "seconds", "tol"), PUBLISHED
)
def test_fits_reproduce_published_points(
    model: str, gpu: str, precision: str, w: int, h: int, steps: int, seconds: float, tol: float
) -> None:
    assert spi(model, gpu, precision, w, h, steps) == pytest.approx(seconds, abs=tol)


@pytest.mark.parametrize("profile", DATA.profiles, ids=lambda p: p.id)
def test_every_fitted_point_within_2_percent_or_30_ms(profile: ThroughputProfile) -> None:
    for x in profile.points:
        got = profile.seconds(x.width, x.height, x.steps)
        if x.used_in_fit:
            assert got == pytest.approx(float(x.seconds), rel=0.02, abs=0.03), x
        else:  # other sources' figures of the same set-up: cross-checks within 10%
            assert got == pytest.approx(float(x.seconds), rel=0.10), x


def test_resolution_exponent_matches_the_a100_figures() -> None:
    # C3: schnell 2048^2 / 4 steps ~10 s (2.5 s/step) vs dev 1024^2 15.65 s / 28 steps on an
    # A100, so dev at 2048^2 costs 2.5 s per step: 70 s at 28 steps; "4x the pixels ~4.5x".
    assert spi("flux-1-dev", "a100-80gb", "bf16", 2048, 2048, 28) == pytest.approx(70.0, abs=0.01)
    p = next(p for p in DATA.profiles if p.id == "flux-1-dev/h100-sxm/bf16")
    assert p.step_seconds(16384) / p.step_seconds(4096) == pytest.approx(4.5, abs=0.05)


def test_batching_uses_the_published_batch_timings() -> None:
    # sayakpaul: bf16 eager batch 4 = 24.83 s, batch 16 = 97.55 s; compiled batch 8 = 31.69 s
    assert spi("flux-1-dev", "h100-sxm", "bf16", 1024, 1024, 28, batch=4) == pytest.approx(
        24.83 / 4, abs=0.01
    )
    assert spi("flux-1-dev", "h100-sxm", "bf16-compiled", 1024, 1024, 28, batch=8) == pytest.approx(
        31.69 / 8, abs=0.01
    )
    beyond = spi("flux-1-dev", "h100-sxm", "bf16", 1024, 1024, 28, batch=64)
    assert beyond == pytest.approx(97.55 / 16, abs=0.01)  # held at the last measured size
    b1, b2, b4 = (spi("flux-1-dev", "h100-sxm", "bf16", 1024, 1024, 28, batch=b) for b in (1, 2, 4))
    assert b1 > b2 > b4
    # no batch timings: no gain assumed
    assert spi("flux-1-dev", "a100-80gb", "bf16", 1024, 1024, 28, batch=8) == pytest.approx(15.65)


def test_fastest_lossless_precision_when_none_given() -> None:
    # The published weights only: bf16 + torch.compile, 4.21 s (sayakpaul/diffusers-torchao);
    # the fp8 profile (3.04 s) changes the images and is used only when named.
    fastest = spi("flux-1-dev", "h100-sxm", None, 1024, 1024, 28)
    assert fastest == pytest.approx(4.21, abs=0.01)
    assert spi("flux-1-dev", "h100-sxm", "fp8-compiled", 1024, 1024, 28) == pytest.approx(
        3.039, abs=0.01
    )
    assert seconds_per_image(
        "flux-1-schnell", "rtx-4090", width=1024, height=1024, profiles=DATA
    ) == pytest.approx(2.60, abs=0.03)  # default 4 steps, fp16 (gigagpu), not its fp8 1.80 s


def test_missing_profile_lists_what_exists() -> None:
    with pytest.raises(ProfileNotFound, match=r"flux-1-dev on t4; profiles exist for: .*h100-sxm"):
        spi("flux-1-dev", "t4", None, 1024, 1024, 28)
    with pytest.raises(ProfileNotFound, match=r"at fp4; precisions profiled there: bf16"):
        spi("flux-1-dev", "h100-sxm", "fp4", 1024, 1024, 28)


def test_profile_without_exponent_prices_its_reference_size_only() -> None:
    with pytest.raises(ThroughputUnknown, match="no basis for scaling"):
        spi("sdxl", "a100-80gb", "bf16", 768, 768, 30)
    assert spi("sdxl", "a100-80gb", "bf16", 1024, 1024, 15) == pytest.approx(3.31 / 2, abs=0.01)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="batch"):
        spi("flux-1-dev", "h100-sxm", "bf16", 1024, 1024, 28, batch=0)
    with pytest.raises(ValueError, match="steps"):
        spi("flux-1-dev", "h100-sxm", "bf16", 1024, 1024, 0)


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(0, len(SCALABLE) - 1),
    w=st.integers(64, 2048),
    h=st.integers(64, 2048),
    dw=st.integers(0, 1024),
    steps=st.integers(1, 60),
    ds=st.integers(0, 20),
)
def test_time_grows_with_resolution_and_steps(
    index: int, w: int, h: int, dw: int, steps: int, ds: int
) -> None:
    p = SCALABLE[index]
    t = p.seconds(w, h, steps)
    assert t > 0
    assert p.seconds(w + dw, h, steps) >= t
    assert p.seconds(w, h + dw, steps) >= t
    assert p.seconds(w, h, steps + ds) >= t


# ----------------------------------------------------------------------------- memory


def test_flux_dev_bf16_does_not_fit_24_gb() -> None:
    # C2: ~33.9 GB peak at 1024^2 batch 1; RTX 4090 and A10G have 24 GB (B3, B1)
    assert memory_need_gb("flux-1-dev", "bf16", profiles=DATA) == pytest.approx(33.85)
    assert not fits("flux-1-dev", "rtx-4090", "bf16", profiles=DATA)
    assert not fits("flux-1-dev", "a10g", "bf16", profiles=DATA)
    assert fits("flux-1-dev", "h100-sxm", "bf16", profiles=DATA)
    assert fits("flux-1-dev", "a100-80gb", "bf16", profiles=DATA)  # need from the H100 profile


def test_memory_grows_with_batch_from_the_c2_figures() -> None:
    # 33.9 -> 39.5 -> 47.5 -> 61.5 GB at batch 1 / 4 / 8 / 16
    assert memory_need_gb("flux-1-dev", "bf16", 8, DATA) == pytest.approx(47.5)
    assert memory_need_gb("flux-1-dev", "bf16", 6, DATA) == pytest.approx((39.5 + 47.5) / 2)
    # beyond 16: the last segment's 14 GB / 8 images = 1.75 GB per image
    assert memory_need_gb("flux-1-dev", "bf16", 32, DATA) == pytest.approx(61.5 + 16 * 1.75)
    assert fits("flux-1-dev", "h100-sxm", "bf16", 16, profiles=DATA)  # 61.5 <= 80
    assert not fits("flux-1-dev", "h100-sxm", "bf16", 32, profiles=DATA)  # 89.5 > 80


def test_schnell_fp8_fits_a_4090() -> None:
    assert fits("flux-1-schnell", "rtx-4090", "fp8", profiles=DATA)  # ~12 GB (gigagpu)
    assert fits("flux-1-schnell", "rtx-4090", "fp16", profiles=DATA)  # ~22 GB


def test_unknown_memory_is_not_guessed() -> None:
    assert fits("sdxl", "l4", "fp8-compiled", profiles=DATA)  # measured run at batch 1 (MLPerf)
    with pytest.raises(ThroughputUnknown, match="not in the sources"):
        fits("flux-1-schnell", "l40s", "bf16", profiles=DATA)
    with pytest.raises(ThroughputUnknown, match="batch 1 only"):
        fits("flux-1-dev", "h100-sxm", "fp8-compiled", 2, profiles=DATA)


def test_throughput_table() -> None:
    table = throughput_table(DATA)
    assert table.height == len(DATA.profiles)
    assert table.schema["seconds_1024"] == pl.Float64
    row = table.filter(pl.col("profile_id") == "flux-1-dev/h100-sxm/bf16").row(0, named=True)
    assert row["seconds_1024"] == pytest.approx(6.573, abs=0.001)
    assert row["memory_gb"] == pytest.approx(33.85)
    sdxl = table.filter(pl.col("model") == "sdxl")
    assert sdxl["token_exponent"].null_count() == sdxl.height


# ----------------------------------------------------------------------------- licences


def test_flux_dev_needs_a_licence_whose_fee_is_unknown() -> None:
    licences = load_licences()
    dev = licences["flux-1-dev"]
    assert dev.free_commercial_use is False
    assert dev.fee_known is False
    with pytest.raises(PriceNotFound, match="paid commercial licence"):
        dev.monthly_cost(1000)
    sources = load_gpus().sources
    for lic in licences.values():
        assert all(s in sources for s in lic.sources)
        assert lic.monthly_fee is None  # no source gives a fee


def test_licence_cost_by_hand() -> None:
    lic = ModelLicence(
        model="m",
        free_commercial_use=False,
        fee_known=True,
        monthly_fee=Decimal(1000),
        included_images=1000,
        overage_per_image=Decimal("0.01"),
        sources=["s"],
    )
    assert lic.monthly_cost(1000) == Decimal(1000)
    assert lic.monthly_cost(1001) == Decimal("1000.01")  # one image over the allowance
    assert lic.monthly_cost(3000) == Decimal(1000) + 2000 * Decimal("0.01")
    free = ModelLicence(model="m", free_commercial_use=True, fee_known=True, sources=["s"])
    assert free.monthly_cost(10**6) == 0


def test_licence_fees_need_fee_known() -> None:
    with pytest.raises(ValueError, match="fee_known"):
        ModelLicence(model="m", fee_known=False, monthly_fee=Decimal(10), sources=["s"])


# ----------------------------------------------------------------------------- bad files

SOURCES = '[[source]]\nid = "src"\ntitle = "T"\npublisher = "P"\nkind = "seed"\nseen = 2026-01-01\n'
MODELS = """\
[[model]]
id = "m"
name = "M"
vendor = "V"
open_weights = true
operations = ["generate"]

[[model]]
id = "closed"
name = "C"
vendor = "V"
open_weights = false
operations = ["generate"]
"""
GPUS = '#:schema ../schema/gpus.json\n[[gpu]]\nid = "g"\nname = "G"\n'
PROFILE = """\
#:schema schema/throughput.json
[[profile]]
model = "m"
gpu = "g"
precision = "bf16"
overhead_s = 0.5
step_s = 0.25
ref_tokens = 4096
token_exponent = 1.0
default_steps = 4
sources = ["src"]
confidence = "low"
fit = "test"
points = [
  { width = 1024, height = 1024, steps = 4, seconds = 1.5, source = "src", used_in_fit = true },
]
"""
LICENCES = """\
#:schema schema/licences.json
[[licence]]
model = "m"
fee_known = false
sources = ["src"]
"""


def write_data(root: Path, *, throughput: str = PROFILE, licences: str = LICENCES) -> Path:
    (root / "gpus").mkdir(parents=True, exist_ok=True)
    (root / "sources.toml").write_text(SOURCES, encoding="utf-8")
    (root / "models.toml").write_text(MODELS, encoding="utf-8")
    (root / "gpus" / "gpus.toml").write_text(GPUS, encoding="utf-8")
    (root / "throughput.toml").write_text(throughput, encoding="utf-8")
    (root / "licences.toml").write_text(licences, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[tuple[str, str | None, str | None, str]]:
    with pytest.raises(RateCardError) as info:
        load_throughput(root)
    return [(p.file, p.offer, p.field, p.message) for p in info.value.problems]


def test_synthetic_profile_by_hand(tmp_path: Path) -> None:
    data = load_throughput(write_data(tmp_path))
    # 0.5 + 0.25 x (16384 / 4096)^1 x 4 steps
    assert seconds_per_image("m", "g", width=2048, height=2048, profiles=data) == pytest.approx(
        0.5 + 0.25 * 4 * 4
    )
    assert isinstance(data, ThroughputData)


def test_unknown_gpu_and_model_name_the_profile(tmp_path: Path) -> None:
    bad = PROFILE.replace('gpu = "g"', 'gpu = "t4"').replace('model = "m"', 'model = "x"')
    write_data(tmp_path, throughput=bad)
    found = {(f, e, fld) for f, e, fld, _ in problems_of(tmp_path)}
    assert found == {
        ("data/throughput.toml", "x/t4/bf16", "gpu"),
        ("data/throughput.toml", "x/t4/bf16", "model"),
    }


def test_negative_step_and_unknown_point_source(tmp_path: Path) -> None:
    write_data(tmp_path, throughput=PROFILE.replace("step_s = 0.25", "step_s = -0.25"))
    [(file, entry, field, _)] = problems_of(tmp_path)
    assert (file, entry, field) == ("data/throughput.toml", "m/g/bf16", "step_s")
    write_data(tmp_path, throughput=PROFILE.replace('source = "src"', 'source = "blog"'))
    [(_, entry, field, message)] = problems_of(tmp_path)
    assert (entry, field) == ("m/g/bf16", "points[0].source")
    assert "blog" in message


def test_a_profile_needs_a_fitted_point(tmp_path: Path) -> None:
    write_data(tmp_path, throughput=PROFILE.replace("used_in_fit = true", "used_in_fit = false"))
    [(_, entry, _, message)] = problems_of(tmp_path)
    assert entry == "m/g/bf16"
    assert "used_in_fit" in message


def test_duplicate_profile(tmp_path: Path) -> None:
    write_data(tmp_path, throughput=PROFILE + PROFILE.split("\n", 1)[1])
    [(_, entry, _, message)] = problems_of(tmp_path)
    assert entry == "m/g/bf16"
    assert message.startswith("duplicate")


def test_licence_for_a_closed_model_is_refused(tmp_path: Path) -> None:
    write_data(tmp_path, licences=LICENCES.replace('"m"', '"closed"'))
    with pytest.raises(RateCardError) as info:
        load_licences(tmp_path)
    [p] = info.value.problems
    assert (p.file, p.offer, p.field) == ("data/licences.toml", "closed", "model")
    assert "open weights" in p.message


def test_licence_schema_line_is_checked(tmp_path: Path) -> None:
    write_data(tmp_path, licences=LICENCES.split("\n", 1)[1])
    with pytest.raises(RateCardError, match="line 1"):
        load_licences(tmp_path)
