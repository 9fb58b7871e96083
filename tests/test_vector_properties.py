"""``price_requests`` agrees with ``quote()`` on every row, and does not depend on row order.

Random request tables are priced two ways: the vectorised engine in one call, and ``quote()``
row by row with ``monthly_volume`` set to the images already priced on that account, offer and
month before the row (what the engine must derive itself). They must agree to a millionth of
a cent, including across volume tiers, plan allowances, free allowances, version changes and
retirements; where ``quote()`` raises, the engine must leave the cost null with a reason.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import pricing
from pricing import PricingError
from pricing._cards.fields import OPERATIONS
from pricing._vector.requests import price_requests
from tests.conftest import offer, version, write_data
from tests.test_properties import OFFERS

#: More synthetic offers: prices that change over time, retirement, limits, sizes and qualities.
EXTRA: dict[str, str] = {
    "acme/changing": offer(
        version('{ unit = "image", price = 0.05 }', effective_from="2026-01-01").replace(
            "\n\n", "\n  effective_to = 2026-03-15\n\n", 1
        )
        + version(
            '{ unit = "image", tiers = [{ start = 0, price = 0.04 }, '
            "{ start = 20, price = 0.02 }] }",
            effective_from="2026-03-15",
        ),
        offer_id="acme/changing",
    ),
    "acme/retiring": offer(
        version('{ unit = "image", price = 0.03 }', effective_from="2026-02-01").replace(
            "\n\n", "\n  effective_to = 2026-05-01\n\n", 1
        ),
        offer_id="acme/retiring",
    ),
    "acme/sized": offer(
        version(
            '{ unit = "image", price = 0.04, when = { size = "1024x1024" } }, '
            '{ unit = "image", price = 0.08, when = { size = "1792x1024" } }, '
            '{ unit = "input_image", price = 0.002 }',
            settings="  committed_use_discount = 0.2",
        ),
        offer_id="acme/sized",
        settings='limits = { sizes = ["1024x1024", "1792x1024", "1024x1792"] }',
    ),
    "acme/quality": offer(
        version(
            '{ unit = "image", price = 0.01, when = { quality = "low" } }, '
            '{ unit = "image", price = 0.05, when = { quality = "high", operation = "generate" } }'
        ),
        offer_id="acme/quality",
        settings='qualities = ["low", "high"]\ndefault_quality = "low"',
    ),
    "acme/limited": offer(
        version(
            '{ unit = "megapixel", price = 0.02 }',
            settings="  minimum_monthly_spend = 1.5",
        ),
        offer_id="acme/limited",
        settings="limits = { max_megapixels = 2, min_side = 256, max_side = 2048, "
        "multiple_of = 32, max_input_images = 2, min_steps = 4, max_steps = 50 }",
    ),
    "acme/old": offer(
        version('{ unit = "image", price = 0.02 }'),
        offer_id="acme/old",
        model="old",
        operations='["generate"]',
    ),
}
SYNTHETIC = {**OFFERS, **EXTRA}
DAYS = [
    date(2025, 12, 31),
    date(2026, 1, 1),
    date(2026, 1, 31),
    date(2026, 2, 1),
    date(2026, 3, 14),
    date(2026, 3, 15),
    date(2026, 3, 31),
    date(2026, 4, 1),
    date(2026, 4, 30),
    date(2026, 5, 1),
    date(2026, 6, 1),
]
SIDES = [64, 256, 512, 1000, 1024, 1536, 1792, 2048, 3000, 4096]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> pricing.Catalog:
    root = write_data(tmp_path_factory.mktemp("vector"), {"acme": "".join(SYNTHETIC.values())})
    return pricing.load_catalog(root)


@pytest.fixture(scope="module")
def bundled() -> pricing.Catalog:
    return pricing.load_catalog()


def rows_strategy(offer_ids: list[str], days: list[date], qualities: list[str]) -> Any:
    row = st.fixed_dictionaries(
        {
            "offer_id": st.sampled_from(offer_ids),
            "day": st.sampled_from(days),
            "account": st.sampled_from(["a", "b"]),
            "operation": st.sampled_from(OPERATIONS[:3]),
            "width": st.sampled_from(SIDES),
            "height": st.sampled_from(SIDES),
            "count": st.integers(1, 12),
            "quality": st.none() | st.sampled_from([*qualities, "bogus"]),
            "steps": st.none() | st.integers(1, 60),
            "input_images": st.integers(0, 3),
            "input_size": st.none() | st.sampled_from([(512, 512), (1024, 1024), (2048, 1536)]),
            "seconds": st.none() | st.decimals(min_value="0.1", max_value="30", places=2),
            "prompt_tokens": st.sampled_from([0, 0, 50, 5000]),
            "input_image_tokens": st.none() | st.integers(0, 5000),
        }
    )
    return st.lists(row, min_size=1, max_size=25)


def to_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows with distinct timestamps (a second apart within the day, in list order)."""
    out = []
    for i, r in enumerate(rows):
        iw, ih = r["input_size"] or (None, None)
        out.append(
            {
                "id": i,
                "offer_id": r["offer_id"],
                "timestamp": datetime.combine(r["day"], datetime.min.time(), UTC)
                + timedelta(seconds=i),
                "account": r["account"],
                "operation": r["operation"],
                "width": r["width"],
                "height": r["height"],
                "count": r["count"],
                "quality": r["quality"],
                "steps": r["steps"],
                "input_images": r["input_images"],
                "input_width": iw,
                "input_height": ih,
                "seconds": None if r["seconds"] is None else float(r["seconds"]),
                "prompt_tokens": r["prompt_tokens"],
                "input_image_tokens": r["input_image_tokens"],
            }
        )
    return pl.DataFrame(out, schema_overrides={"timestamp": pl.Datetime("us", "UTC")})


