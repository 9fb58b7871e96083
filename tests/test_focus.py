"""FOCUS 1.3 export of priced requests, on priced frames typed in by hand.

Every expected value is arithmetic on the rates stated in the test ($0.04 per image, a $30
monthly plan, a $5.00 minimum monthly spend), never a number read back from the code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import pricing
from pricing._usage import aggregates, focus_parts
from pricing._usage.focus import focus_excluded, to_focus
from pricing._usage.focus_columns import FOCUS_COLUMNS, FOCUS_VERSION
from pricing.errors import FocusError
from tests.conftest import offer, version, write_data

SCHEMA: dict[str, pl.DataType] = {
    "timestamp": pl.Datetime("us", "UTC"),
    "account": pl.String(),
    "offer_id": pl.String(),
    "provider": pl.String(),
    "model": pl.String(),
    "operation": pl.String(),
    "width": pl.Int64(),
    "height": pl.Int64(),
    "count": pl.Int64(),
    "quality": pl.String(),
    "price_version": pl.String(),
    "source_id": pl.String(),
    "currency": pl.String(),
    "list_cost": pl.Float64(),
    "cost": pl.Float64(),
    "fee": pl.Float64(),
    "top_up": pl.Float64(),
    "reason": pl.String(),
}

FLUX = {  # $0.04 per image, no plan, no minimum
    "account": "default",
    "offer_id": "bfl/flux-1-kontext-pro",
    "provider": "bfl",
    "model": "flux-1-kontext-pro",
    "operation": "generate",
    "width": 1024,
    "height": 1024,
    "quality": None,
    "price_version": "2025-06-01/bfl-pricing",
    "source_id": "bfl-pricing",
    "currency": "USD",
    "fee": 0.0,
    "top_up": 0.0,
    "reason": None,
}
PLAN = {  # $30/month plan whose included hours cover the requests below; list $0.10/image
    **FLUX,
    "account": "team-a",
    "offer_id": "midjourney/standard",
    "provider": "midjourney",
    "model": "midjourney-v7",
    "price_version": "2026-01-01/mj-plans",
    "source_id": "mj-plans",
}
MINIMUM = {  # $0.40 per image with a $5.00 minimum monthly spend
    **FLUX,
    "offer_id": "acme/imagen",
    "provider": "acme",
    "model": "imagen-x",
    "price_version": "2026-02-01/acme-docs",
    "source_id": "acme-docs",
}

COSTS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
MONEY = pl.Decimal(38, 10)


def at(day: int, hour: int = 12, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def priced(*rows: Mapping[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([dict(r) for r in rows], schema=SCHEMA)


def row(base: Mapping[str, Any], when: datetime, **kw: Any) -> dict[str, Any]:
    """One priced request on ``base``; ``list_cost`` defaults to ``cost``."""
    kw.setdefault("list_cost", kw.get("cost"))
    return {**base, "timestamp": when, **kw}


def flux_day() -> pl.DataFrame:
    """Three requests of 2 images at $0.04/image on 10 March: 2 x 0.04 = $0.08 each."""
    return priced(
        row(FLUX, at(10, 9, 15), count=2, cost=0.08),
        row(FLUX, at(10, 12, 30), count=2, cost=0.08),
        row(FLUX, at(10, 18, 45), count=2, cost=0.08),
    )


def plan_rows() -> list[dict[str, Any]]:
    """The March plan fee ($30) on the first request; 4 images each, within included hours."""
    return [
        row(PLAN, at(2, 10), count=4, cost=30.0, list_cost=30.0 + 4 * 0.10, fee=30.0),
        row(PLAN, at(2, 11), count=4, cost=0.0, list_cost=4 * 0.10),
    ]


def minimum_rows() -> list[dict[str, Any]]:
    """Two $0.40 images in March: $0.80 spent, so the last row tops up 5.00 - 0.80 = 4.20."""
    return [
        row(MINIMUM, at(5), count=1, cost=0.40),
        # list_cost is the call's list price; the top-up is in cost only
        row(MINIMUM, at(31, 22), count=1, cost=0.40 + 4.20, list_cost=0.40, top_up=4.20),
    ]


def unpriced(when: datetime, reason: str) -> dict[str, Any]:
    return row(FLUX, when, count=1, cost=None, list_cost=None, fee=None, top_up=None, reason=reason)


def mixed() -> pl.DataFrame:
    """Every kind of row: usage, plan fee, top-up, float noise, a third of a cent, no price."""
    return pl.concat(
        [
            flux_day(),
            priced(
                *plan_rows(),
                *minimum_rows(),
                # $0.30 per 2048x2048 image: 0.30000000000000004 in floats
                row(FLUX, at(11), count=1, cost=0.1 + 0.2, width=2048, height=2048),
                row(FLUX, at(12), count=3, cost=1 / 3, quality="high", operation="edit"),
                unpriced(at(12), "no price version in force"),
            ),
        ]
    )


def only(frame: pl.DataFrame, **where: str) -> dict[str, Any]:
    """The one row of ``frame`` matching ``where``."""
    hits = frame.filter(**where)
    assert hits.height == 1, hits
    return hits.row(0, named=True)


# --------------------------------------------------------------------------- usage rows


def test_three_requests_on_one_day_are_one_usage_row() -> None:
    out = to_focus(flux_day())
    assert out.height == 1
    r = out.row(0, named=True)
    assert r["ChargeCategory"] == "Usage"
    assert r["ChargeFrequency"] == "Usage-Based"
    assert r["PricingCategory"] == "Standard"
    assert r["ChargeClass"] is None
    assert r["PricingQuantity"] == r["ConsumedQuantity"] == 3 * 2
    assert r["PricingUnit"] == r["ConsumedUnit"] == "Images"
    assert r["ListCost"] == Decimal("0.24")  # 6 x 0.04
    for column in COSTS:
        assert r[column] == Decimal("0.24")
    assert r["ListUnitPrice"] == r["ContractedUnitPrice"] == Decimal("0.04")
    assert r["ChargePeriodStart"] == at(10, 0)
    assert r["ChargePeriodEnd"] == at(11, 0)
    assert r["BillingPeriodStart"] == datetime(2026, 3, 1, tzinfo=UTC)
    assert r["BillingPeriodEnd"] == datetime(2026, 4, 1, tzinfo=UTC)
    assert r["BillingAccountId"] == r["BillingAccountName"] == "default"
    assert r["BillingCurrency"] == "USD"
    assert r["ServiceCategory"] == "AI and Machine Learning"
    assert r["ServiceSubcategory"] == "Generative AI"
    assert r["ServiceName"] == "flux-1-kontext-pro"
    assert r["ServiceProviderName"] == r["HostProviderName"] == r["InvoiceIssuerName"] == "bfl"
    assert r["SkuId"] == "bfl/flux-1-kontext-pro"
    assert r["SkuPriceId"] == "bfl/flux-1-kontext-pro@2025-06-01/bfl-pricing#generate:1024x1024"
    assert r["SkuMeter"] == "Images"
    assert r["SkuPriceDetails"] == '{"x_Resolution":"1024x1024","x_Operation":"generate"}'
    assert (
        r["ChargeDescription"] == "flux-1-kontext-pro generate 1024x1024 on bfl/flux-1-kontext-pro"
    )
    assert r["x_OfferId"] == "bfl/flux-1-kontext-pro"
    assert r["x_PriceVersion"] == "2025-06-01/bfl-pricing"
    assert r["x_SourceId"] == "bfl-pricing"
    assert r["x_Model"] == "flux-1-kontext-pro"
    for empty in ("InvoiceId", "RegionId", "RegionName", "ResourceId", "SubAccountId", "Tags"):
        assert r[empty] is None


@pytest.mark.parametrize(
    ("granularity", "periods", "images", "billed"),
    [
        ("row", [(at(10, 9, 15), 0), (at(10, 12, 30), 0), (at(10, 18, 45), 0)], 2, "0.08"),
        ("hour", [(at(10, 9), 1), (at(10, 12), 1), (at(10, 18), 1)], 2, "0.08"),
        ("day", [(at(10, 0), 24)], 6, "0.24"),
        ("month", [(datetime(2026, 3, 1, tzinfo=UTC), 31 * 24)], 6, "0.24"),
    ],
)
def test_granularity_sets_the_charge_periods(
    granularity: Any, periods: list[tuple[datetime, int]], images: int, billed: str
) -> None:
    out = to_focus(flux_day(), granularity=granularity)
    # "row" periods are one microsecond long, at the request's own time.
    expected = [
        (start, start + (timedelta(hours=hours) if hours else timedelta(microseconds=1)))
        for start, hours in periods
    ]
    assert list(zip(out["ChargePeriodStart"], out["ChargePeriodEnd"], strict=True)) == expected
    assert out["PricingQuantity"].to_list() == [images] * len(periods)
    assert out["BilledCost"].to_list() == [Decimal(billed)] * len(periods)
    assert out["ListUnitPrice"].to_list() == [Decimal("0.04")] * len(periods)


def test_size_operation_quality_and_account_each_make_their_own_sku_price_row() -> None:
    out = to_focus(
        priced(
            row(FLUX, at(10), count=1, cost=0.04),
            row(FLUX, at(10), count=1, cost=0.04, account="team-b"),
            row(FLUX, at(10), count=1, cost=0.05, operation="edit", quality="high"),
            row(FLUX, at(10), count=1, cost=0.02, quality="low"),
            row(FLUX, at(10), count=1, cost=0.16, width=2048, height=2048),
        )
    )
    assert out.height == 5
    edit = only(out, SkuPriceId="bfl/flux-1-kontext-pro@2025-06-01/bfl-pricing#edit:1024x1024:high")
    assert edit["SkuPriceDetails"] == (
        '{"x_Resolution":"1024x1024","x_Operation":"edit","x_Quality":"high"}'
    )
    assert edit["ChargeDescription"] == (
        "flux-1-kontext-pro edit 1024x1024 high on bfl/flux-1-kontext-pro"
    )
    assert edit["ListUnitPrice"] == Decimal("0.05")
    big = only(out, SkuPriceId="bfl/flux-1-kontext-pro@2025-06-01/bfl-pricing#generate:2048x2048")
    assert big["ListUnitPrice"] == Decimal("0.16")
    assert sorted(out["BillingAccountId"]) == ["default"] * 4 + ["team-b"]


# --------------------------------------------------------------------------- fee and top-up rows


def test_plan_fee_is_a_recurring_purchase_row_apart_from_usage() -> None:
    out = to_focus(priced(*plan_rows()))
    assert sorted(out["ChargeCategory"]) == ["Purchase", "Usage"]
    fee = only(out, ChargeCategory="Purchase")
    assert fee["ChargeFrequency"] == "Recurring"
    assert fee["PricingCategory"] == "Standard"
    assert fee["PricingUnit"] == "Months"
    assert fee["PricingQuantity"] == 1
    for column in (*COSTS, "ListUnitPrice", "ContractedUnitPrice"):
        assert fee[column] == Decimal(30)
    assert fee["ConsumedQuantity"] is None
    assert fee["ConsumedUnit"] is None
    assert fee["ChargePeriodStart"] == fee["BillingPeriodStart"] == datetime(2026, 3, 1, tzinfo=UTC)
    assert fee["ChargePeriodEnd"] == fee["BillingPeriodEnd"] == datetime(2026, 4, 1, tzinfo=UTC)
    assert fee["SkuId"] == "midjourney/standard"
    assert fee["SkuPriceId"] == "midjourney/standard@2026-01-01/mj-plans#monthly-fee"
    assert fee["ChargeDescription"] == "midjourney-v7 monthly plan fee on midjourney/standard"
    assert fee["BillingAccountId"] == "team-a"

    usage = only(out, ChargeCategory="Usage")
    assert usage["PricingQuantity"] == 4 + 4
    assert usage["BilledCost"] == usage["ContractedCost"] == Decimal(0)  # included in the plan
    assert usage["ListCost"] == Decimal("0.80")  # 8 x 0.10, the fee taken out of list_cost
    assert usage["ListUnitPrice"] == Decimal("0.10")
    assert usage["ContractedUnitPrice"] == Decimal(0)


def test_minimum_spend_top_up_is_an_adjustment_row() -> None:
    out = to_focus(priced(*minimum_rows()))
    top_up = only(out, ChargeCategory="Adjustment")
    for column in COSTS:
        assert top_up[column] == Decimal("4.20")
    assert top_up["ChargeFrequency"] == "Recurring"
    assert top_up["ChargePeriodStart"] == datetime(2026, 3, 1, tzinfo=UTC)
    assert top_up["ChargePeriodEnd"] == datetime(2026, 4, 1, tzinfo=UTC)
    assert top_up["ChargeDescription"] == "imagen-x minimum monthly spend top-up on acme/imagen"
    assert top_up["SkuId"] == "acme/imagen"
    for empty in (
        "PricingQuantity",
        "PricingUnit",
        "PricingCategory",
        "ListUnitPrice",
        "ContractedUnitPrice",
        "ConsumedQuantity",
        "ConsumedUnit",
        "SkuPriceId",
        "SkuPriceDetails",
    ):
        assert top_up[empty] is None
    usage = out.filter(ChargeCategory="Usage")
    assert usage["ChargePeriodStart"].to_list() == [at(5, 0), at(31, 0)]
    assert usage["BilledCost"].to_list() == [Decimal("0.40"), Decimal("0.40")]
    assert usage["ListCost"].to_list() == [Decimal("0.40"), Decimal("0.40")]


# --------------------------------------------------------------------------- exclusions


def test_unpriced_rows_are_left_out_and_counted() -> None:
    frame = pl.concat(
        [flux_day(), priced(unpriced(at(10), "no price"), unpriced(at(11), "unknown offer"))]
    )
    assert focus_excluded(frame) == 2
    assert focus_excluded(frame.lazy()) == 2
    assert_frame_equal(to_focus(frame), to_focus(flux_day()))


def test_no_priced_rows_gives_an_empty_dataset_with_the_columns() -> None:
    frame = priced(unpriced(at(10), "no price"))
    out = to_focus(frame)
    assert out.height == 0
    assert out.columns == list(FOCUS_COLUMNS)
    assert focus_excluded(frame) == 1


# --------------------------------------------------------------------------- input forms


def test_lazy_and_categorical_input_give_the_same_dataset() -> None:
    frame = mixed()
    categorical = frame.with_columns(
        pl.col("offer_id", "provider", "price_version", "source_id", "currency", "reason").cast(
            pl.Categorical
        )
    )
    expected = to_focus(frame)
    assert_frame_equal(to_focus(frame.lazy()), expected)
    assert_frame_equal(to_focus(categorical.lazy()), expected)


def test_timestamps_in_other_zones_are_billed_in_utc() -> None:
    # 21:30 on 31 March in New York (EDT, UTC-4) is 01:30 on 1 April in UTC.
    frame = priced(row(FLUX, at(1), count=1, cost=0.04)).with_columns(
        timestamp=pl.lit(datetime(2026, 3, 31, 21, 30, tzinfo=ZoneInfo("America/New_York")))
    )
    r = to_focus(frame).row(0, named=True)
    assert r["BillingPeriodStart"] == datetime(2026, 4, 1, tzinfo=UTC)
    assert r["ChargePeriodStart"] == datetime(2026, 4, 1, tzinfo=UTC)


def test_names_can_be_given() -> None:
    out = to_focus(flux_day(), billing_account_name="Design team", invoice_issuer="Reseller Inc")
    assert out["BillingAccountName"].to_list() == ["Design team"]
    assert out["InvoiceIssuerName"].to_list() == ["Reseller Inc"]
    assert out["ServiceProviderName"].to_list() == ["bfl"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop("top_up"), "lack column"),
        (lambda f: f.with_columns(pl.col("timestamp").dt.replace_time_zone(None)), "time-zone"),
        # list_cost without the plan fee that cost includes
        (lambda f: f.with_columns(list_cost=pl.col("list_cost") - pl.col("fee")), "below cost"),
        # a list price below the price billed
        (lambda f: f.with_columns(list_cost=pl.col("list_cost") - 0.01), "below cost"),
        (lambda f: f.with_columns(count=0), "count"),
        (lambda f: f.with_columns(list_cost=None), "list_cost is null"),
        (lambda f: f.with_columns(fee=-1.0), "negative"),
    ],
)
def test_bad_input_is_a_clear_error(change: Any, message: str) -> None:
    frame = priced(*plan_rows(), *minimum_rows())
    assert to_focus(frame).height == 5  # fee, top-up and three usage days as given
    with pytest.raises(ValueError, match=message):
        to_focus(change(frame))


def test_a_date_timestamp_is_midnight_utc() -> None:
    frame = flux_day().with_columns(pl.col("timestamp").dt.date())
    r = to_focus(frame, granularity="hour").row(0, named=True)
    assert r["ChargePeriodStart"] == at(10, 0)
    assert r["ChargePeriodEnd"] == at(10, 1)
    assert r["PricingQuantity"] == 6


def test_unknown_granularity_is_an_error() -> None:
    with pytest.raises(ValueError, match="granularity 'week'"):
        to_focus(flux_day(), granularity="week")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- FOCUS rules


def test_columns_and_types() -> None:
    out = to_focus(mixed())
    assert FOCUS_VERSION == "1.3"
    assert out.columns == list(FOCUS_COLUMNS)
    assert "ProviderName" not in out.columns
    assert "PublisherName" not in out.columns
    for name, dtype in out.schema.items():
        if name in COSTS:
            assert dtype == MONEY, name
        elif name in (
            "PricingQuantity",
            "ConsumedQuantity",
            "ListUnitPrice",
            "ContractedUnitPrice",
        ):
            assert isinstance(dtype, pl.Decimal), name
        elif name.endswith(("PeriodStart", "PeriodEnd")):
            assert dtype == pl.Datetime("us", "UTC"), name
        else:
            assert dtype == pl.String, name


MANDATORY_NOT_NULL = (
    *COSTS,
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "HostProviderName",
    "InvoiceIssuerName",
    "ServiceCategory",
    "ServiceName",
    "ServiceProviderName",
)
# Not null when ChargeCategory is Usage or Purchase (and ChargeClass is not Correction).
NOT_NULL_FOR_USAGE_AND_PURCHASE = (
    "PricingQuantity",
    "PricingUnit",
    "PricingCategory",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "SkuId",
    "SkuPriceId",
)


@pytest.mark.parametrize("granularity", ["row", "hour", "day", "month"])
def test_rows_follow_the_focus_rules(granularity: Any) -> None:
    out = to_focus(mixed(), granularity=granularity)
    tolerance = Decimal("1e-9")
    for r in out.iter_rows(named=True):
        assert r["ChargeCategory"] in {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
        assert r["ChargeFrequency"] in {"One-Time", "Recurring", "Usage-Based"}
        assert r["PricingCategory"] in {None, "Standard", "Dynamic", "Committed", "Other"}
        for column in MANDATORY_NOT_NULL:
            assert r[column] is not None, column
        if r["ChargeCategory"] in {"Usage", "Purchase"}:
            for column in NOT_NULL_FOR_USAGE_AND_PURCHASE:
                assert r[column] is not None, column
        if r["ChargeCategory"] == "Purchase":
            assert r["ChargeFrequency"] != "Usage-Based"
        if r["ChargeCategory"] == "Usage":
            assert r["ConsumedQuantity"] > 0
            assert r["ConsumedUnit"] is not None
        else:
            assert r["ConsumedQuantity"] is None
        if r["ListUnitPrice"] is not None:
            assert abs(r["ListUnitPrice"] * r["PricingQuantity"] - r["ListCost"]) <= tolerance
        if r["ContractedUnitPrice"] is not None:
            product = r["ContractedUnitPrice"] * r["PricingQuantity"]
            assert abs(product - r["ContractedCost"]) <= tolerance
        assert (r["SkuPriceDetails"] is None) == (r["SkuPriceId"] is None)
        if r["SkuPriceDetails"] is not None:
            details = json.loads(r["SkuPriceDetails"])
            assert all(key.startswith("x_") or key[:1].isupper() for key in details)
        assert r["BillingPeriodStart"] <= r["ChargePeriodStart"] < r["ChargePeriodEnd"]
        assert r["ChargePeriodEnd"] <= r["BillingPeriodEnd"]
        assert r["BillingPeriodStart"].day == 1
        assert r["BillingPeriodEnd"].day == 1
    # A SkuPriceId defines one unit price and one set of details.
    per_sku_price = (
        out.filter(pl.col("SkuPriceId").is_not_null())
        .group_by("SkuPriceId")
        .agg(pl.col("ListUnitPrice", "SkuPriceDetails").n_unique())
    )
    assert per_sku_price["ListUnitPrice"].to_list() == [1] * per_sku_price.height
    assert per_sku_price["SkuPriceDetails"].to_list() == [1] * per_sku_price.height


@pytest.mark.parametrize("granularity", ["row", "hour", "day", "month"])
def test_costs_reconcile_with_the_priced_rows(granularity: Any) -> None:
    out = to_focus(mixed(), granularity=granularity)
    # cost, each rounded to 10 places: 3 x 0.08 + 30 + 0 + 0.40 + 4.60 + 0.3 + 0.3333333333
    billed = Decimal("35.8733333333")
    # list_cost plus the top-up: as cost, but 30.40 and 0.40 for the two plan rows
    listed = Decimal("36.6733333333")
    assert out["BilledCost"].sum() == billed
    assert out["EffectiveCost"].sum() == billed
    assert out["ContractedCost"].sum() == billed
    assert out["ListCost"].sum() == listed
    third = only(
        out,
        x_OfferId="bfl/flux-1-kontext-pro",
        ChargeDescription=("flux-1-kontext-pro edit 1024x1024 high on bfl/flux-1-kontext-pro"),
    )
    assert third["BilledCost"] == Decimal("0.3333333333")


def test_parquet_round_trip(tmp_path: Path) -> None:
    out = to_focus(mixed())
    path = tmp_path / "focus.parquet"
    out.write_parquet(path)
    assert_frame_equal(pl.read_parquet(path), out)


@pytest.mark.parametrize("granularity", ["row", "hour", "day", "month"])
def test_row_order_of_the_input_does_not_matter(granularity: Any) -> None:
    frame = mixed()
    assert_frame_equal(
        to_focus(frame.reverse(), granularity=granularity), to_focus(frame, granularity=granularity)
    )


# --------------------------------------------------------------------------- built by replay

#: A flat offer, a plan with a monthly fee, a minimum monthly spend and volume tiers: the last
#: three are priced a whole month (or group of accounts) at a time, the first in batches.
REPLAY_CARDS = {
    "acme": offer(
        version(
            '{ unit = "image", price = 0.04, when = { operation = "generate" } }, '
            '{ unit = "image", price = 0.06, when = { operation = "edit" } }'
        ),
        offer_id="acme/m",
    ),
    "plan": offer(
        version(
            '{ unit = "subscription", monthly_fee = 10, included_images = 20, '
            "overage_per_image = 0.05 }"
        ),
        offer_id="plan/m",
    ),
    "mini": offer(
        version('{ unit = "image", price = 0.04 }', settings="  minimum_monthly_spend = 5"),
        offer_id="mini/m",
    ),
    "gamma": offer(
        version(
            '{ unit = "image", tiers = [{ start = 0, price = 0.04 }, '
            "{ start = 30, price = 0.03 }] }"
        ),
        offer_id="gamma/m",
    ),
}


@pytest.fixture(scope="module")
def replay_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[pricing.Catalog, Path]:
    """A catalog of :data:`REPLAY_CARDS` and a log of 120 calls on it over February to April:
    three accounts, two sizes, two qualities, edits, and inpaints (no offer serves them:
    unpriced), in no particular order."""
    root = tmp_path_factory.mktemp("focus-replay")
    cat = pricing.load_catalog(write_data(root / "data", REPLAY_CARDS))
    lines = ["timestamp,provider,model,operation,width,height,count,quality,account"]
    providers = ["acme", "plan", "mini", "gamma"]
    operations = ["generate", "generate", "edit", "inpaint"]
    for i in range(120):
        when = datetime(2026, 2, 1, tzinfo=UTC) + timedelta(hours=(i * 37) % (80 * 24))
        size = 1024 if i % 5 else 512
        quality = "high" if i % 7 == 0 else ""
        lines.append(
            f"{when:%Y-%m-%dT%H:%M:%SZ},{providers[i % 4]},m,{operations[i // 4 % 4]},"
            f"{size},{size},{1 + i % 3},{quality},team-{'abc'[i % 3]}"
        )
    log = root / "usage.csv"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cat, log


@pytest.mark.parametrize("granularity", ["row", "hour", "day", "month"])
def test_replay_builds_the_dataset_to_focus_makes_of_the_whole_log(
    replay_log: tuple[pricing.Catalog, Path], granularity: Any
) -> None:
    cat, log = replay_log
    steps: list[str] = []
    result = pricing.replay(
        log,
        catalog=cat,
        batch_rows=4,
        alternatives=False,
        focus=granularity,
        progress=lambda done, total, label: steps.append(label),
    )
    # several streamed batches, and months priced whole (split into groups of accounts)
    assert steps.count("rows") > 1
    assert len([s for s in steps if s != "rows"]) > 3
    whole = pricing.price_requests(pricing.log_requests(log, catalog=cat).collect(), cat)
    assert result.focus is not None
    assert_frame_equal(result.focus, to_focus(whole, granularity=granularity), check_exact=True)
    # every kind of row is there, and the unpriced calls left out are the replay's unpriced
    kinds = set(result.focus["ChargeCategory"].to_list())
    assert kinds == {"Usage", "Purchase", "Adjustment"}
    assert result.rows_unpriced == focus_excluded(whole) > 0
    totals = result.focus.group_by("BillingCurrency").agg(pl.col("BilledCost").sum()).rows()
    assert dict(totals) == result.total()


@pytest.mark.parametrize("granularity", ["row", "day"])
def test_sums_added_up_along_the_way_make_the_same_dataset(
    replay_log: tuple[pricing.Catalog, Path], granularity: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a long log the batches' sums are added up as they come (to bound what is kept):
    # here after every second batch, and the usage sums as soon as there are any.
    cat, log = replay_log
    whole = pricing.replay(log, catalog=cat, alternatives=False, focus=granularity)
    monkeypatch.setattr(focus_parts, "FOLD_EVERY", 2)
    monkeypatch.setattr(focus_parts, "_FOLD_ROWS", 1)
    monkeypatch.setattr(aggregates, "FOLD_EVERY", 2)
    folded = pricing.replay(log, catalog=cat, alternatives=False, focus=granularity, batch_rows=3)
    assert whole.focus is not None
    assert folded.focus is not None
    assert_frame_equal(folded.focus, whole.focus, check_exact=True)
    assert_frame_equal(folded.days, whole.days, check_exact=True)
    assert_frame_equal(folded.costs, whole.costs, check_exact=True)


def test_replay_without_focus_builds_none(replay_log: tuple[pricing.Catalog, Path]) -> None:
    cat, log = replay_log
    assert pricing.replay(log, catalog=cat, alternatives=False).focus is None


def test_replay_refuses_an_unknown_granularity_before_reading(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-log.csv"  # not read: the granularity is checked first
    with pytest.raises(FocusError, match="unknown granularity 'week'"):
        pricing.replay(missing, focus="week")  # type: ignore[arg-type]
