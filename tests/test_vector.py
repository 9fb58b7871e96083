"""Unit tests of ``price_requests`` with expectations worked out by hand from the rates.

Every expected number below is written from the synthetic card it prices (tiers, plans,
allowances, discounts, minimum spend, FX rates typed in here), never from running the engine.
Money from the engine is float, so it is compared to the hand value within 1e-9.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import pricing
from pricing import PRICED_COLUMNS, PricingError, price_requests
from tests.conftest import offer, version, write_data

GRADUATED = (
    '{ unit = "image", tiers = [{ start = 0, price = 0.04 }, { start = 1000, price = 0.03 }] }'
)

#: Offer id -> card TOML; each offer exercises one rule.
OFFERS: dict[str, str] = {
    "acme/grad": offer(version(GRADUATED), offer_id="acme/grad"),
    "acme/all": offer(
        version(
            '{ unit = "image", tier_mode = "all-units", tiers = [{ start = 0, price = 0.04 }, '
            "{ start = 1000, price = 0.03 }] }"
        ),
        offer_id="acme/all",
    ),
    # 0.04 / 0.03 until 2026-03-15, then 0.06 / 0.01 (tiers from the 1001st image of the month)
    "acme/changing": offer(
        version(GRADUATED, settings="  effective_to = 2026-03-15"),
        version(
            '{ unit = "image", tiers = [{ start = 0, price = 0.06 }, '
            "{ start = 1000, price = 0.01 }] }",
            effective_from="2026-03-15",
        ),
        offer_id="acme/changing",
    ),
    "acme/plan": offer(
        version(
            '{ unit = "subscription", monthly_fee = 10, included_images = 100, '
            "overage_per_image = 0.05 }"
        ),
        offer_id="acme/plan",
    ),
    # 1 GPU-hour = 3600 s = 100 images of 36 s; overage $3.6/h = $0.001/s = $0.036/image
    "acme/plan-gpu": offer(
        version(
            '{ unit = "subscription", monthly_fee = 20, included_gpu_hours = 1, '
            "gpu_seconds_per_image = 36, overage_per_gpu_hour = 3.6 }"
        ),
        offer_id="acme/plan-gpu",
    ),
    "acme/free": offer(
        version('{ unit = "image", price = 0.04 }', settings="  free_images_per_month = 10"),
        offer_id="acme/free",
    ),
    "acme/committed": offer(
        version('{ unit = "image", price = 0.05 }', settings="  committed_use_discount = 0.2"),
        offer_id="acme/committed",
    ),
    "acme/minimum": offer(
        version('{ unit = "image", price = 0.04 }', settings="  minimum_monthly_spend = 5"),
        offer_id="acme/minimum",
    ),
    "acme/flat": offer(version('{ unit = "image", price = 0.04 }'), offer_id="acme/flat"),
    "acme/range": offer(
        version('{ unit = "image", price = 0.04, price_high = 0.065 }'), offer_id="acme/range"
    ),
    "acme/limited": offer(
        version('{ unit = "image", price = 0.04 }'),
        offer_id="acme/limited",
        settings="limits = { max_megapixels = 2, min_side = 256, max_side = 2048, "
        "multiple_of = 32 }",
    ),
    "acme/token": offer(
        version(
            '{ unit = "token", image_output = 40, output_tokens = ['
            '{ size = "1024x1024", quality = "low", tokens = 272 }, '
            '{ size = "1024x1024", quality = "high", tokens = 4160 }] }'
        ),
        offer_id="acme/token",
        settings='qualities = ["low", "high"]',
    ),
    "acme/step": offer(version('{ unit = "step", price = 0.0005 }'), offer_id="acme/step"),
    "acme/gpu": offer(
        version('{ unit = "gpu_second", hardware = "A100", price = 0.001 }'), offer_id="acme/gpu"
    ),
    "acme/old": offer(
        version('{ unit = "image", price = 0.02 }'),
        offer_id="acme/old",
        model="old",
        operations='["generate"]',
    ),
}

TIGHT = 1e-9


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> pricing.Catalog:
    root = write_data(tmp_path_factory.mktemp("vector-units"), {"acme": "".join(OFFERS.values())})
    return pricing.load_catalog(root)


def at(text: str) -> datetime:
    """An aware UTC datetime from ``YYYY-MM-DD[THH:MM]``."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def requests(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A request table with an ``id`` per row (row order) and UTC timestamps."""
    out = [{"id": i, **r, "timestamp": at(r["timestamp"])} for i, r in enumerate(rows)]
    frame = pl.DataFrame(out, schema_overrides={"timestamp": pl.Datetime("us", "UTC")})
    # a key missing from some rows means "the default" there (a null would be a bad value)
    defaults = {"operation": "generate", "count": 1, "width": 1024, "height": 1024}
    return frame.with_columns(
        pl.col(name).fill_null(value) for name, value in defaults.items() if name in frame.columns
    )


