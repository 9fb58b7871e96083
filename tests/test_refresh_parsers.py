"""The five refresh parsers on the real fixture files, on bad documents, and on random bytes.

Expected values are read by hand from the fixture files in tests/fixtures, copied from the
team's shared/reference/fixtures (the line each comes from is quoted), never from running
the code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing._refresh.feeds.cards import parse_cards
from pricing._refresh.feeds.ecb import parse_ecb
from pricing._refresh.feeds.fal import parse_fal
from pricing._refresh.feeds.openrouter import parse_openrouter
from pricing._refresh.feeds.skypilot import parse_skypilot_csv
from pricing.errors import PricingError, RefreshError
from tests._http_server import fixture

# --------------------------------------------------------------------------- SkyPilot


def test_lambda_catalog_is_crlf_and_parsed_by_header_name() -> None:
    data = fixture("skypilot-v8-lambda-vms.csv")
    assert b"\r\n" in data  # SOURCES.md: the lambda file is CRLF
    rows = parse_skypilot_csv(data, "skypilot-lambda")
    assert len(rows) == 408  # SOURCES.md: 408 data rows, 34 of them CPU rows
    assert sum(1 for r in rows if not r.accelerator) == 34
    # line 264: gpu_1x_h100_pcie,H100,1.0,26.0,200.0,3.29,us-east-1,"{'Gpus': [{'Name': 'H100',...
    (row,) = [r for r in rows if r.instance_type == "gpu_1x_h100_pcie" and r.region == "us-east-1"]
    assert (row.line, row.accelerator, row.count, row.price) == (264, "H100", 1, Decimal("3.29"))
    assert row.spot_price is None  # SpotPrice is always empty for lambda
    assert row.zone is None
    assert row.gpu_name == "H100"


def test_runpod_catalog_has_region_before_price() -> None:
    rows = parse_skypilot_csv(fixture("skypilot-v8-runpod-vms.trimmed.csv"), "skypilot-runpod")
    # line 2: 1x_A100-80GB_SECURE,A100-80GB,1.0,8.0,117.0,IN,1.39,1.39,AP-IN-1,"{'Gpus': [{'Name':
    # 'A100 PCIe', ...
    first = rows[0]
    assert (first.instance_type, first.region, first.zone) == (
        "1x_A100-80GB_SECURE",
        "IN",
        "AP-IN-1",
    )
    assert (first.price, first.spot_price, first.gpu_name) == (
        Decimal("1.39"),
        Decimal("1.39"),
        "A100 PCIe",
    )
    assert len(rows) == 523


def test_aws_catalog_keeps_an_empty_spot_price_empty() -> None:
    rows = parse_skypilot_csv(fixture("skypilot-v8-aws-vms.gpu-subset.csv"), "skypilot-aws")
    by_zone = {r.zone: r for r in rows if r.instance_type == "p5.48xlarge"}
    # line 230: p5.48xlarge,H100,8.0,...,75.9552,,ap-northeast-2,apne2-az1,x86_64
    assert by_zone["apne2-az1"].price == Decimal("75.9552")
    assert by_zone["apne2-az1"].spot_price is None
    # line 247: p5.48xlarge,H100,8.0,...,55.04,19.253100,us-east-1,use1-az2,x86_64
    assert by_zone["use1-az2"].spot_price == Decimal("19.2531")
    assert by_zone["use1-az2"].count == 8


def test_gcp_catalog_rows_are_accelerators_without_an_instance() -> None:
    rows = parse_skypilot_csv(fixture("skypilot-v8-gcp-vms.gpu-subset.csv"), "skypilot-gcp")
    # line 2: ,,,A100,1,{'Gpus': ...},asia-southeast1,asia-southeast1-a,1.70586,1.4261
    first = rows[0]
    assert (first.instance_type, first.accelerator, first.count) == ("", "A100", 1)
    assert (first.price, first.spot_price) == (Decimal("1.70586"), Decimal("1.4261"))
    assert first.gpu_name is None  # GCP's GpuInfo has no Name


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("InstanceType,Price\nx,1\n", "lacks AcceleratorName"),
        (
            "InstanceType,AcceleratorName,AcceleratorCount,Price,Region\ng,H100,1,-2.5,us\n",
            "line 2: Price '-2.5' is negative",
        ),
        (
            "InstanceType,AcceleratorName,AcceleratorCount,Price,Region\ng,H100,1,abc,us\n",
            "line 2: Price 'abc' is not a number",
        ),
        (
            "InstanceType,AcceleratorName,AcceleratorCount,Price,Region\ng,H100,1.5,2,us\n",
            "not a whole number of GPUs",
        ),
        ("InstanceType,AcceleratorName,AcceleratorCount,Price,Region\ng,H100,1,2\n", "4 fields"),
        ("InstanceType,AcceleratorName,AcceleratorCount,Price,Region\n", "no rows"),
        ('InstanceType,AcceleratorName\n"unterminated\n', "not"),
    ],
)
def test_bad_catalogs_name_the_problem(text: str, reason: str) -> None:
    with pytest.raises(RefreshError, match="skypilot-x") as info:
        parse_skypilot_csv(text.encode(), "skypilot-x")
    assert reason in str(info.value)


# --------------------------------------------------------------------------- OpenRouter, fal


def test_openrouter_image_prices() -> None:
    models = {m.id: m for m in parse_openrouter(fixture("openrouter-models.json"), "openrouter")}
    assert len(models) == 6  # SOURCES.md: 6 models
    image = models["google/gemini-3-pro-image"]
    # "image": "0.000002", "image_output": "0.00012", "prompt": "0.000002"
    assert image.pricing.image_output == Decimal("0.00012")
    assert image.pricing.image == Decimal("0.000002")
    assert image.pricing.prompt == Decimal("0.000002")
    assert image.makes_images
    assert not models["~google/gemini-pro-latest"].makes_images  # output: text only
    assert models["openrouter/auto-beta"].pricing.variable  # "prompt": "-1"


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (b'{"data": [{"id": "a/b", "pricing": {"image_output": "-0.5"}}]}', "non-negative"),
        (b'{"data": [{"id": "a/b"}]}', "pricing"),
        (b'{"models": []}', "data"),
        (b'{"data": [', "not valid JSON"),
    ],
)
def test_bad_openrouter_responses(doc: bytes, reason: str) -> None:
    with pytest.raises(RefreshError, match=r"^openrouter: ") as info:
        parse_openrouter(doc, "openrouter")
    assert reason in str(info.value)


def test_fal_pricing() -> None:
    page = parse_fal(fixture("fal-pricing.json"), "fal")
    # {"endpoint_id": "fal-ai/flux/dev", "unit_price": 0.025, "unit": "image", "currency": "USD"}
    (price,) = page.prices
    assert (price.endpoint_id, price.unit_price, price.unit, price.currency) == (
        "fal-ai/flux/dev",
        Decimal("0.025"),
        "image",
        "USD",
    )
    assert not page.has_more


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (b'{"prices": [{"endpoint_id": "a/b", "unit_price": -1, "unit": "image", '
         b'"currency": "USD"}]}', "greater than or equal to 0"),
        (b'{"prices": [{"endpoint_id": "a/b", "unit": "image", "currency": "USD"}]}', "unit_price"),
        (b'{"prices": [{"endpoint_id": "a/b", "unit_price": 1, "unit": "image", '
         b'"currency": "dollars"}]}', "currency"),
        (b"[]", "prices"),
    ],
)  # fmt: skip
def test_bad_fal_responses(doc: bytes, reason: str) -> None:
    with pytest.raises(RefreshError, match=r"^fal: ") as info:
        parse_fal(doc, "fal")
    assert reason in str(info.value)


# --------------------------------------------------------------------------- ECB, cards


def test_ecb_rates() -> None:
    frame = parse_ecb(fixture("ecb-eurofxref-daily.xml"), "ecb", "ecb-test")
    # <Cube time='2015-01-07'> ... <Cube currency='USD' rate='1.1831'/> ... JPY rate='141.17'
    usd = frame.filter(currency="USD").row(0, named=True)
    assert (usd["date"], usd["per_eur"], usd["source"]) == (
        date(2015, 1, 7),
        Decimal("1.1831"),
        "ecb-test",
    )
    assert frame.filter(currency="JPY")["per_eur"][0] == Decimal("141.17")
    assert frame.height == 32  # 31 currencies + EUR itself


def test_bad_ecb_document_names_the_source() -> None:
    with pytest.raises(RefreshError, match=r"^ecb: ECB reference-rate XML is not well-formed"):
        parse_ecb(b"<gesmes:Envelope", "ecb", "ecb-test")


CARD = """\
#:schema ../schema/rate-card.json
provider = "acme"
name = "Acme"

