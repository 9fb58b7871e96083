"""Shapes keyed by the prices in force, not by the day: bit for bit the prices of each day.

``price_requests`` prices each distinct request *shape* once. A row's day enters its shape
only through its offer's price segment: the run of days on which the same versions are in
force (the primary, and each fallback). Here versions change mid-month, one offer falls back
to another source for a size its new primary does not take, and the costs are checked
against the price of each row's own day worked out by hand, bit for bit; and against each
day priced on its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import pricing
from pricing._base.dates import day_of
from pricing._vector.columns import utc_timestamps
from pricing._vector.compiled import compile_catalog
from pricing._vector.shape_keys import row_keys
from tests.conftest import offer, version, write_data


def image(price: str) -> str:
    return f'{{ unit = "image", price = {price} }}'


OFFERS = "".join(
    [
        # 0.04 until 2026-03-15, then 0.05
        offer(
            version(image("0.04"), settings="  effective_to = 2026-03-15"),
            version(image("0.05"), effective_from="2026-03-15"),
            offer_id="acme/step-up",
        ),
        # a third-party 0.07 for every size; from 2026-03-10 an official 0.03 for 1024x1024
        # only, which takes precedence there: other sizes fall back to the third-party price
        offer(
            version(image("0.07"), source="blog"),
            version(
                image("0.03"),
                effective_from="2026-03-10",
                settings='  limits = { sizes = ["1024x1024"] }',
            ),
            offer_id="acme/fallback",
        ),
        # graduated tiers that change mid-month: the month's volume runs on across versions
        offer(
            version(
                '{ unit = "image", tiers = [{ start = 0, price = 0.04 }, '
                "{ start = 1000, price = 0.03 }] }",
                settings="  effective_to = 2026-03-15",
            ),
            version(
                '{ unit = "image", tiers = [{ start = 0, price = 0.06 }, '
                "{ start = 1000, price = 0.01 }] }",
                effective_from="2026-03-15",
            ),
            offer_id="acme/changing",
        ),
    ]
)
MARCH = [date(2026, 3, 1) + timedelta(days=i) for i in range(31)]
SIZES = [(1024, 1024), (1536, 1024)]


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> pricing.Catalog:
    root = write_data(tmp_path_factory.mktemp("vector-shapes"), {"acme": OFFERS})
    return pricing.load_catalog(root)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def month_of_calls() -> pl.DataFrame:
    """Every day of March, on each flat offer, in both sizes, of 1 and of 3 images."""
    rows: list[dict[str, Any]] = [
        {"timestamp": noon(day), "offer_id": o, "width": w, "height": h, "count": n}
        for day in MARCH
        for o in ("acme/step-up", "acme/fallback")
        for w, h in SIZES
        for n in (1, 3)
    ]
    return pl.DataFrame(rows).with_row_index("id")


def by_hand(row: dict[str, Any]) -> tuple[float, str]:
    """The cost and version of a row on its own day, as ``quote()`` picks the version."""
    day = row["timestamp"].date()
    if row["offer_id"] == "acme/step-up":
        price, vid = (
            ("0.04", "2026-01-01/acme-docs")
            if day < date(2026, 3, 15)
            else ("0.05", "2026-03-15/acme-docs")
        )
    elif day >= date(2026, 3, 10) and (row["width"], row["height"]) == (1024, 1024):
        price, vid = "0.03", "2026-03-10/acme-docs"
    else:  # before the official price, or a size it does not take: the third-party price
        price, vid = "0.07", "2026-01-01/blog"
    return row["count"] * float(Decimal(price)), vid


def test_costs_are_each_days_prices_bit_for_bit(cat: pricing.Catalog) -> None:
    calls = month_of_calls()
    out = pricing.price_requests(calls, cat, evidence="all").sort("id")
    want = [by_hand(row) for row in calls.iter_rows(named=True)]
    assert out["reason"].null_count() == out.height
    assert out["cost"].to_list() == [cost for cost, _ in want]  # equal floats, not close
    assert out["list_cost"].to_list() == [cost for cost, _ in want]
    assert out["price_version"].cast(pl.String).to_list() == [vid for _, vid in want]
    days = out["timestamp"].dt.date()
    assert out["priced_on"].to_list() == days.to_list()


def test_the_month_priced_whole_is_each_day_priced_apart(cat: pricing.Catalog) -> None:
    calls = month_of_calls()
    whole = pricing.price_requests(calls, cat, evidence="all").sort("id")
    apart = pl.concat(
        pricing.price_requests(
            calls.filter(pl.col("timestamp").dt.date() == day), cat, evidence="all"
        )
        for day in MARCH
    ).sort("id")
    for name in ("price_version", "source_id", "provider", "reason"):
        whole, apart = (f.with_columns(pl.col(name).cast(pl.String)) for f in (whole, apart))
    assert_frame_equal(whole, apart)


def shape_keys(cat: pricing.Catalog, calls: pl.DataFrame) -> pl.Series:
    """Each row's shape key, as ``price_requests`` computes it."""
    ts = utc_timestamps(calls.schema)
    assert ts is not None
    rows, _ = row_keys(calls, compile_catalog(cat), day_of(ts), by_day=False)
    return rows["_key"]