def priced(cat: pricing.Catalog, rows: list[dict[str, Any]], **kwargs: Any) -> pl.DataFrame:
    return price_requests(requests(rows), cat, **kwargs).sort("id")


def costs(frame: pl.DataFrame, column: str = "cost") -> list[float | None]:
    return list(frame[column].to_list())


def approx(values: list[float | None]) -> Any:
    return [None if v is None else pytest.approx(v, abs=TIGHT) for v in values]


# --------------------------------------------------------------------------- volume tiers


def test_graduated_tiers_across_rows_of_one_month(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/grad", "timestamp": "2026-03-02T10:00", "count": 600},
        {"offer_id": "acme/grad", "timestamp": "2026-03-03T10:00", "count": 600},
        {"offer_id": "acme/grad", "timestamp": "2026-03-04T10:00", "count": 600},
    ]
    out = priced(cat, rows)
    # 600 x 0.04; 400 x 0.04 + 200 x 0.03; 600 x 0.03
    assert costs(out) == approx([24.00, 22.00, 18.00])
    assert out["prior_images"].to_list() == [0, 600, 1200]
    assert out["list_cost"].to_list() == approx([24.00, 22.00, 18.00])
    assert out["reason"].to_list() == [None, None, None]
    assert out["price_version"].cast(pl.String).to_list() == ["2026-01-01/acme-docs"] * 3
    assert out["source_id"].cast(pl.String).to_list() == ["acme-docs"] * 3
    assert out["provider"].cast(pl.String).to_list() == ["acme"] * 3
    assert out["currency"].cast(pl.String).to_list() == ["USD"] * 3
    assert out["priced_on"].to_list() == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    assert out["fee"].to_list() == [0.0, 0.0, 0.0]
    assert out["top_up"].to_list() == [0.0, 0.0, 0.0]
    assert out["cost_high"].to_list() == [None, None, None]


def test_running_volume_follows_timestamps_not_row_order(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/grad", "timestamp": "2026-03-04T10:00", "count": 600},
        {"offer_id": "acme/grad", "timestamp": "2026-03-02T10:00", "count": 600},
        {"offer_id": "acme/grad", "timestamp": "2026-03-03T10:00", "count": 600},
    ]
    assert costs(priced(cat, rows)) == approx([18.00, 24.00, 22.00])


def test_the_month_boundary_resets_the_volume(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/grad", "timestamp": "2026-01-20T10:00", "count": 900},
        {"offer_id": "acme/grad", "timestamp": "2026-01-31T23:30", "count": 200},
        {"offer_id": "acme/grad", "timestamp": "2026-02-01T10:00", "count": 900},
    ]
    out = priced(cat, rows)
    # January: 900 x 0.04, then 100 x 0.04 + 100 x 0.03; February starts again at 0
    assert costs(out) == approx([36.00, 7.00, 36.00])
    assert out["prior_images"].to_list() == [0, 900, 0]


def test_months_are_utc_months_whatever_the_time_zone(cat: pricing.Catalog) -> None:
    berlin = pl.Datetime("us", "Europe/Berlin")
    frame = pl.DataFrame(
        {
            "id": [0, 1, 2],
            "offer_id": ["acme/grad"] * 3,
            "count": [900, 200, 900],
            # 00:30 in Berlin (UTC+1 in winter) on Feb 1 is 23:30 UTC on Jan 31
            "timestamp": ["2026-01-20 11:00", "2026-02-01 00:30", "2026-02-01 11:00"],
        }
    ).with_columns(pl.col("timestamp").str.to_datetime().dt.replace_time_zone("Europe/Berlin"))
    assert frame.schema["timestamp"] == berlin
    out = price_requests(frame, cat).sort("id")
    assert costs(out) == approx([36.00, 7.00, 36.00])
    assert out["priced_on"].to_list() == [date(2026, 1, 20), date(2026, 1, 31), date(2026, 2, 1)]
    assert out.schema["timestamp"] == berlin  # the input column is kept as given


def test_accounts_have_separate_volumes(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/grad", "account": "a", "timestamp": "2026-03-02T10:00", "count": 600},
        {"offer_id": "acme/grad", "account": "b", "timestamp": "2026-03-03T10:00", "count": 600},
        {"offer_id": "acme/grad", "account": "a", "timestamp": "2026-03-04T10:00", "count": 600},
    ]
    out = priced(cat, rows)
    assert costs(out) == approx([24.00, 24.00, 22.00])
    assert out["prior_images"].to_list() == [0, 0, 600]