[[offers]]
id = "acme/flux-dev"
model = "flux-1-dev"
operations = ["generate"]

  [[offers.versions]]
  effective_from = 2026-01-01
  source = "acme-docs"
  components = [{ unit = "image", price = PRICE }]
"""


def test_cards_in_toml_and_json() -> None:
    (card,) = parse_cards(CARD.replace("PRICE", "0.02").encode(), "registry")
    assert card.offers[0].versions[0].components[0].price == Decimal("0.02")  # type: ignore[union-attr]
    as_json = card.model_dump_json().encode()
    assert parse_cards(as_json, "registry") == [card]
    assert parse_cards(b'{"cards": [' + as_json + b"]}", "registry") == [card]


def test_a_negative_card_price_is_located() -> None:
    with pytest.raises(RefreshError) as info:
        parse_cards(CARD.replace("PRICE", "-0.02").encode(), "registry")
    text = str(info.value)
    assert text.startswith("registry: invalid rate card")
    assert "offer 'acme/flux-dev'" in text
    assert "components[0].price" in text


def test_a_card_missing_fields_is_refused() -> None:
    with pytest.raises(RefreshError, match="`name`"):
        parse_cards(b'provider = "acme"\n', "registry")


# --------------------------------------------------------------------------- random bytes

FIXTURES = {
    "skypilot": fixture("skypilot-v8-lambda-vms.csv")[:3000],
    "openrouter": fixture("openrouter-models.json"),
    "fal": fixture("fal-pricing.json"),
    "ecb": fixture("ecb-eurofxref-daily.xml"),
    "cards": CARD.replace("PRICE", "0.02").encode(),
}
PARSERS: dict[str, Callable[[bytes], object]] = {
    "skypilot": lambda data: parse_skypilot_csv(data, "fuzz"),
    "openrouter": lambda data: parse_openrouter(data, "fuzz"),
    "fal": lambda data: parse_fal(data, "fuzz"),
    "ecb": lambda data: parse_ecb(data, "fuzz", "fuzz-id"),
    "cards": lambda data: parse_cards(data, "fuzz"),
}


@st.composite
def damaged(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with a random slice replaced by random bytes (so parsing gets far)."""
    start = draw(st.integers(0, len(original)))
    end = draw(st.integers(start, min(len(original), start + 40)))
    return original[:start] + draw(st.binary(max_size=40)) + original[end:]


@pytest.mark.parametrize("kind", sorted(PARSERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_bytes_give_a_clean_error(kind: str, data: st.DataObject) -> None:
    raw = data.draw(st.one_of(st.binary(max_size=300), damaged(FIXTURES[kind])))
    try:
        PARSERS[kind](raw)
    except RefreshError as exc:
        message = str(exc)
    else:
        return
    assert message.startswith("fuzz")  # names the source


def test_the_parsers_error_is_a_pricing_error() -> None:
    assert issubclass(RefreshError, PricingError)
