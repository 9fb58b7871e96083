"""Workloads: bundled examples, demand tables, traffic shapes, uncertain inputs, bad files.

Expected numbers are worked out by hand from the inputs written in each test. Files with
problems are written to ``tmp_path`` and checked against a small synthetic catalog (models
``m``: generate/edit/inpaint/upscale and ``n``: generate only, from ``conftest.MODELS``).
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

import pricing
from pricing._workloads.demand import PEAK_HOUR_UTC, monthly_demand, peak_to_mean, traffic_profile
from pricing._workloads.distributions import LogNormal, Normal, SourcesRange, Triangular, Uniform
from pricing._workloads.inputs import uncertain_inputs, with_values
from pricing._workloads.load import (
    DEFAULT_WORKLOAD,
    SCHEMA_LINE,
    list_workloads,
    load_workload,
    workloads_dir,
)
from pricing._workloads.model import Traffic, central
from pricing.errors import WorkloadError
from tests.conftest import CatalogBuilder, offer, version

BUNDLED = list_workloads()

GOOD = """\
name = "Test"
currency = "USD"
start = 2027-01-01
months = 3

[traffic]
peak_to_mean = 2.0

[[segments]]
name = "product edits"
operation = "edit"
models = ["m"]
volume = { base = 200000, growth = 0.03 }
images_per_request = 2
resolutions = [
  { width = 1024, height = 1024, share = 0.7 },
  { width = 2048, height = 2048, share = 0.3 },
]
steps = 28
input_images = 1
quality = "medium"
p95_latency_s = 30.0

[[segments]]
name = "shots"
operation = "generate"
models = ["m", "n"]
volume = { series = [100, 200, 300] }
resolutions = [{ width = 512, height = 768, share = 1.0 }]
"""


@pytest.fixture
def catalog(build: CatalogBuilder) -> pricing.Catalog:
    return build(offer(version('{ unit = "image", price = 0.04 }')))


def write(tmp_path: Path, text: str, name: str = "w.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(*pairs: tuple[str, str]) -> str:
    """GOOD with each (old, new) replacement applied; every ``old`` must be present once."""
    text = GOOD
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def problems_of(tmp_path: Path, text: str, catalog: pricing.Catalog) -> WorkloadError:
    with pytest.raises(WorkloadError) as info:
        load_workload(write(tmp_path, text), catalog)
    return info.value


def json_ready(value: Any) -> Any:
    """TOML values as JSON would carry them (exact decimals become numbers, dates strings)."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_ready(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- bundled


def test_bundled_workloads_are_present() -> None:
    expected = {"ecommerce", "agency", "consumer-app", "small", "medium", "large"}
    assert expected <= set(BUNDLED)
    assert DEFAULT_WORKLOAD == "ecommerce"
    assert load_workload().name == load_workload("ecommerce").name


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_workload_loads_and_matches_schema(name: str) -> None:
    path = workloads_dir() / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == SCHEMA_LINE
    raw = tomllib.loads(text, parse_float=Decimal)
    jsonschema.validate(json_ready(raw), json.loads(pricing.schema_documents()["workload.json"]))
    workload = load_workload(name)
    demand = monthly_demand(workload)
    rows = workload.months * sum(len(s.resolutions) for s in workload.segments)
    assert demand.height == rows
    assert (demand["images"] >= 0).all()


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_segments_can_be_self_hosted(name: str) -> None:
    models = pricing.load_catalog().models
    for seg in load_workload(name).segments:
        assert any(models[m].open_weights for m in seg.models), f"{seg.name}: none to self-host"


def test_preset_volumes() -> None:
    for name, images in (("small", 10_000), ("medium", 250_000), ("large", 5_000_000)):
        demand = monthly_demand(load_workload(name))
        assert demand["images"].to_list() == [images] * 12
        assert set(zip(demand["width"], demand["height"], strict=True)) == {(1024, 1024)}


# --------------------------------------------------------------------------- demand