def test_a_missing_account_is_the_default_account(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/grad", "account": None, "timestamp": "2026-03-02T10:00", "count": 600},
        {
            "offer_id": "acme/grad",
            "account": "default",
            "timestamp": "2026-03-03T10:00",
            "count": 600,
        },
        {"offer_id": "acme/grad", "account": "b", "timestamp": "2026-03-04T10:00", "count": 600},
    ]
    out = priced(cat, rows)
    # null and "default" share one month (as when the column is absent): 600 x 0.04, then
    # 400 x 0.04 + 200 x 0.03; account b starts at 0
    assert costs(out) == approx([24.00, 22.00, 24.00])
    assert out["prior_images"].to_list() == [0, 600, 0]
    assert out["account"].to_list() == [None, "default", "b"]  # the input is kept as given


def test_offers_have_separate_volumes(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/grad", "timestamp": "2026-03-02T10:00", "count": 1000},
        {"offer_id": "acme/all", "timestamp": "2026-03-03T10:00", "count": 10},
    ]
    assert costs(priced(cat, rows)) == approx([40.00, 0.40])


def test_all_units_tier_at_the_exact_threshold(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/all", "timestamp": "2026-03-02T10:00", "count": 999},
        {"offer_id": "acme/all", "timestamp": "2026-03-02T11:00", "count": 1},
        {"offer_id": "acme/all", "timestamp": "2026-03-02T12:00", "count": 1},
    ]
    out = priced(cat, rows)
    # images at 0-based positions 0-998, 999 (still the first tier), 1000 (the tier from 1000)
    assert costs(out) == approx([39.96, 0.04, 0.03])
    assert out["prior_images"].to_list() == [0, 999, 1000]


def test_all_units_prices_the_whole_call_at_the_tier_of_its_last_image(
    cat: pricing.Catalog,
) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/all", "account": "a", "timestamp": "2026-03-02T10:00", "count": 1000},
        {"offer_id": "acme/all", "account": "b", "timestamp": "2026-03-02T10:00", "count": 1001},
    ]
    # a: last image at position 999 -> 1000 x 0.04; b: last at 1000 -> 1001 x 0.03
    assert costs(priced(cat, rows)) == approx([40.00, 30.03])


def test_a_version_change_mid_month_keeps_the_month_volume(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/changing", "timestamp": "2026-03-10T10:00", "count": 600},
        {"offer_id": "acme/changing", "timestamp": "2026-03-20T10:00", "count": 600},
    ]
    out = priced(cat, rows)
    # old tiers: 600 x 0.04; new tiers from image 601: 400 x 0.06 + 200 x 0.01
    assert costs(out) == approx([24.00, 26.00])
    assert out["prior_images"].to_list() == [0, 600]
    assert out["price_version"].cast(pl.String).to_list() == [
        "2026-01-01/acme-docs",
        "2026-03-15/acme-docs",
    ]


# --------------------------------------------------------------------------- plans


def test_plan_fee_on_the_first_call_of_each_month_then_overage(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/plan", "timestamp": "2026-03-02T10:00", "count": 60},
        {"offer_id": "acme/plan", "timestamp": "2026-03-03T10:00", "count": 60},
        {"offer_id": "acme/plan", "timestamp": "2026-03-04T10:00", "count": 10},
        {"offer_id": "acme/plan", "timestamp": "2026-04-01T10:00", "count": 1},
    ]
    out = priced(cat, rows)
    # fee $10 with 100 images included; 40 included + 20 x 0.05; 10 x 0.05; April: fee again
    assert costs(out) == approx([10.00, 1.00, 0.50, 10.00])
    assert costs(out, "fee") == approx([10.00, 0.0, 0.0, 10.00])
    assert costs(out, "list_cost") == approx([10.00, 1.00, 0.50, 10.00])
    assert out["prior_images"].to_list() == [0, 60, 120, 0]


def test_gpu_hour_plan(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/plan-gpu", "timestamp": "2026-03-02T10:00", "count": 60},
        {"offer_id": "acme/plan-gpu", "timestamp": "2026-03-03T10:00", "count": 60},
        {"offer_id": "acme/plan-gpu", "timestamp": "2026-03-04T10:00", "count": 5},
    ]
    out = priced(cat, rows)
    # 60 x 36 s = 0.6 h inside the hour; then 40 images inside, 20 x 36 s x $0.001/s = 0.72;
    # then 5 x 36 s x $0.001/s = 0.18
    assert costs(out) == approx([20.00, 0.72, 0.18])
    assert costs(out, "fee") == approx([20.00, 0.0, 0.0])


# --------------------------------------------------------------------------- allowances, rules