def expected(cat: pricing.Catalog, rows: list[dict[str, Any]]) -> list[pricing.Quote | str]:
    """quote() per row, in timestamp order, with the month's running volume."""
    volume: dict[tuple[str, str, int, int], int] = defaultdict(int)
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["day"], i))
    results: list[pricing.Quote | str] = [""] * len(rows)
    for i in order:
        r = rows[i]
        off = cat.offer(r["offer_id"])
        iw, ih = r["input_size"] or (r["width"], r["height"])
        key = (r["account"], r["offer_id"], r["day"].year, r["day"].month)
        try:
            req = pricing.ImageRequest(
                model=off.model,
                operation=r["operation"],
                width=r["width"],
                height=r["height"],
                count=r["count"],
                quality=r["quality"],
                steps=r["steps"],
                input_images=[(iw, ih)] * r["input_images"],
                seconds=r["seconds"],
                prompt_tokens=r["prompt_tokens"],
                input_image_tokens=r["input_image_tokens"],
            )
            q = pricing.quote(req, off, as_of=r["day"], monthly_volume=volume[key], catalog=cat)
        except PricingError as exc:
            results[i] = str(exc)
            continue
        volume[key] += r["count"]
        results[i] = q
    return results


def check(cat: pricing.Catalog, rows: list[dict[str, Any]]) -> None:
    frame = to_frame(rows)
    priced = price_requests(frame, cat).sort("id")
    assert priced.height == len(rows)
    for want, got in zip(expected(cat, rows), priced.iter_rows(named=True), strict=True):
        if isinstance(want, str):
            assert got["cost"] is None, (want, got)
            assert got["reason"], (want, got)
            continue
        assert got["reason"] is None, (want.total, got)
        total = float(want.total)
        usage = got["cost"] - got["top_up"]  # quote() prices a call, not a month's minimum
        assert usage == pytest.approx(total, rel=1e-9, abs=1e-12), (want, got)
        assert abs(Decimal(repr(usage)) - want.total) < Decimal("0.00001")
        if want.total_high is None:
            assert got["cost_high"] is None
        else:
            assert got["cost_high"] == pytest.approx(float(want.total_high), rel=1e-9)
        fee = sum((i.amount for i in want.line_items if i.unit == "month"), Decimal(0))
        assert got["fee"] == pytest.approx(float(fee), abs=1e-12)
        assert got["price_version"] == want.price_version
        assert got["source_id"] == want.source_id
        assert got["currency"] == want.currency
        assert got["provider"] == want.provider


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_matches_quote_on_synthetic_offers(synthetic: pricing.Catalog, data: st.DataObject) -> None:
    rows = data.draw(rows_strategy(list(SYNTHETIC), DAYS, ["low", "high"]))
    check(synthetic, rows)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_matches_quote_across_tier_thresholds(
    synthetic: pricing.Catalog, data: st.DataObject
) -> None:
    """Many rows on the tiered and allowance offers in one month, to cross every threshold."""
    offers = ["acme/graduated", "acme/all-units", "acme/plan", "acme/free", "acme/changing"]
    rows = data.draw(rows_strategy(offers, [date(2026, 3, 14), date(2026, 3, 15)], []))
    big = data.draw(st.lists(st.integers(1, 1500), min_size=len(rows), max_size=len(rows)))
    for r, n in zip(rows, big, strict=True):
        r["count"] = n
        r["account"] = "a"
    check(synthetic, rows)


def _bundled_days(cat: pricing.Catalog) -> list[date]:
    days: set[date] = set()
    for _, o in cat.all_offers():
        for v in o.versions:
            days |= {v.effective_from, v.effective_from - timedelta(days=1)}
            if v.effective_to is not None:
                days |= {v.effective_to, v.effective_to - timedelta(days=1)}
    return sorted(d for d in days if d >= date(2025, 1, 1))


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_matches_quote_on_the_bundled_catalog(
    bundled: pricing.Catalog, data: st.DataObject
) -> None:
    offers = sorted(o.id for _, o in bundled.all_offers())
    qualities = sorted({q for _, o in bundled.all_offers() for q in o.qualities})
    rows = data.draw(rows_strategy(offers, _bundled_days(bundled), qualities))
    check(bundled, rows)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_result_does_not_depend_on_row_order(
    synthetic: pricing.Catalog, data: st.DataObject
) -> None:
    """Shuffled rows price the same, even with ties in the timestamps."""
    offers = ["acme/graduated", "acme/all-units", "acme/plan", "acme/free", "acme/limited"]
    rows = data.draw(rows_strategy(offers, [date(2026, 3, 15)], []))
    frame = to_frame(rows).with_columns(
        timestamp=pl.col("timestamp").dt.truncate("1h")  # every row at the same instant
    )
    perm = data.draw(st.permutations(list(range(frame.height))))
    a = price_requests(frame, synthetic).sort("id")
    b = price_requests(frame[perm], synthetic).sort("id")
    assert_frame_equal(a, b, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
    # and the month's bill is the same whatever the order
    assert a["cost"].sum() == pytest.approx(b["cost"].sum(), rel=1e-12)