def test_monthly_demand_by_hand(tmp_path: Path, catalog: pricing.Catalog) -> None:
    workload = load_workload(write(tmp_path, GOOD), catalog)
    demand = monthly_demand(workload)
    assert demand.columns == [
        "month",
        "segment",
        "operation",
        "width",
        "height",
        "share",
        "images",
        "images_per_request",
        "requests",
        "steps",
        "input_images",
        "quality",
        "p95_latency_s",
    ]
    assert demand.height == 3 * (2 + 1)
    assert demand["month"].unique().sort().to_list() == [
        date(2027, 1, 1),
        date(2027, 2, 1),
        date(2027, 3, 1),
    ]
    march = demand.filter(month=date(2027, 3, 1), segment="product edits", width=1024).row(
        0, named=True
    )
    images = 200_000 * 1.03**2 * 0.7
    assert march["images"] == pytest.approx(images, rel=1e-12)
    assert march["requests"] == pytest.approx(images / 2, rel=1e-12)
    assert march["share"] == 0.7
    assert (march["operation"], march["steps"], march["input_images"]) == ("edit", 28, 1)
    assert (march["quality"], march["p95_latency_s"]) == ("medium", 30.0)
    big = demand.filter(month=date(2027, 1, 1), segment="product edits", width=2048)
    assert big["images"].item() == pytest.approx(60_000)


def test_series_form(tmp_path: Path, catalog: pricing.Catalog) -> None:
    demand = monthly_demand(load_workload(write(tmp_path, GOOD), catalog))
    shots = demand.filter(segment="shots").sort("month")
    assert shots["images"].to_list() == [100.0, 200.0, 300.0]
    assert shots["requests"].to_list() == [100.0, 200.0, 300.0]  # one image per request
    assert shots["steps"].null_count() == 3
    assert shots["p95_latency_s"].null_count() == 3
    assert (shots["width"].item(0), shots["height"].item(0)) == (512, 768)


def test_distributions_enter_demand_at_their_centre(
    tmp_path: Path, catalog: pricing.Catalog
) -> None:
    text = edited(
        (
            "volume = { base = 200000, growth = 0.03 }",
            'volume = { base = { dist = "triangular", low = 1000, mode = 2000, high = 5000 }, '
            'growth = { dist = "uniform", low = 0.0, high = 0.2 } }',
        ),
        (
            "volume = { series = [100, 200, 300] }",
            'volume = { series = [100, { dist = "lognormal", median = 50, sigma = 0.5 }, 300] }',
        ),
    )
    demand = monthly_demand(load_workload(write(tmp_path, text), catalog))
    edits = demand.filter(segment="product edits", width=1024).sort("month")
    assert edits["images"].to_list() == pytest.approx([2000 * 0.7 * 1.1**i for i in range(3)])
    assert demand.filter(segment="shots")["images"].to_list() == [100.0, 50.0, 300.0]


def test_central_values() -> None:
    assert central(3) == 3.0
    assert central(Triangular(dist="triangular", low=1, mode=2, high=9)) == 2
    assert central(Uniform(dist="uniform", low=1, high=9)) == 5
    assert central(Normal(dist="normal", mean=4, sd=1)) == 4
    assert central(Normal(dist="normal", mean=4, sd=1, low=5)) == 5  # kept within its bounds
    assert central(LogNormal(dist="lognormal", median=7, sigma=0.3)) == 7
    with pytest.raises(pricing.PricingError, match="only applies to prices"):
        central(SourcesRange(dist="sources"))


# --------------------------------------------------------------------------- traffic


def test_peak_to_mean_of_hand_made_profile() -> None:
    hourly = [1.0] * 24
    hourly[7] = 4.0
    traffic = Traffic(hourly=hourly, weekday=[1.0] * 7)
    profile = traffic_profile(traffic)
    assert profile.shape == (168,)
    assert profile.mean() == pytest.approx(1.0)
    assert peak_to_mean(traffic) == pytest.approx(4 / (27 / 24))
    assert int(np.argmax(profile)) == 7  # Monday 07:00 UTC comes first
    assert profile[7] == profile[24 * 6 + 7]  # flat weekdays: every day the same


def test_weekday_factors_shape_the_week() -> None:
    hourly = [1.0] * 24
    hourly[7] = 4.0
    weekday = [1.0] * 6 + [2.0]  # Sunday twice as busy
    traffic = Traffic(hourly=hourly, weekday=weekday)
    profile = traffic_profile(traffic)
    # mean of an outer product = mean(weekday) * mean(hourly)
    assert peak_to_mean(traffic) == pytest.approx((2 * 4) / ((8 / 7) * (27 / 24)))
    assert int(np.argmax(profile)) == 6 * 24 + 7
    assert Traffic(hourly=hourly) == Traffic(hourly=hourly)  # weekday is optional
    assert peak_to_mean(Traffic(hourly=hourly)) == pytest.approx(4 / (27 / 24))