def test_free_allowance_spans_rows(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/free", "timestamp": "2026-03-02T10:00", "count": 6},
        {"offer_id": "acme/free", "timestamp": "2026-03-03T10:00", "count": 6},
        {"offer_id": "acme/free", "timestamp": "2026-03-04T10:00", "count": 6},
        {"offer_id": "acme/free", "timestamp": "2026-04-01T10:00", "count": 12},
    ]
    out = priced(cat, rows)
    # 10 free images a month: 6 free; 4 free + 2 x 0.04; 6 x 0.04; April: 10 free + 2 x 0.04
    assert costs(out) == approx([0.0, 0.08, 0.24, 0.08])
    assert costs(out, "list_cost") == approx([0.24, 0.24, 0.24, 0.48])


def test_committed_use_discount(cat: pricing.Catalog) -> None:
    rows = [{"offer_id": "acme/committed", "timestamp": "2026-03-02T10:00", "count": 10}]
    plain = priced(cat, rows)
    committed = priced(cat, rows, committed=True)
    assert costs(plain) == approx([0.50])
    # 20% off $0.05 = $0.04 an image; the list price stays $0.05
    assert costs(committed) == approx([0.40])
    assert costs(committed, "list_cost") == approx([0.50])


def test_price_range_gives_cost_high(cat: pricing.Catalog) -> None:
    rows = [{"offer_id": "acme/range", "timestamp": "2026-03-02T10:00", "count": 4}]
    out = priced(cat, rows)
    assert costs(out) == approx([0.16])
    assert costs(out, "cost_high") == approx([0.26])  # 4 x 0.065


MINIMUM_ROWS: list[dict[str, Any]] = [
    {"offer_id": "acme/minimum", "timestamp": "2026-01-20T10:00", "count": 20},
    {"offer_id": "acme/minimum", "timestamp": "2026-01-05T10:00", "count": 10},
    # an operation the offer does not serve: unpriced, so it cannot carry the top-up
    {"offer_id": "acme/minimum", "timestamp": "2026-01-25T10:00", "operation": "upscale"},
    {"offer_id": "acme/minimum", "timestamp": "2026-02-03T10:00", "count": 200},
]


def test_minimum_monthly_spend_tops_up_the_last_priced_row(cat: pricing.Catalog) -> None:
    out = priced(cat, MINIMUM_ROWS)
    # January: 10 x 0.04 + 20 x 0.04 = 1.20 < 5 -> 3.80 on Jan 20 (the last priced call);
    # February: 200 x 0.04 = 8.00 >= 5, no top-up
    assert costs(out, "top_up") == approx([3.80, 0.0, None, 0.0])
    assert costs(out) == approx([0.80 + 3.80, 0.40, None, 8.00])
    assert costs(out, "list_cost") == approx([0.80, 0.40, None, 8.00])
    january = out.filter(pl.col("timestamp").dt.month() == 1)["cost"].sum()
    assert january == pytest.approx(5.00, abs=TIGHT)


def test_minimum_spend_can_be_turned_off(cat: pricing.Catalog) -> None:
    out = priced(cat, MINIMUM_ROWS, minimum_spend=False)
    assert costs(out, "top_up") == approx([0.0, 0.0, None, 0.0])
    assert costs(out) == approx([0.80, 0.40, None, 8.00])


def test_sum_of_costs_equals_the_hand_computed_rows(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/grad", "timestamp": "2026-03-02T10:00", "count": 600},
        {"offer_id": "acme/grad", "timestamp": "2026-03-03T10:00", "count": 600},
        {"offer_id": "acme/plan", "timestamp": "2026-03-02T10:00", "count": 120},
        {"offer_id": "acme/free", "timestamp": "2026-03-02T10:00", "count": 15},
        {"offer_id": "acme/committed", "timestamp": "2026-03-02T10:00", "count": 3},
        {"offer_id": "acme/flat", "timestamp": "2026-03-02T10:00", "operation": "upscale"},
    ]
    out = priced(cat, rows, committed=True)
    by_hand = [
        Decimal("24.00"),  # 600 x 0.04
        Decimal("22.00"),  # 400 x 0.04 + 200 x 0.03
        Decimal("11.00"),  # fee 10 + 20 x 0.05
        Decimal("0.20"),  # 5 beyond the 10 free x 0.04
        Decimal("0.12"),  # 3 x 0.05 x 0.8
    ]
    assert out["cost"].sum() == pytest.approx(float(sum(by_hand)), abs=TIGHT)
    # the unpriced row is left out of the sum and counted, never added as 0
    assert out["cost"].null_count() == 1


# --------------------------------------------------------------------------- shapes and inputs


