"""GPU types, GPU offers and owned hardware (data/gpus/): bundled figures and bad files.

Expected prices are typed in from ../shared/reference/price-facts.md (sections B1-B3) or worked
out by hand from those figures, never read back from the code.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import jsonschema
import polars as pl
import pytest

from pricing._cards.loader import bundled_data_dir
from pricing._gpus.gpus import GpuData, gpu_offers_table, load_gpus
from pricing._gpus.offers import GPU_CATEGORIES, OwnedHardware
from pricing._json_schemas import schema_documents
from pricing.errors import PriceNotFound, RateCardError


@pytest.fixture(scope="module")
def data() -> GpuData:
    return load_gpus()


# ----------------------------------------------------------------------------- bundled data


def test_bundled_files_load(data: GpuData) -> None:
    assert len(data.gpus) >= 14
    assert len(data.offers) >= 100
    assert {o.provider for o in data.offers} >= {
        "aws",
        "gcp",
        "azure",
        "lambda",
        "runpod",
        "coreweave",
        "vast",
        "modal",
        "nebius",
        "hyperstack",
        "together",
        "replicate",
    }
    assert {o.gpu for o in data.owned} >= {"h100-sxm", "h200", "b200", "l40s", "rtx-4090"}


def test_every_figure_cites_a_known_source(data: GpuData) -> None:
    for o in data.offers:
        assert o.source in data.sources, o.id
        assert all(s in data.sources for s in o.confirmed_by), o.id
    for g in data.gpus.values():
        for sid in (g.memory_source, g.power_source):
            assert sid is None or sid in data.sources, g.id
    for w in data.owned:
        for sid in (w.purchase_source, w.power_source, w.assumptions_source, *w.confirmed_by):
            assert sid in data.sources, w.id


def test_every_gpu_cloud_has_its_name(data: GpuData) -> None:
    # pages say "CoreWeave H100 SXM", never the id: each provider of an offer is named
    assert {o.provider for o in data.offers} <= set(data.providers)
    assert (data.providers["coreweave"], data.providers["vast"]) == ("CoreWeave", "Vast.ai")


def test_a_gpu_cloud_named_twice_is_refused(tmp_path: Path) -> None:
    named = '[[provider]]\nid = "acme"\nname = "Acme"\n\n'
    write_data(tmp_path, offers=OFFERS.replace("[[offer]]", named * 2 + "[[offer]]", 1))
    found = problems_of(tmp_path)
    assert ("data/gpus/offers.toml", "acme", None, "duplicate provider id") in found


def test_every_offer_names_a_known_gpu_and_category(data: GpuData) -> None:
    for o in data.offers:
        assert o.gpu in data.gpus, o.id
        assert o.category in GPU_CATEGORIES
        assert o.currency == "USD"


# (offer id, price as published, per, instance $/h, $/GPU-h): B1/B2 figures; the per-GPU and
# per-hour figures are the ones price-facts prints beside them or hand arithmetic.
FIGURES = [
    ("runpod/h100-sxm-community", "2.69", "hour", "2.69", "2.69"),
    ("runpod/h100-sxm-secure", "3.49", "hour", "3.49", "3.49"),
    ("runpod/h100-sxm-secure.2026-11", "3.99", "hour", "3.99", "3.99"),
    ("runpod/rtx-4090-community", "0.34", "hour", "0.34", "0.34"),
    ("aws/p5.48xlarge-on-demand", "55.04", "hour", "55.04", "6.88"),
    ("aws/p4d.24xlarge-on-demand", "21.957642", "hour", "21.957642", "2.74470525"),
    ("azure/nd96isr-h100-v5-on-demand-eastus", "98.32", "hour", "98.32", "12.29"),
    ("coreweave/h100-sxm-on-demand", "49.24", "hour", "49.24", "6.155"),
    ("coreweave/b200-on-demand", "68.80", "hour", "68.80", "8.60"),
    ("coreweave/gb200-on-demand", "42.00", "hour", "42.00", "10.50"),
    ("lambda/8x-h100-sxm-on-demand", "3.99", "hour", "31.92", "3.99"),
    ("modal/h100-sxm-serverless", "0.001097", "second", "3.9492", "3.9492"),
    ("modal/l40s-serverless", "1.9512", "hour", "1.9512", "1.9512"),
    ("replicate/1x-h100-sxm-deployment", "0.001525", "second", "5.49", "5.49"),
    ("replicate/8x-h100-sxm-deployment", "0.012200", "second", "43.92", "5.49"),
    ("runpod/h100-sxm-serverless", "0.00116", "second", "4.176", "4.176"),
    ("gcp/a2-highgpu-1g-on-demand-us-central1", "3.673385", "hour", "3.673385", "3.673385"),
]


@pytest.mark.parametrize(("offer_id", "price", "per", "instance", "per_gpu"), FIGURES)
def test_published_figures(
    data: GpuData, offer_id: str, price: str, per: str, instance: str, per_gpu: str
) -> None:
    o = data.offer(offer_id)
    assert o.price == Decimal(price)
    assert o.per == per
    assert o.hourly_price == Decimal(instance)
    assert o.gpu_hourly_price == Decimal(per_gpu)


@pytest.mark.parametrize(
    ("offer_id", "rounded"),
    [  # price-facts prints these per-GPU-hour figures rounded
        ("aws/p4de.24xlarge-on-demand", "3.4309"),
        ("aws/p5.48xlarge-capacity-block", "4.916"),
        ("aws/8x-h200-capacity-block", "5.408"),
        ("aws/p4d.24xlarge-capacity-block", "1.844"),
        ("azure/nc48ads-a100-v4-on-demand-eastus", "4.78"),
        ("coreweave/h200-on-demand", "6.305"),
    ],
)
def test_derived_per_gpu_figures_match_price_facts(
    data: GpuData, offer_id: str, rounded: str
) -> None:
    places = len(rounded.split(".")[1])
    assert round(data.offer(offer_id).gpu_hourly_price, places) == Decimal(rounded)


def test_gcp_committed_use_per_month_is_converted_at_730_hours(data: GpuData) -> None:
    # price-facts: 1-yr CUD $1,689.37/mo (~$2.31/hr), 3-yr $938.57/mo (~$1.29/hr)
    one = data.offer("gcp/a2-highgpu-1g-reserved-1y-us-central1")
    three = data.offer("gcp/a2-highgpu-1g-reserved-3y-us-central1")
    assert one.per == "month"
    assert one.hourly_price == Decimal("1689.37") / 730
    assert round(one.hourly_price, 2) == Decimal("2.31")
    assert round(three.hourly_price, 2) == Decimal("1.29")


def test_disagreeing_sources_are_both_kept_with_their_dates(data: GpuData) -> None:
    sep, nov = data.offer("runpod/h100-sxm-secure"), data.offer("runpod/h100-sxm-secure.2026-11")
    assert (sep.effective, sep.source) == (date(2026, 9, 25), "silybench-2026-09-25")
    assert (nov.effective, nov.source) == (date(2026, 11, 9), "datareceipts-vendors")
    vast = [o for o in data.offers if o.provider == "vast" and o.gpu == "h100-sxm"]
    assert {o.price for o in vast} >= {Decimal("6.1489"), Decimal("2.4024")}
    lam = data.offer("lambda/1x-h100-sxm-on-demand.2026-05")
    assert lam.price == Decimal("3.78")
    assert data.offer("lambda/1x-h100-sxm-on-demand").price == Decimal("4.29")


def test_billing_granularity(data: GpuData) -> None:
    assert data.offer("lambda/8x-h100-sxm-on-demand").billing_granularity_s == 60
    assert data.offer("runpod/h100-sxm-community").billing_granularity_s == 1
    assert data.offer("coreweave/h100-sxm-on-demand").billing_granularity_s == 60
    aws = data.offer("aws/p5.48xlarge-on-demand")
    assert aws.granularity_s is None  # the sources do not say
    assert aws.billing_granularity_s == 3600
    assert data.offer("runpod/h100-sxm-serverless").idle_billed_s == 5


def test_gpu_memory_and_power_only_where_sourced(data: GpuData) -> None:
    assert data.gpus["h100-sxm"].memory_gb == 80
    assert data.gpus["rtx-4090"].memory_gb == 24
    assert data.gpus["a10g"].memory_gb == 24
    assert data.gpus["h200"].power_w == 700
    assert data.gpus["b200"].power_w == 1000
    assert data.gpus["l4"].memory_gb is None  # not found (price-facts B3)
    assert data.gpus["l4"].power_w is None


def test_offers_table_is_typed_and_filters_by_gpu(data: GpuData) -> None:
    table = gpu_offers_table(data)
    assert table.height == len(data.offers)
    assert table.schema["gpu_hourly"] == pl.Float64
    assert table.schema["effective"] == pl.Date
    assert table.schema["gpus"] == pl.Int64
    h100 = gpu_offers_table(data, gpu="h100-sxm")
    assert set(h100["gpu"]) == {"h100-sxm"}
    row = h100.filter(pl.col("offer_id") == "aws/p5.48xlarge-on-demand").row(0, named=True)
    assert row["gpu_hourly"] == pytest.approx(6.88)
    assert row["instance_hourly"] == pytest.approx(55.04)
    assert row["source"] == "datareceipts-hyperscalers"
    assert row["effective"] == date(2026, 11, 9)
    assert row["granularity_known"] is False
    with pytest.raises(KeyError, match="unknown GPU"):
        gpu_offers_table(data, gpu="h1000")


# ----------------------------------------------------------------------------- owned hardware


def test_owned_h100_hourly_cost_by_hand(data: GpuData) -> None:
    h100 = next(o for o in data.owned if o.id == "h100-sxm.hf-msrp")
    # $30,000 over 5 years of 8,760 h + 0.7 kW x 1.2 PUE x $0.08/kWh (B3, aiinframap)
    capex = Decimal(30000) / (5 * 8760)
    energy = Decimal("0.7") * Decimal("1.2") * Decimal("0.08")
    assert h100.hourly_cost(1.0, hosting_per_month=Decimal(0)) == capex + energy
    busy = capex + Decimal("0.7") * Decimal("0.7") * Decimal("1.2") * Decimal("0.08")
    assert h100.hourly_cost(0.7, hosting_per_month=Decimal(0)) == busy
    hosted = h100.hourly_cost(Decimal("0.7"), hosting_per_month=Decimal(146))
    assert hosted == busy + Decimal("0.2")  # $146 / 730 h


def test_owned_hardware_without_hosting_is_not_priced_as_zero(data: GpuData) -> None:
    h100 = next(o for o in data.owned if o.gpu == "h100-sxm")
    assert h100.hosting_per_month is None  # no source gives it
    with pytest.raises(PriceNotFound, match="hosting_per_month"):
        h100.hourly_cost()


def test_owned_conflicting_purchase_prices_are_separate_entries(data: GpuData) -> None:
    b200 = {o.purchase_source: o for o in data.owned if o.gpu == "b200"}
    assert b200["aiinframap-tco"].purchase_price == 40000
    assert b200["fp4-dev"].purchase_price == 60000
    assert b200["fp4-dev"].purchase_price_high == 70000
    assert b200["techbytils-b200"].purchase_price == 70000


def test_utilisation_outside_zero_to_one_is_refused() -> None:
    o = OwnedHardware(
        id="x",
        gpu="g",
        purchase_price=Decimal(1000),
        purchase_source="s",
        power_w=Decimal(100),
        power_source="s",
        life_years=Decimal(1),
        pue=Decimal(1),
        electricity_per_kwh=Decimal("0.1"),
        assumptions_source="s",
        hosting_per_month=Decimal(0),
        hosting_source="s",
    )
    assert o.hourly_cost(0) == Decimal(1000) / 8760
    with pytest.raises(ValueError, match="utilisation"):
        o.hourly_cost(1.5)


# ----------------------------------------------------------------------------- bad files

SOURCES = """\
[[source]]
id = "src"
title = "A price page"
publisher = "Someone"
kind = "third-party"
seen = 2026-01-01
"""
GPUS = """\
#:schema ../schema/gpus.json
[[gpu]]
id = "h100-sxm"
name = "H100"
memory_gb = 80
memory_source = "src"
"""
OFFERS = """\
#:schema ../schema/gpu-offers.json
[[offer]]
id = "acme/h100-sxm-on-demand"
provider = "acme"
sku = "1x H100"
gpu = "h100-sxm"
gpus = 1
category = "on-demand"
price = 2.50
per = "hour"
price_basis = "gpu"
effective = 2026-01-01
source = "src"
"""
OWNED = """\
#:schema ../schema/owned.json
[[owned]]
id = "h100-sxm.src"
gpu = "h100-sxm"
purchase_price = 30000
purchase_source = "src"
power_w = 700
power_source = "src"
life_years = 5
pue = 1.2
electricity_per_kwh = 0.08
assumptions_source = "src"
"""


def write_data(root: Path, *, gpus: str = GPUS, offers: str = OFFERS, owned: str = OWNED) -> Path:
    (root / "gpus").mkdir(parents=True, exist_ok=True)
    (root / "sources.toml").write_text(SOURCES, encoding="utf-8")
    (root / "gpus" / "gpus.toml").write_text(gpus, encoding="utf-8")
    (root / "gpus" / "offers.toml").write_text(offers, encoding="utf-8")
    (root / "gpus" / "owned.toml").write_text(owned, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[tuple[str, str | None, str | None, str]]:
    with pytest.raises(RateCardError) as info:
        load_gpus(root)
    return [(p.file, p.offer, p.field, p.message) for p in info.value.problems]


def test_good_synthetic_files_load(tmp_path: Path) -> None:
    data = load_gpus(write_data(tmp_path))
    assert data.offer("acme/h100-sxm-on-demand").hourly_price == Decimal("2.50")


def test_unknown_gpu_names_file_offer_and_field(tmp_path: Path) -> None:
    write_data(tmp_path, offers=OFFERS.replace('gpu = "h100-sxm"', 'gpu = "h100-sxn"'))
    [(file, entry, field, message)] = problems_of(tmp_path)
    assert (file, entry, field) == ("data/gpus/offers.toml", "acme/h100-sxm-on-demand", "gpu")
    assert "h100-sxn" in message


def test_negative_price_names_the_offer_and_field(tmp_path: Path) -> None:
    write_data(tmp_path, offers=OFFERS.replace("price = 2.50", "price = -2.50"))
    [(file, entry, field, _)] = problems_of(tmp_path)
    assert (file, entry, field) == ("data/gpus/offers.toml", "acme/h100-sxm-on-demand", "price")


def test_unknown_source_and_duplicate_id_are_both_reported(tmp_path: Path) -> None:
    bad = OFFERS + OFFERS.split("\n", 1)[1].replace('source = "src"', 'source = "nowhere"')
    write_data(tmp_path, offers=bad)
    found = problems_of(tmp_path)
    assert ("data/gpus/offers.toml", "acme/h100-sxm-on-demand", None, "duplicate offer id") in found
    assert any(f == "source" and "nowhere" in m for _, _, f, m in found)


def test_unknown_field_in_gpus_names_the_gpu(tmp_path: Path) -> None:
    write_data(tmp_path, gpus=GPUS + "memory_gib = 80\n")
    [(file, entry, field, _)] = problems_of(tmp_path)
    assert (file, entry, field) == ("data/gpus/gpus.toml", "h100-sxm", "memory_gib")


def test_unsourced_memory_is_an_error(tmp_path: Path) -> None:
    write_data(tmp_path, gpus=GPUS.replace('memory_source = "src"\n', ""))
    [(file, entry, _, message)] = problems_of(tmp_path)
    assert (file, entry) == ("data/gpus/gpus.toml", "h100-sxm")
    assert "memory_source" in message


def test_bad_category_and_missing_schema_line(tmp_path: Path) -> None:
    offers = OFFERS.split("\n", 1)[1].replace('"on-demand"', '"on-demend"')
    write_data(tmp_path, offers=offers)
    found = problems_of(tmp_path)
    assert any("line 1" in m for _, _, _, m in found)
    assert any(e == "acme/h100-sxm-on-demand" and f == "category" for _, e, f, _ in found)


def test_owned_with_unknown_gpu_and_source(tmp_path: Path) -> None:
    owned = OWNED.replace('gpu = "h100-sxm"', 'gpu = "b300"').replace(
        'assumptions_source = "src"', 'assumptions_source = "tco"'
    )
    write_data(tmp_path, owned=owned)
    found = problems_of(tmp_path)
    assert ("data/gpus/owned.toml", "h100-sxm.src", "gpu") in [f[:3] for f in found]
    assert ("data/gpus/owned.toml", "h100-sxm.src", "assumptions_source") in [f[:3] for f in found]


def test_offer_id_must_start_with_provider(tmp_path: Path) -> None:
    write_data(tmp_path, offers=OFFERS.replace('provider = "acme"', 'provider = "other"'))
    [(_, entry, field, message)] = problems_of(tmp_path)
    assert (entry, field) == ("acme/h100-sxm-on-demand", "id")
    assert "provider" in message


# ----------------------------------------------------------------------------- schemas

MY_FILES = {
    "gpus/gpus.toml": "gpus.json",
    "gpus/offers.toml": "gpu-offers.json",
    "gpus/owned.toml": "owned.json",
    "throughput.toml": "throughput.json",
    "licences.toml": "licences.json",
}


@pytest.mark.parametrize(("file", "schema"), sorted(MY_FILES.items()))
def test_files_point_at_current_schemas_and_satisfy_them(file: str, schema: str) -> None:
    root = bundled_data_dir()
    text = (root / file).read_text(encoding="utf-8")
    up = "../" * file.count("/")
    assert text.splitlines()[0] == f"#:schema {up}schema/{schema}"
    committed = (root / "schema" / schema).read_text(encoding="utf-8")
    assert committed == schema_documents()[schema], f"regenerate data/schema/{schema}"
    raw = json.loads(json.dumps(tomllib.loads(text, parse_float=Decimal), default=str))
    jsonschema.validate(raw, json.loads(committed))