@pytest.mark.parametrize("ratio", [1.0, 1.02, 1.5, 3.0, 10.0, 23.9, 24.0])
def test_profile_from_a_bare_ratio(ratio: float) -> None:
    traffic = Traffic(peak_to_mean=ratio)
    profile = traffic_profile(traffic)
    assert profile.shape == (168,)
    assert profile.mean() == pytest.approx(1.0)
    assert profile.max() == pytest.approx(ratio, rel=1e-9)
    assert peak_to_mean(traffic) == ratio
    if ratio > 1:
        assert int(np.argmax(profile)) == PEAK_HOUR_UTC


def test_segment_traffic_overrides_the_workload(tmp_path: Path, catalog: pricing.Catalog) -> None:
    text = GOOD + "traffic = { peak_to_mean = 5.0 }\n"  # appended to the last segment
    workload = load_workload(write(tmp_path, text), catalog)
    edits, shots = workload.segments
    assert peak_to_mean(workload.traffic_of(edits)) == 2.0
    assert peak_to_mean(workload.traffic_of(shots)) == 5.0


# --------------------------------------------------------------------------- uncertainty

UNCERTAIN = edited(
    (
        "peak_to_mean = 2.0",
        'peak_to_mean = { dist = "triangular", low = 1.5, mode = 2.0, high = 3.0 }',
    ),
    (
        "volume = { base = 200000, growth = 0.03 }",
        'volume = { base = { dist = "triangular", low = 150000, mode = 200000, high = 300000 }, '
        "growth = 0.03 }",
    ),
    ("p95_latency_s = 30.0", 'p95_latency_s = { dist = "uniform", low = 20, high = 40 }'),
    (
        "volume = { series = [100, 200, 300] }",
        'volume = { series = [100, { dist = "normal", mean = 200, sd = 20, low = 0 }, 300] }',
    ),
) + (
    "\n[self_hosting]\n"
    'ops_hourly_rate = { dist = "lognormal", median = 120, sigma = 0.2 }\n'
    "ops_hours_per_month = 20\n"
)


def test_uncertain_inputs_are_found_with_labels(tmp_path: Path, catalog: pricing.Catalog) -> None:
    workload = load_workload(write(tmp_path, UNCERTAIN), catalog)
    found = {u.path: u for u in uncertain_inputs(workload)}
    assert {path: u.label for path, u in found.items()} == {
        ("traffic", "peak_to_mean"): "traffic: peak_to_mean",
        ("segments", 0, "volume", "base"): "product edits: volume.base",
        ("segments", 0, "p95_latency_s"): "product edits: p95_latency_s",
        ("segments", 1, "volume", "series", 1): "shots: volume.series[1]",
        ("self_hosting", "ops_hourly_rate"): "self_hosting: ops_hourly_rate",
    }
    base = found[("segments", 0, "volume", "base")]
    assert base.distribution == Triangular(dist="triangular", low=150000, mode=200000, high=300000)
    assert base.central == 200000
    assert found[("self_hosting", "ops_hourly_rate")].central == 120


def test_with_values_replaces_exactly_those(tmp_path: Path, catalog: pricing.Catalog) -> None:
    workload = load_workload(write(tmp_path, UNCERTAIN), catalog)
    base = ("segments", 0, "volume", "base")
    rate = ("self_hosting", "ops_hourly_rate")
    scenario = with_values(workload, {base: 250_000, rate: 150.0})
    assert scenario.segments[0].volume.base == 250_000.0
    assert scenario.self_hosting is not None
    assert scenario.self_hosting.ops_hourly_rate == 150.0
    remaining = {u.path for u in uncertain_inputs(scenario)}
    assert remaining == {u.path for u in uncertain_inputs(workload)} - {base, rate}
    # everything else is unchanged, and the original is untouched
    assert scenario.model_copy(update={"segments": workload.segments}).traffic == workload.traffic
    assert scenario.segments[1] == workload.segments[1]
    assert scenario.segments[0].p95_latency_s == workload.segments[0].p95_latency_s
    assert workload.segments[0].volume.base == Triangular(
        dist="triangular", low=150000, mode=200000, high=300000
    )
    images = monthly_demand(scenario).filter(segment="product edits", width=1024)["images"]
    assert images.item(0) == pytest.approx(250_000 * 0.7)