def test_offers_long_form(cat: pricing.Catalog) -> None:
    frame = requests(
        [
            {"timestamp": "2026-03-02T10:00", "count": 600},
            {"timestamp": "2026-03-03T10:00", "count": 600},
        ]
    )
    out = price_requests(frame, cat, offers=["acme/grad", "acme/committed"])
    assert out.height == 4
    got = {(r["id"], r["offer_id"]): r["cost"] for r in out.iter_rows(named=True)}
    assert got == {
        (0, "acme/grad"): pytest.approx(24.00, abs=TIGHT),
        (1, "acme/grad"): pytest.approx(22.00, abs=TIGHT),
        (0, "acme/committed"): pytest.approx(30.00, abs=TIGHT),
        (1, "acme/committed"): pytest.approx(30.00, abs=TIGHT),
    }


def test_offers_refuses_a_table_with_offer_id(cat: pricing.Catalog) -> None:
    frame = requests([{"offer_id": "acme/grad", "timestamp": "2026-03-02T10:00"}])
    with pytest.raises(PricingError, match="already have an offer_id column"):
        price_requests(frame, cat, offers=["acme/flat"])


def test_offers_unknown_id_raises_with_a_hint(cat: pricing.Catalog) -> None:
    frame = requests([{"timestamp": "2026-03-02T10:00"}])
    with pytest.raises(PricingError, match=r"unknown offer 'acme/grd'.*did you mean acme/grad"):
        price_requests(frame, cat, offers=["acme/grd"])


def test_missing_offer_id_column(cat: pricing.Catalog) -> None:
    frame = requests([{"timestamp": "2026-03-02T10:00"}])
    with pytest.raises(PricingError, match=r"no offer_id column.*offers="):
        price_requests(frame, cat)


def test_as_of_prices_every_row_on_one_day_but_months_follow_timestamps(
    cat: pricing.Catalog,
) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/changing", "timestamp": "2026-02-10T10:00", "count": 600},
        {"offer_id": "acme/changing", "timestamp": "2026-02-20T10:00", "count": 600},
        {"offer_id": "acme/changing", "timestamp": "2026-03-05T10:00", "count": 600},
    ]
    out = priced(cat, rows, as_of="2026-04-01")
    # the 0.06 / 0.01 tiers of 2026-03-15 for every row; March starts a new month's volume
    assert costs(out) == approx([36.00, 26.00, 36.00])
    assert out["priced_on"].to_list() == [date(2026, 4, 1)] * 3
    assert out["price_version"].cast(pl.String).to_list() == ["2026-03-15/acme-docs"] * 3
    own_days = priced(cat, rows)
    assert costs(own_days) == approx([24.00, 22.00, 24.00])


def test_without_timestamps_rows_are_priced_on_as_of(cat: pricing.Catalog) -> None:
    frame = pl.DataFrame({"offer_id": ["acme/changing", "acme/changing"], "count": [600, 600]})
    out = price_requests(frame, cat, as_of=date(2026, 2, 1))
    assert out["priced_on"].to_list() == [date(2026, 2, 1)] * 2
    assert sorted(out["cost"].to_list()) == approx([22.00, 24.00])  # one month, 600 then 600


def test_lazy_in_lazy_out(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/grad", "timestamp": "2026-03-02T10:00", "count": 600},
        {"offer_id": "acme/grad", "timestamp": "2026-03-03T10:00", "count": 600},
    ]
    frame = requests(rows)
    lazy = price_requests(frame.lazy(), cat)
    assert isinstance(lazy, pl.LazyFrame)
    eager = price_requests(frame, cat)
    assert isinstance(eager, pl.DataFrame)
    assert_frame_equal(lazy.collect().sort("id"), eager.sort("id"))
    assert costs(eager.sort("id")) == approx([24.00, 22.00])


def test_input_columns_kept_and_defaults_filled(cat: pricing.Catalog) -> None:
    frame = pl.DataFrame(
        {
            "id": [7],
            "note": ["hello"],
            "offer_id": ["acme/flat"],
            "timestamp": [datetime(2026, 3, 2, 10, tzinfo=UTC)],
        }
    )
    out = price_requests(frame, cat)
    assert out.columns[:4] == ["id", "note", "offer_id", "timestamp"]
    assert out.columns[-len(PRICED_COLUMNS) :] == list(PRICED_COLUMNS)
    for name, dtype in PRICED_COLUMNS.items():
        assert out.schema[name] == dtype, name
    row = out.row(0, named=True)
    assert row["id"] == 7
    assert row["note"] == "hello"
    assert row["model"] == "m"
    assert row["account"] == "default"
    assert row["operation"] == "generate"
    assert (row["width"], row["height"], row["count"]) == (1024, 1024, 1)
    assert "quality" in out.columns
    assert row["quality"] is None
    assert row["prior_images"] is None  # kept only for versions with tiers, allowances, plans
    assert row["cost"] == pytest.approx(0.04, abs=TIGHT)