@pytest.mark.parametrize(
    ("offer_id", "change"),
    [("acme/step-up", date(2026, 3, 15)), ("acme/fallback", date(2026, 3, 10))],
)
def test_a_request_has_one_shape_per_run_of_prices_not_per_day(
    cat: pricing.Catalog, offer_id: str, change: date
) -> None:
    calls = month_of_calls().filter(offer_id=offer_id, width=1536, count=3)
    assert calls.height == len(MARCH)
    keys = shape_keys(cat, calls)
    # the key changes where the versions in force change, and only there
    starts = calls["timestamp"].dt.date().filter(keys != keys.shift(1).fill_null(-1))
    assert starts.to_list() == [date(2026, 3, 1), change]
    assert keys.n_unique() == 2


def test_by_the_day_when_costs_follow_the_days_exchange_rate(cat: pricing.Catalog) -> None:
    days = [date(2026, 3, 2), date(2026, 3, 3)]
    rates = pl.DataFrame(
        {"date": days, "currency": ["USD", "USD"], "per_eur": [1.25, 1.0]},
        schema={"date": pl.Date, "currency": pl.String, "per_eur": pl.Float64},
    )
    calls = pl.DataFrame({"timestamp": [noon(d) for d in days], "offer_id": ["acme/step-up"] * 2})
    out = pricing.price_requests(calls, cat, currency="EUR", fx=rates, evidence="all")
    assert out["cost"].to_list() == [0.04 * (1.0 / 1.25), 0.04 * (1.0 / 1.0)]


def test_the_months_volume_runs_on_across_a_version_change(cat: pricing.Catalog) -> None:
    days = [date(2026, 3, 10), date(2026, 3, 14), date(2026, 3, 16), date(2026, 3, 20)]
    calls = pl.DataFrame(
        {"timestamp": [noon(d) for d in days], "offer_id": ["acme/changing"] * 4, "count": 600}
    )
    out = pricing.price_requests(calls, cat, evidence="all")
    assert out["prior_images"].to_list() == [0, 600, 1200, 1800]
    # 600 x 0.04; 400 x 0.04 + 200 x 0.03; then 600 x 0.01 twice on the new version
    assert out["cost"].to_list() == pytest.approx([24.0, 22.0, 6.0, 6.0], abs=1e-9)
    assert out["price_version"].cast(pl.String).to_list() == [
        "2026-01-01/acme-docs",
        "2026-01-01/acme-docs",
        "2026-03-15/acme-docs",
        "2026-03-15/acme-docs",
    ]
    assert shape_keys(cat, calls).n_unique() == 2


def test_wide_numbers_pack_into_keys_without_overflow(cat: pricing.Catalog) -> None:
    """Parts of wide ranges (sides up to the limit, a billion prompt tokens) need a key
    renumbered on the way: each row still prices as it does alone."""
    calls = pl.DataFrame(
        {
            "timestamp": [noon(date(2026, 3, d)) for d in (1, 2, 3, 20, 21, 22)],
            "offer_id": ["acme/step-up", "acme/fallback"] * 3,
            "width": [1, 100_000, 1024, 99_999, 2, 1024],
            "height": [100_000, 1, 1024, 3, 99_998, 1024],
            "count": [1, 10_000, 2, 9_999, 3, 1],
            "prompt_tokens": [0, 10**9, 7, 10**9 - 1, 12_345, 0],
            "steps": [1, 10**4, 50, 9_999, 2, None],
        }
    ).with_row_index("id")
    whole = pricing.price_requests(calls, cat, evidence="all")
    alone = pl.concat(
        pricing.price_requests(calls.slice(i, 1), cat, evidence="all") for i in range(6)
    )
    for name in ("price_version", "source_id", "provider", "reason"):
        whole, alone = (f.with_columns(pl.col(name).cast(pl.String)) for f in (whole, alone))
    assert_frame_equal(whole, alone)
    assert whole["cost"].null_count() < whole.height


def test_a_call_wholly_within_the_free_allowance_costs_exactly_zero(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """6 images and 2 input images each (0.24 + 0.12), all within 10 free images: 0, not an
    amount a rounding below 0 (found by the property test against quote())."""
    card = offer(
        version(
            '{ unit = "image", price = 0.04 }, { unit = "input_image", price = 0.01 }',
            settings="  free_images_per_month = 10",
        ),
        offer_id="acme/free",
    )
    cat = pricing.load_catalog(write_data(tmp_path_factory.mktemp("free"), {"acme": card}))
    calls = pl.DataFrame(
        {
            "timestamp": [noon(date(2026, 1, 1))],
            "offer_id": ["acme/free"],
            "count": [6],
            "input_images": [2],
            "operation": ["edit"],
        }
    )
    out = pricing.price_requests(calls, cat)
    assert out["reason"].to_list() == [None]
    assert out["cost"].to_list() == [0.0]
    assert out["list_cost"].to_list() == [pytest.approx(0.36)]