def test_with_values_rejects_unknown_paths_and_bad_values(
    tmp_path: Path, catalog: pricing.Catalog
) -> None:
    workload = load_workload(write(tmp_path, UNCERTAIN), catalog)
    with pytest.raises(pricing.PricingError, match="no workload input at"):
        with_values(workload, {("segments", 5, "volume", "base"): 1.0})
    with pytest.raises(WorkloadError, match=r"volume\.base.*at least 0"):
        with_values(workload, {("segments", 0, "volume", "base"): -1.0})


# --------------------------------------------------------------------------- bad files


def test_missing_field(tmp_path: Path, catalog: pricing.Catalog) -> None:
    err = problems_of(
        tmp_path, edited(("months = 3\n", ""), ('operation = "generate"\n', "")), catalog
    )
    text = str(err)
    assert str(tmp_path / "w.toml") in text
    assert "field `months`" in text
    assert "add `months`" in text
    assert "segment 'shots' (segments[1]): field `operation`" in text
    assert "add `operation`" in text


def test_bad_share_sum(tmp_path: Path, catalog: pricing.Catalog) -> None:
    err = problems_of(tmp_path, edited(("share = 0.3", "share = 0.2")), catalog)
    assert len(err.problems) == 1
    problem = err.problems[0]
    assert (problem.segment, problem.segment_index, problem.field) == (
        "product edits",
        0,
        "resolutions",
    )
    assert "shares sum to 0.9, not 1" in problem.message
    assert "add up to 1" in problem.fix


def test_unknown_model_and_unsupported_operation(tmp_path: Path, catalog: pricing.Catalog) -> None:
    text = edited(('models = ["m"]', 'models = ["m", "mm", "n"]'))
    err = problems_of(tmp_path, text, catalog)
    by_field = {p.field: p for p in err.problems}
    assert set(by_field) == {"models[1]", "models[2]"}
    assert by_field["models[1]"].message == "unknown model 'mm'"
    assert "did you mean m" in by_field["models[1]"].fix
    assert "does not do 'edit'" in by_field["models[2]"].message
    assert "segment 'product edits' (segments[0]): field `models[2]`" in str(err)


def test_negative_volume(tmp_path: Path, catalog: pricing.Catalog) -> None:
    err = problems_of(tmp_path, edited(("base = 200000", "base = -5")), catalog)
    (problem,) = err.problems
    assert problem.field == "volume.base"
    assert problem.segment == "product edits"
    assert "must be at least 0 (got -5)" in problem.message
    assert "make it at least 0" in problem.fix


def test_negative_distribution_low_is_rejected(tmp_path: Path, catalog: pricing.Catalog) -> None:
    text = edited(("base = 200000", 'base = { dist = "triangular", low = -1, mode = 5, high = 9 }'))
    (problem,) = problems_of(tmp_path, text, catalog).problems
    assert "values from -1 to 9" in problem.message


def test_wrong_series_length(tmp_path: Path, catalog: pricing.Catalog) -> None:
    err = problems_of(tmp_path, edited(("series = [100, 200, 300]", "series = [1, 2]")), catalog)
    (problem,) = err.problems
    assert (problem.segment, problem.field) == ("shots", "volume.series")
    assert "series has 2 value(s) but months = 3" in problem.message
    assert "exactly 3 values" in problem.fix


def test_unknown_distribution_kind(tmp_path: Path, catalog: pricing.Catalog) -> None:
    text = edited(("base = 200000", 'base = { dist = "beta", a = 2, b = 5 }'))
    (problem,) = problems_of(tmp_path, text, catalog).problems  # no noise from the float branch
    assert problem.field == "volume.base"
    assert problem.message == "unknown distribution 'beta'"
    assert "uniform, triangular, normal, lognormal" in problem.fix