def test_date_timestamps_are_accepted(cat: pricing.Catalog) -> None:
    frame = pl.DataFrame(
        {
            "offer_id": ["acme/grad", "acme/grad"],
            "timestamp": [date(2026, 3, 2), date(2026, 3, 3)],
            "count": [600, 600],
        }
    )
    out = price_requests(frame, cat).sort("timestamp")
    assert costs(out) == approx([24.00, 22.00])
    assert out["priced_on"].to_list() == [date(2026, 3, 2), date(2026, 3, 3)]
    assert out.schema["timestamp"] == pl.Date  # the input column is kept as given


def test_naive_datetimes_are_rejected(cat: pricing.Catalog) -> None:
    frame = pl.DataFrame(
        {"offer_id": ["acme/flat"], "timestamp": [datetime(2026, 3, 2, 10)]}  # noqa: DTZ001
    )
    with pytest.raises(PricingError, match=r"no time zone.*replace_time_zone"):
        price_requests(frame, cat)


def test_text_timestamps_are_rejected(cat: pricing.Catalog) -> None:
    frame = pl.DataFrame({"offer_id": ["acme/flat"], "timestamp": ["2026-03-02T10:00:00Z"]})
    with pytest.raises(PricingError, match="parse it to a Datetime"):
        price_requests(frame, cat)


def test_a_model_column_is_checked_against_the_offer(cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/flat", "model": "m", "timestamp": "2026-03-02T10:00"},
        {"offer_id": "acme/flat", "model": "n", "timestamp": "2026-03-02T10:00"},
    ]
    out = priced(cat, rows)
    assert costs(out) == approx([0.04, None])
    assert out["reason"][1] == "acme/flat serves model 'm', not the row's model"


def test_a_null_model_is_not_a_mismatch(cat: pricing.Catalog) -> None:
    """REQUEST_COLUMNS: model is "checked against the offer's model when given"."""
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/flat", "model": "m", "timestamp": "2026-03-02T10:00"},
        {"offer_id": "acme/flat", "model": None, "timestamp": "2026-03-02T10:00"},
    ]
    out = priced(cat, rows)
    assert out["reason"].to_list() == [None, None]
    assert costs(out) == approx([0.04, 0.04])


# --------------------------------------------------------------------------- reasons


def unpriced(cat: pricing.Catalog, row: dict[str, Any]) -> dict[str, Any]:
    """Price one row that must stay unpriced; returns it, after the common checks."""
    # The synthetic sources turn stale during 2026; these reasons are about the prices'
    # own dates and limits, so every price is admitted.
    out = priced(cat, [{"timestamp": "2026-03-02T10:00", **row}], evidence="all").row(0, named=True)
    for money in ("cost", "list_cost", "fee", "top_up", "cost_high"):
        assert out[money] is None, (money, out)
    assert out["reason"], out
    return out


REASON_CASES: list[tuple[dict[str, Any], str]] = [
    (
        {"offer_id": "acme/old", "timestamp": "2026-04-01T00:00"},
        "model 'old' was retired on 2026-04-01",
    ),
    (
        {"offer_id": "acme/grad", "timestamp": "2025-12-31T23:00"},
        "acme/grad has no price in force on that day; its prices cover 2026-01-01 to now",
    ),
    (
        {"offer_id": "acme/changing", "timestamp": "2025-06-01T00:00"},
        "acme/changing has no price in force on that day; its prices cover "
        "2026-01-01 to 2026-03-15, 2026-03-15 to now",
    ),
    (
        {"offer_id": "acme/flat", "operation": "upscale"},
        "acme/flat does not serve that operation; it serves generate, edit",
    ),
    (
        {"offer_id": "acme/limited", "width": 1536, "height": 1536},
        "acme/limited allows at most 2 MP",
    ),
    (
        {"offer_id": "acme/limited", "width": 3072, "height": 512},
        "acme/limited allows sides up to 2048 px",
    ),
    (
        {"offer_id": "acme/limited", "width": 128, "height": 1024},
        "acme/limited needs sides of at least 256 px",
    ),
    (
        {"offer_id": "acme/limited", "width": 1000, "height": 1000},
        "acme/limited needs width and height in multiples of 32 px",
    ),
    (
        {"offer_id": "acme/token"},
        "acme/token prices by quality; give a quality, one of low, high",
    ),
    (
        {"offer_id": "acme/token", "quality": "ultra"},
        "acme/token has no such quality; use one of low, high",
    ),
    (
        {"offer_id": "acme/token", "quality": "low", "width": 512, "height": 512},
        "acme/token (2026-01-01/acme-docs) has no output-token count for that size and quality",
    ),
    (
        {"offer_id": "acme/step"},
        "acme/step (2026-01-01/acme-docs) prices per inference step; give steps",
    ),
    (
        {"offer_id": "acme/gpu"},
        "acme/gpu (2026-01-01/acme-docs) is billed per GPU-second without a run-time estimate; "
        "give seconds",
    ),
]


@pytest.mark.parametrize(("row", "reason"), REASON_CASES)
def test_unpriced_rows_say_why_and_name_the_offer(
    cat: pricing.Catalog, row: dict[str, Any], reason: str
) -> None:
    out = unpriced(cat, row)
    assert out["reason"] == reason


def test_unknown_offer_and_operation(cat: pricing.Catalog) -> None:
    out = unpriced(cat, {"offer_id": "acme/nope"})
    assert out["reason"].startswith("unknown offer_id")
    assert out["provider"] is None
    out = unpriced(cat, {"offer_id": "acme/flat", "operation": "paint"})
    assert out["reason"].startswith("missing or unknown operation")


def test_reasons_for_unreadable_numbers(cat: pricing.Catalog) -> None:
    assert unpriced(cat, {"offer_id": "acme/flat", "width": 0})["reason"].startswith(
        "missing, zero or negative width or height"
    )
    assert unpriced(cat, {"offer_id": "acme/flat", "count": -1})["reason"].startswith(
        "missing, zero or negative count"
    )


def test_the_same_requests_priced_where_a_price_exists(cat: pricing.Catalog) -> None:
    """The rows next to the unpriced ones above are priced: the checks are not too eager."""
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/old", "timestamp": "2026-03-31T23:00"},  # the day before retirement
        {"offer_id": "acme/limited", "width": 1408, "height": 1408},  # 1.98 MP, 44 x 32
        {"offer_id": "acme/token", "quality": "high"},  # 4160 tokens x $40 / 1M
        {"offer_id": "acme/step", "steps": 28},  # 28 x 0.0005 at the reference 1024 x 1024
        {"offer_id": "acme/gpu", "seconds": 3.5},  # 3.5 s x 0.001
    ]
    rows = [{"timestamp": "2026-03-02T10:00", **r} for r in rows]
    out = priced(cat, rows)
    assert out["reason"].to_list() == [None] * 5
    assert costs(out) == approx([0.02, 0.04, 0.1664, 0.014, 0.0035])


@pytest.mark.parametrize("text", [pl.Categorical, pl.Enum])
def test_categorical_text_columns_price_as_strings_do(
    cat: pricing.Catalog, text: type[pl.DataType]
) -> None:
    """Offer, model, operation and quality as Categorical or Enum columns (polars' compact
    text), unknown values included, give what the same columns as strings give."""
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/token", "quality": "high", "model": "m"},  # 4160 tokens x $40 / 1M
        {"offer_id": "acme/token", "quality": "ultra", "model": "m"},  # no such quality
        {"offer_id": "acme/flat", "operation": "edit", "model": "m"},  # $0.04
        {"offer_id": "acme/flat", "operation": "paint", "model": "m"},  # unknown operation
        {"offer_id": "acme/nope", "model": "m"},  # unknown offer
        {"offer_id": "acme/flat", "model": "n"},  # the offer serves m
    ]
    frame = requests([{"timestamp": "2026-03-02T10:00", **r} for r in rows])
    names = ["offer_id", "model", "operation", "quality"]

    def as_text(name: str) -> pl.Expr:
        if text == pl.Categorical:
            return pl.col(name).cast(pl.Categorical)
        return pl.col(name).cast(pl.Enum(frame[name].drop_nulls().unique().sort()))

    coded = frame.with_columns(as_text(n) for n in names)
    want = price_requests(frame, cat).sort("id")
    got = price_requests(coded, cat).sort("id")
    assert [r is None for r in want["reason"]] == [True, False, True, False, False, False]
    assert costs(want)[:3] == approx([0.1664, None, 0.04])
    for column in ["cost", "reason", "price_version", "provider"]:
        assert got[column].cast(pl.String).to_list() == want[column].cast(pl.String).to_list()


# --------------------------------------------------------------------------- currency

FX_OFFERS = offer(
    version('{ unit = "image", price = 0.04 }', effective_from="2015-01-01"),
    offer_id="acme/usd",
) + offer(
    version(
        '{ unit = "image", price = 0.10 }',
        effective_from="2015-01-01",
        settings='  currency = "EUR"',
    ),
    offer_id="acme/eur",
)
#: ECB reference rates of 2015-01-07 [currency per EUR].
USD, GBP = Decimal("1.1831"), Decimal("0.78230")