def test_sources_distribution_is_for_prices_only(tmp_path: Path, catalog: pricing.Catalog) -> None:
    text = edited(("base = 200000", 'base = { dist = "sources" }'))
    (problem,) = problems_of(tmp_path, text, catalog).problems
    assert "only applies to prices" in problem.message
    assert "no range of sources" in problem.message  # why
    assert problem.field == "volume.base"
    assert 'prices = { dist = "sources" }' in problem.fix  # where it is allowed


def test_sources_distribution_on_prices_is_not_a_workload_input(
    tmp_path: Path, catalog: pricing.Catalog
) -> None:
    text = 'prices = { dist = "sources" }\n' + edited(
        ("base = 200000", 'base = { dist = "uniform", low = 1, high = 3 }')
    )
    workload = load_workload(write(tmp_path, text), catalog)
    assert workload.prices == SourcesRange(dist="sources")
    # the catalog's prices are sampled by simulate(), not a number of the workload
    assert [u.path for u in uncertain_inputs(workload)] == [("segments", 0, "volume", "base")]
    bad = 'prices = { dist = "uniform", low = 1, high = 2 }\n' + GOOD
    (problem,) = problems_of(tmp_path, bad, catalog).problems
    assert problem.field == "prices"
    assert "takes only" in problem.message


def test_malformed_toml_names_its_line(tmp_path: Path, catalog: pricing.Catalog) -> None:
    err = problems_of(tmp_path, edited(("months = 3", "months = ")), catalog)
    (problem,) = err.problems
    assert problem.line == 4
    assert f"{tmp_path / 'w.toml'} line 4" in str(err)
    assert "not valid TOML" in problem.message


def test_every_problem_is_listed(tmp_path: Path, catalog: pricing.Catalog) -> None:
    text = edited(
        ("start = 2027-01-01", "start = 2027-01-15"),
        ("share = 0.3", "share = 0.2"),
        ('models = ["m", "n"]', 'models = ["m", "zz"]'),
        ("width = 512", "width = 0"),
        ("[traffic]\npeak_to_mean = 2.0", "[traffic]\nhourly = [1, 2]\npeak_to_mean = 2.0"),
        ('quality = "medium"', 'quality = "medium"\ncolour = "red"'),
    )
    err = problems_of(tmp_path, text, catalog)
    fields = {(p.segment, p.field) for p in err.problems}
    assert fields == {
        (None, "start"),
        ("product edits", "resolutions"),
        ("shots", "models[1]"),
        ("shots", "resolutions[0].width"),
        (None, "traffic.hourly"),
        ("product edits", "colour"),
    }
    start = next(p for p in err.problems if p.field == "start")
    assert "use 2027-01-01" in start.fix
    assert str(err).startswith("6 problem(s) in the workload:")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (('name = "shots"', 'name = "product edits"'), "name", "unique"),
        (("peak_to_mean = 2.0", "peak_to_mean = 0.5"), "traffic.peak_to_mean", "at least 1"),
        (
            ("peak_to_mean = 2.0", "hourly = " + str([0] * 24)),
            "traffic.hourly",
            "weights sum to 0",
        ),
        (("[traffic]\npeak_to_mean = 2.0", "[traffic]"), "traffic", "either `hourly`"),
        (("images_per_request = 2", "images_per_request = 0"), "images_per_request", "greater"),
        (('currency = "USD"', 'currency = "usd"'), "currency", "pattern"),
    ],
)
def test_other_checks(
    tmp_path: Path,
    catalog: pricing.Catalog,
    change: tuple[str, str],
    field: str,
    words: str,
) -> None:
    err = problems_of(tmp_path, edited(change), catalog)
    assert [p.field for p in err.problems] == [field]
    assert words in str(err)


def test_unknown_name_lists_bundled_workloads() -> None:
    with pytest.raises(WorkloadError, match=r"unknown workload 'nope'.*ecommerce"):
        load_workload("nope")
    with pytest.raises(WorkloadError, match="file not found"):
        load_workload(Path("no/such/workload.toml"))


def test_bundled_model_list_is_the_default_check(tmp_path: Path) -> None:
    text = GOOD.replace('"m"', '"flux-1-kontext-pro"').replace('"n"', '"flux-1-dev"')
    workload = load_workload(write(tmp_path, text))
    assert workload.segments[1].models == ["flux-1-kontext-pro", "flux-1-dev"]
    with pytest.raises(WorkloadError, match="unknown model 'm'"):
        load_workload(write(tmp_path, GOOD))