def fx_frame(rows: list[tuple[date, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "date": [d for d, _, _ in rows],
            "currency": [c for _, c, _ in rows],
            "per_eur": [Decimal(r) for _, _, r in rows],
        },
        schema={"date": pl.Date, "currency": pl.String, "per_eur": pl.Decimal(38, 10)},
    )


ECB_DAY = date(2015, 1, 7)
#: As the ECB parser returns them: one EUR row (= 1) per day.
RATES = fx_frame([(ECB_DAY, "USD", "1.1831"), (ECB_DAY, "GBP", "0.78230"), (ECB_DAY, "EUR", "1")])


@pytest.fixture(scope="module")
def fx_cat(tmp_path_factory: pytest.TempPathFactory) -> pricing.Catalog:
    return pricing.load_catalog(
        write_data(tmp_path_factory.mktemp("vector-fx"), {"acme": FX_OFFERS})
    )


def test_costs_converted_to_eur(fx_cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/usd", "timestamp": "2015-01-07T10:00", "count": 1},
        {"offer_id": "acme/usd", "timestamp": "2015-01-07T11:00", "count": 3},
        {"offer_id": "acme/eur", "timestamp": "2015-01-07T12:00", "count": 2},
    ]
    out = priced(fx_cat, rows, currency="EUR", fx=RATES)
    want = [Decimal("0.04") / USD, Decimal("0.12") / USD, Decimal("0.20")]
    assert costs(out) == approx([float(w) for w in want])
    assert costs(out, "list_cost") == approx([float(w) for w in want])
    assert out["currency"].cast(pl.String).to_list() == ["EUR"] * 3
    assert out["reason"].to_list() == [None] * 3


def test_eur_needs_no_eur_row_in_the_rates(fx_cat: pricing.Catalog) -> None:
    """EUR is 1 per EUR by definition (fx_rate and fx_days need no EUR row either)."""
    rates = fx_frame([(ECB_DAY, "USD", "1.1831")])
    rows = [{"offer_id": "acme/usd", "timestamp": "2015-01-07T10:00"}]
    out = priced(fx_cat, rows, currency="EUR", fx=rates)
    assert out["reason"].to_list() == [None]
    assert costs(out) == approx([float(Decimal("0.04") / USD)])


def test_cross_rates_through_eur(fx_cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/usd", "timestamp": "2015-01-07T10:00"},
        {"offer_id": "acme/eur", "timestamp": "2015-01-07T10:00"},
    ]
    to_gbp = priced(fx_cat, rows, currency="GBP", fx=RATES)
    assert costs(to_gbp) == approx(
        [float(Decimal("0.04") * GBP / USD), float(Decimal("0.10") * GBP)]
    )
    to_usd = priced(fx_cat, rows, currency="USD", fx=RATES)
    assert costs(to_usd) == approx([0.04, float(Decimal("0.10") * USD)])


def test_rates_older_than_max_age_leave_rows_unpriced(fx_cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/usd", "timestamp": "2015-01-06T10:00"},  # before the first rate
        {"offer_id": "acme/usd", "timestamp": "2015-01-14T10:00"},  # 7 days old: fine
        {"offer_id": "acme/usd", "timestamp": "2015-01-15T10:00"},  # 8 days old
        {"offer_id": "acme/usd", "timestamp": "2015-03-01T10:00"},  # long after
    ]
    out = priced(fx_cat, rows, currency="EUR", fx=RATES)
    rate = float(Decimal("0.04") / USD)
    assert costs(out) == approx([None, rate, None, None])
    for i in (0, 2, 3):
        assert out["reason"][i].startswith("no exchange rate for the currency on that day")
        assert out["list_cost"][i] is None
    wider = priced(fx_cat, rows, currency="EUR", fx=RATES, max_fx_age_days=8)
    assert costs(wider) == approx([None, rate, rate, None])


def test_same_currency_needs_no_rates(cat: pricing.Catalog) -> None:
    rows = [{"offer_id": "acme/flat", "timestamp": "2026-03-02T10:00", "count": 2}]
    out = priced(cat, rows, currency="USD", fx=fx_frame([]))
    assert out["reason"].to_list() == [None]
    assert costs(out) == approx([0.08])
    assert out["currency"].cast(pl.String).to_list() == ["USD"]


def test_rows_in_the_target_currency_need_no_rates(fx_cat: pricing.Catalog) -> None:
    rows: list[dict[str, Any]] = [
        {"offer_id": "acme/usd", "timestamp": "2015-06-01T10:00"},
        {"offer_id": "acme/eur", "timestamp": "2015-06-01T10:00"},
    ]
    out = priced(fx_cat, rows, currency="USD", fx=fx_frame([]))
    assert costs(out) == approx([0.04, None])
    assert out["reason"][1].startswith("no exchange rate")


def test_currency_must_be_an_iso_code(cat: pricing.Catalog) -> None:
    frame = requests([{"offer_id": "acme/flat", "timestamp": "2026-03-02T10:00"}])
    with pytest.raises(PricingError, match="ISO 4217"):
        price_requests(frame, cat, currency="eur")
