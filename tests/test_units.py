"""Hand-computed prices for every billing unit and rule, on synthetic cards.

Every expected value is written as arithmetic on the rate stated in the test, never taken from
the code under test. Each volume threshold gets a case on each side (N and N + 1 images).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import pricing
from pricing import PriceNotFound, PricingError, UnsupportedRequest
from tests.conftest import DAY, CatalogBuilder, offer, request, version, write_data

MP_10_6 = Decimal(1_000_000)  # [px per MP], the default definition
MP_2_20 = Decimal(1_048_576)  # [px per MP], megapixel = 1048576
MILLION = Decimal(1_000_000)  # token prices are per 1M tokens


def total(cat: pricing.Catalog, req: pricing.ImageRequest | None = None, **kw: Any) -> Decimal:
    """Total of ``req`` (default: one 1024x1024 image of model m) on offer acme/m at DAY."""
    kw.setdefault("as_of", DAY)
    return pricing.quote(req or request(), kw.pop("offer_id", "acme/m"), catalog=cat, **kw).total


# --------------------------------------------------------------------------- per image


def test_flat_price_per_image(build: CatalogBuilder) -> None:
    cat = build(offer(version('{ unit = "image", price = 0.04 }')))
    q = pricing.quote(request(count=3), "acme/m", catalog=cat, as_of=DAY)
    assert q.total == 3 * Decimal("0.04")
    assert q.total_high is None
    assert q.per_image == Decimal("0.04")


def test_price_range_gives_total_high(build: CatalogBuilder) -> None:
    cat = build(offer(version('{ unit = "image", price = 0.04, price_high = 0.06 }')))
    q = pricing.quote(request(count=2), "acme/m", catalog=cat, as_of=DAY)
    assert q.total == 2 * Decimal("0.04")
    assert q.total_high == 2 * Decimal("0.06")


def test_input_images_priced_per_output_image(build: CatalogBuilder) -> None:
    cat = build(
        offer(version('{ unit = "image", price = 0.04 }, { unit = "input_image", price = 0.01 }'))
    )
    # 3 outputs at 0.04, each using 2 reference images at 0.01
    assert total(cat, request(count=3, input_images=2)) == 3 * Decimal("0.04") + 3 * 2 * Decimal(
        "0.01"
    )
    assert total(cat, request(count=3)) == 3 * Decimal("0.04")


# --------------------------------------------------------------------------- per megapixel

FIRST_PLUS_ADDITIONAL = '{ unit = "megapixel", first = 0.03, price = 0.015 }'


def test_first_and_additional_megapixels_at_10_6(build: CatalogBuilder) -> None:
    cat = build(offer(version(FIRST_PLUS_ADDITIONAL)))
    mp = Decimal(2048 * 1024) / MP_10_6  # 2.097152 MP
    assert mp == Decimal("2.097152")
    assert total(cat, request(width=2048, height=1024)) == Decimal("0.03") + (mp - 1) * Decimal(
        "0.015"
    )
    assert total(cat, request(width=2048, height=1024)) == Decimal("0.03") + Decimal(
        "1.097152"
    ) * Decimal("0.015")


def test_first_and_additional_megapixels_at_2_20(build: CatalogBuilder) -> None:
    cat = build(offer(version(FIRST_PLUS_ADDITIONAL, settings="  megapixel = 1048576")))
    assert Decimal(2048 * 1024) / MP_2_20 == 2  # exactly 2 MP of 1,048,576 px
    assert total(cat, request(width=2048, height=1024)) == Decimal("0.03") + 1 * Decimal("0.015")


def test_image_under_one_megapixel_pays_the_first_only(build: CatalogBuilder) -> None:
    cat = build(offer(version(FIRST_PLUS_ADDITIONAL)))
    assert total(cat, request(width=512, height=512, count=2)) == 2 * Decimal("0.03")


def test_plain_price_per_megapixel(build: CatalogBuilder) -> None:
    cat = build(offer(version('{ unit = "megapixel", price = 0.02 }')))
    # 1500 x 1000 = 1.5 MP, two images
    assert total(cat, request(width=1500, height=1000, count=2)) == 2 * Decimal("1.5") * Decimal(
        "0.02"
    )


def test_input_megapixels_per_reference_image(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version(
                '{ unit = "image", price = 0.01 }, '
                '{ unit = "megapixel", applies_to = "input", price = 0.015 }'
            )
        )
    )
    inputs = [(1000, 1000), (2000, 1000)]  # 1 MP + 2 MP
    expected = 2 * Decimal("0.01") + 2 * (1 + 2) * Decimal("0.015")
    assert total(cat, request(count=2, input_images=inputs)) == expected
    assert total(cat, request(count=2)) == 2 * Decimal("0.01")


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (1024, 768, 1 * Decimal("0.01")),  # 0.786432 MP -> 1
        (1000, 1000, 1 * Decimal("0.01")),  # exactly 1 MP stays 1
        (1100, 1000, 2 * Decimal("0.01")),  # 1.1 MP -> 2
    ],
)
def test_megapixels_rounded_up(
    build: CatalogBuilder, width: int, height: int, expected: Decimal
) -> None:
    cat = build(offer(version('{ unit = "megapixel", price = 0.01, rounding = "up" }')))
    assert total(cat, request(width=width, height=height)) == expected


def test_megapixels_exact_are_not_rounded(build: CatalogBuilder) -> None:
    cat = build(offer(version('{ unit = "megapixel", price = 0.01 }')))
    assert total(cat, request(width=1100, height=1000)) == Decimal("1.1") * Decimal("0.01")


def test_charge_rounded_up_to_increment(build: CatalogBuilder) -> None:
    comp = '{ unit = "megapixel", first = 0.03, price = 0.015, rounding = "increment", '
    cat = build(offer(version(comp + "increment = 0.005 }")))
    # 0.03 + 1.097152 * 0.015 = 0.04645728 per image -> next multiple of 0.005 is 0.05
    assert Decimal("0.03") + Decimal("1.097152") * Decimal("0.015") == Decimal("0.04645728")
    assert total(cat, request(width=2048, height=1024, count=2)) == 2 * Decimal("0.05")
    # 1 MP costs exactly the first 0.03, already a multiple of 0.005
    assert total(cat, request(width=1000, height=1000)) == Decimal("0.03")


def test_minimum_megapixels(build: CatalogBuilder) -> None:
    cat = build(offer(version('{ unit = "megapixel", price = 0.02, minimum_mp = 1 }')))
    assert total(cat, request(width=512, height=512)) == 1 * Decimal("0.02")  # 0.262144 MP -> 1
    assert total(cat, request(width=2000, height=1000)) == 2 * Decimal("0.02")


# --------------------------------------------------------------------------- per GPU-second


def gpu(extra: str = "") -> str:
    return offer(version(f'{{ unit = "gpu_second", hardware = "A100", price = 0.001{extra} }}'))


def test_gpu_seconds_given(build: CatalogBuilder) -> None:
    cat = build(gpu())
    assert total(cat, request(seconds=Decimal("2.5"))) == Decimal("2.5") * Decimal("0.001")
    assert total(cat, request(seconds=Decimal("2.5"), count=2)) == 2 * Decimal("2.5") * Decimal(
        "0.001"
    )


@pytest.mark.parametrize(
    ("granularity", "seconds", "billed"),
    [
        ("1", "2.3", 3),
        ("1", "3", 3),
        ("0.5", "2.3", Decimal("2.5")),
        ("0.5", "2.5", Decimal("2.5")),
    ],
)
def test_gpu_seconds_billed_by_granularity(
    build: CatalogBuilder, granularity: str, seconds: str, billed: Decimal
) -> None:
    cat = build(gpu(f", granularity_s = {granularity}"))
    assert total(cat, request(seconds=Decimal(seconds))) == billed * Decimal("0.001")


def test_gpu_seconds_minimum(build: CatalogBuilder) -> None:
    cat = build(gpu(", minimum_s = 5"))
    assert total(cat, request(seconds=Decimal(2))) == 5 * Decimal("0.001")
    assert total(cat, request(seconds=Decimal(7))) == 7 * Decimal("0.001")


def test_gpu_seconds_minimum_is_per_request(build: CatalogBuilder) -> None:
    """``minimum_s`` is documented as [s per request]: a call, not each image in it."""
    cat = build(gpu(", minimum_s = 5"))
    # one call of 4 images x 1 s = 4 s of run time, topped up to the request's 5 s minimum
    assert total(cat, request(seconds=Decimal(1), count=4)) == 5 * Decimal("0.001")
    # 4 x 2 s = 8 s is above the minimum: billed as run
    assert total(cat, request(seconds=Decimal(2), count=4)) == 8 * Decimal("0.001")


def test_gpu_granularity_rounds_the_call(build: CatalogBuilder) -> None:
    cat = build(gpu(", granularity_s = 1"))
    # 3 images x 2.3 s = 6.9 s in one call -> 7 s (not 3 x 3 s)
    assert total(cat, request(seconds=Decimal("2.3"), count=3)) == 7 * Decimal("0.001")
    # a month of 10 such calls rounds each call: 10 x 7 s
    month = pricing.monthly_cost(
        request(seconds=Decimal("2.3"), count=3), "acme/m", requests=10, catalog=cat, as_of=DAY
    )
    assert month.total == 10 * 7 * Decimal("0.001")


def test_gpu_seconds_estimated_linearly_by_pixels_and_steps(build: CatalogBuilder) -> None:
    estimate = (
        ", estimate = { seconds = 4, width = 1024, height = 1024, steps = 28, source = 'blog' }"
    )
    cat = build(gpu(estimate))
    # twice the pixels, half the steps: 4 s * 2 * 14/28 = 4 s
    q = pricing.quote(request(width=2048, height=1024, steps=14), "acme/m", catalog=cat, as_of=DAY)
    assert q.total == 4 * 2 * Decimal(14) / 28 * Decimal("0.001")
    assert any("estimated" in n for n in q.notes)
    # no steps given: scaled by pixels only, 4 s * 2
    assert total(cat, request(width=2048, height=1024)) == 4 * 2 * Decimal("0.001")
    # measured seconds win over the estimate
    assert total(cat, request(seconds=Decimal(1))) == 1 * Decimal("0.001")


def test_gpu_seconds_without_seconds_or_estimate_is_not_found(build: CatalogBuilder) -> None:
    cat = build(gpu())
    with pytest.raises(PriceNotFound, match="seconds="):
        total(cat)


# --------------------------------------------------------------------------- credits

CREDIT_OFFER = offer(
    version(
        '{ unit = "credit", credits = 4, when = { bracket = "1K" } }, '
        '{ unit = "credit", credits = 8, when = { bracket = "2K" } }',
        settings="  credit_value = 0.01",
    ),
    settings='brackets = [{ name = "1K", max_side = 1024 }, { name = "2K", max_side = 2048 }]',
)


@pytest.mark.parametrize(
    ("width", "height", "credits"),
    [(1024, 1024, 4), (1024, 512, 4), (1025, 1024, 8), (2048, 2048, 8)],
)
def test_credits_by_bracket(build: CatalogBuilder, width: int, height: int, credits: int) -> None:
    cat = build(CREDIT_OFFER)
    assert total(cat, request(width=width, height=height, count=3)) == 3 * credits * Decimal("0.01")


def test_size_beyond_every_bracket_is_unsupported(build: CatalogBuilder) -> None:
    cat = build(CREDIT_OFFER)
    with pytest.raises(UnsupportedRequest, match="bracket"):
        total(cat, request(width=2049, height=1024))


def test_bracket_by_megapixels(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version(
                '{ unit = "credit", credits = 1, when = { bracket = "S" } }, '
                '{ unit = "credit", credits = 3, when = { bracket = "L" } }',
                settings="  credit_value = 0.02",
            ),
            settings='brackets = [{ name = "S", max_megapixels = 1 }, '
            '{ name = "L", max_megapixels = 4 }]',
        )
    )
    assert total(cat, request(width=1000, height=1000)) == 1 * Decimal("0.02")
    assert total(cat, request(width=1000, height=1001)) == 3 * Decimal("0.02")


# --------------------------------------------------------------------------- per token

TOKEN_OFFER = offer(
    version(
        '{ unit = "token", text_input = 5, image_input = 10, image_output = 40, '
        "output_tokens = ["
        '{ size = "1024x1024", quality = "low", tokens = 272 }, '
        '{ size = "1024x1024", quality = "high", tokens = 4160 }, '
        '{ size = "1024x1536", quality = "high", tokens = 6240 }] }'
    ),
    settings='qualities = ["low", "high"]\ndefault_quality = "high"',
)


def test_output_tokens_from_size_and_quality(build: CatalogBuilder) -> None:
    cat = build(TOKEN_OFFER)
    per_token = Decimal(40) / MILLION
    assert total(cat, request(count=2, quality="high")) == 2 * 4160 * per_token
    assert total(cat, request(count=2, quality="low")) == 2 * 272 * per_token
    assert total(cat, request(width=1024, height=1536, quality="high")) == 6240 * per_token
    assert total(cat, request(count=2)) == 2 * 4160 * per_token  # default quality high


def test_prompt_tokens_charged_once_per_call(build: CatalogBuilder) -> None:
    cat = build(TOKEN_OFFER)
    expected = 3 * 4160 * Decimal(40) / MILLION + 1000 * Decimal(5) / MILLION
    assert total(cat, request(count=3, prompt_tokens=1000)) == expected
    # a month of 2 such calls: 6 images, 2 prompts
    month = pricing.monthly_cost(
        request(count=3, prompt_tokens=1000), "acme/m", requests=2, catalog=cat, as_of=DAY
    )
    assert month.total == 6 * 4160 * Decimal(40) / MILLION + 2 * 1000 * Decimal(5) / MILLION


def test_input_image_tokens(build: CatalogBuilder) -> None:
    cat = build(TOKEN_OFFER)
    req = request(operation="edit", input_images=1, input_image_tokens=500)
    assert total(cat, req) == 4160 * Decimal(40) / MILLION + 500 * Decimal(10) / MILLION


def test_input_images_without_their_token_count_are_not_found(build: CatalogBuilder) -> None:
    cat = build(TOKEN_OFFER)
    with pytest.raises(PriceNotFound, match="input_image_tokens"):
        total(cat, request(operation="edit", input_images=1))


def test_size_missing_from_token_table_is_unsupported(build: CatalogBuilder) -> None:
    cat = build(TOKEN_OFFER)
    with pytest.raises(UnsupportedRequest, match="1024x1024"):
        total(cat, request(width=512, height=512))
    with pytest.raises(UnsupportedRequest):
        total(cat, request(width=1024, height=1536, quality="low"))


# --------------------------------------------------------------------------- per step


def step(extra: str = "") -> str:
    return offer(version(f'{{ unit = "step", price = 0.001{extra} }}'))


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (1024, 1024, 28 * Decimal("0.001")),
        (2048, 1024, 28 * Decimal("0.001") * 2048 / 1024),
        (512, 512, 28 * Decimal("0.001") * Decimal(512) / 1024 * Decimal(512) / 1024),
    ],
)
def test_step_price_scaled_by_area(
    build: CatalogBuilder, width: int, height: int, expected: Decimal
) -> None:
    cat = build(step())
    assert total(cat, request(width=width, height=height, steps=28)) == expected


def test_step_price_without_area_scaling(build: CatalogBuilder) -> None:
    cat = build(step(", scale_by_area = false"))
    assert total(cat, request(width=2048, height=1024, steps=28, count=2)) == 2 * 28 * Decimal(
        "0.001"
    )


def test_step_price_per_block_of_steps(build: CatalogBuilder) -> None:
    cat = build(offer(version('{ unit = "step", price = 0.01, per_steps = 10 }')))
    assert total(cat, request(steps=25)) == 25 * Decimal("0.01") / 10


def test_default_steps(build: CatalogBuilder) -> None:
    cat = build(step(", default_steps = 20"))
    assert total(cat) == 20 * Decimal("0.001")
    assert total(cat, request(steps=30)) == 30 * Decimal("0.001")


def test_steps_required_without_default(build: CatalogBuilder) -> None:
    cat = build(step())
    with pytest.raises(UnsupportedRequest, match="steps="):
        total(cat)


# --------------------------------------------------------------------------- subscription

PLAN_IMAGES = offer(
    version(
        '{ unit = "subscription", monthly_fee = 10, included_images = 100, '
        "overage_per_image = 0.05 }"
    )
)


@pytest.mark.parametrize(
    ("monthly_volume", "count", "expected"),
    [
        (0, 1, Decimal(10)),  # first call of the month pays the fee
        (5, 1, Decimal(0)),  # fee already paid, within the plan
        (99, 1, Decimal(0)),  # the 100th image is included
        (100, 1, Decimal("0.05")),  # the 101st is overage
        (99, 3, 2 * Decimal("0.05")),  # straddles: 1 included, 2 over
        (0, 101, Decimal(10) + 1 * Decimal("0.05")),
    ],
)
def test_subscription_included_images(
    build: CatalogBuilder, monthly_volume: int, count: int, expected: Decimal
) -> None:
    cat = build(PLAN_IMAGES)
    assert total(cat, request(count=count), monthly_volume=monthly_volume) == expected


@pytest.mark.parametrize(
    ("monthly_volume", "count", "expected"),
    [
        (0, 1, Decimal(20)),
        (99, 1, Decimal(0)),  # 1 h / 36 s = 100 images included
        (100, 1, Decimal(36) / 3600 * Decimal("3.6")),
        (99, 2, Decimal(36) / 3600 * Decimal("3.6")),
    ],
)
def test_subscription_included_gpu_hours(
    build: CatalogBuilder, monthly_volume: int, count: int, expected: Decimal
) -> None:
    cat = build(
        offer(
            version(
                '{ unit = "subscription", monthly_fee = 20, included_gpu_hours = 1, '
                "gpu_seconds_per_image = 36, overage_per_gpu_hour = 3.6 }"
            )
        )
    )
    assert total(cat, request(count=count), monthly_volume=monthly_volume) == expected


def test_subscription_overage_without_price_is_not_found(build: CatalogBuilder) -> None:
    cat = build(offer(version('{ unit = "subscription", monthly_fee = 10, included_images = 10 }')))
    assert total(cat, monthly_volume=9) == 0
    with pytest.raises(PriceNotFound, match="beyond the plan"):
        total(cat, monthly_volume=10)


def test_subscription_gpu_overage_without_price_is_not_found(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version(
                '{ unit = "subscription", monthly_fee = 20, included_gpu_hours = 1, '
                "gpu_seconds_per_image = 36 }"
            )
        )
    )
    assert total(cat, monthly_volume=99) == 0
    with pytest.raises(PriceNotFound, match="beyond the plan"):
        total(cat, monthly_volume=100)


# --------------------------------------------------------------------------- volume tiers

TIERS = "tiers = [{ start = 0, price = 0.04 }, { start = 1000, price = 0.03 }, " + (
    "{ start = 5000, price = 0.02 }]"
)


def tiered(mode: str) -> str:
    return offer(version(f'{{ unit = "image", tier_mode = "{mode}", {TIERS} }}'))


@pytest.mark.parametrize(
    ("monthly_volume", "count", "expected"),
    [
        (0, 1, Decimal("0.04")),
        (999, 1, Decimal("0.04")),  # image 1,000 is the last of the first tier
        (1000, 1, Decimal("0.03")),  # image 1,001 is the first of the second
        (4999, 1, Decimal("0.03")),
        (5000, 1, Decimal("0.02")),
        (998, 4, 2 * Decimal("0.04") + 2 * Decimal("0.03")),
        (4998, 4, 2 * Decimal("0.03") + 2 * Decimal("0.02")),
        (0, 6000, 1000 * Decimal("0.04") + 4000 * Decimal("0.03") + 1000 * Decimal("0.02")),
    ],
)
def test_graduated_tiers(
    build: CatalogBuilder, monthly_volume: int, count: int, expected: Decimal
) -> None:
    cat = build(tiered("graduated"))
    assert total(cat, request(count=count), monthly_volume=monthly_volume) == expected


@pytest.mark.parametrize(
    ("monthly_volume", "count", "expected"),
    [
        (999, 1, Decimal("0.04")),
        (1000, 1, Decimal("0.03")),
        (4999, 1, Decimal("0.03")),
        (5000, 1, Decimal("0.02")),
        (995, 4, 4 * Decimal("0.04")),  # images 996-999 stay in the first tier
        (998, 4, 4 * Decimal("0.03")),  # the request reaches image 1,002: all at the second tier
        (0, 6000, 6000 * Decimal("0.02")),
    ],
)
def test_all_units_tiers(
    build: CatalogBuilder, monthly_volume: int, count: int, expected: Decimal
) -> None:
    cat = build(tiered("all-units"))
    assert total(cat, request(count=count), monthly_volume=monthly_volume) == expected


def test_tiered_month_via_monthly_cost(build: CatalogBuilder) -> None:
    cat = build(tiered("graduated"))
    q = pricing.monthly_cost(request(count=2), "acme/m", requests=600, catalog=cat, as_of=DAY)
    assert q.total == 1000 * Decimal("0.04") + 200 * Decimal("0.03")


# --------------------------------------------------------------------------- free allowance


@pytest.mark.parametrize(
    ("monthly_volume", "count", "expected"),
    [
        (0, 1, Decimal(0)),
        (9, 1, Decimal(0)),  # the 10th image is free
        (10, 1, Decimal("0.04")),  # the 11th is not
        (8, 4, 2 * Decimal("0.04")),  # 2 free, 2 paid
    ],
)
def test_free_images_per_month(
    build: CatalogBuilder, monthly_volume: int, count: int, expected: Decimal
) -> None:
    cat = build(
        offer(version('{ unit = "image", price = 0.04 }', settings="  free_images_per_month = 10"))
    )
    assert total(cat, request(count=count), monthly_volume=monthly_volume) == expected


# --------------------------------------------------------------------------- minimum spend

MINIMUM_SPEND = offer(
    version('{ unit = "image", price = 0.04 }', settings="  minimum_monthly_spend = 5")
)


def test_minimum_monthly_spend_tops_up_a_small_month(build: CatalogBuilder) -> None:
    cat = build(MINIMUM_SPEND)
    q = pricing.monthly_cost(request(), "acme/m", requests=100, catalog=cat, as_of=DAY)
    assert q.total == Decimal(5)  # 100 * 0.04 = 4 is below the minimum of 5
    assert q.line_items[-1].amount == Decimal(5) - 100 * Decimal("0.04")


def test_minimum_monthly_spend_leaves_a_large_month(build: CatalogBuilder) -> None:
    cat = build(MINIMUM_SPEND)
    q = pricing.monthly_cost(request(), "acme/m", requests=200, catalog=cat, as_of=DAY)
    assert q.total == 200 * Decimal("0.04")
    assert q.total == sum(i.amount for i in q.line_items)


def test_minimum_monthly_spend_is_a_note_on_single_quotes(build: CatalogBuilder) -> None:
    cat = build(MINIMUM_SPEND)
    q = pricing.quote(request(), "acme/m", catalog=cat, as_of=DAY)
    assert q.total == Decimal("0.04")
    assert any("minimum monthly spend" in n for n in q.notes)


def test_monthly_cost_per_image_divides_by_every_image(build: CatalogBuilder) -> None:
    cat = build(offer(version('{ unit = "image", price = 0.04 }')))
    q = pricing.monthly_cost(request(count=2), "acme/m", requests=100, catalog=cat, as_of=DAY)
    assert q.total == 200 * Decimal("0.04")
    assert q.per_image == Decimal("0.04")  # 200 images, not the 2 of one request


def test_monthly_cost_top_up_keeps_range_and_spread_consistent(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version(
                '{ unit = "image", price = 0.04, price_high = 0.06 }',
                settings="  minimum_monthly_spend = 5",
            )
        )
    )
    q = pricing.monthly_cost(request(), "acme/m", requests=50, catalog=cat, as_of=DAY)
    assert q.total == Decimal(5)  # 50 * 0.04 = 2 topped up to 5
    # the high end (50 * 0.06 = 3) is also below the minimum: the month costs 5 either way
    assert q.total_high is not None
    assert q.total_high >= q.total
    assert q.spread.low <= q.total <= q.spread.high


def test_monthly_cost_needs_a_request(build: CatalogBuilder) -> None:
    cat = build(MINIMUM_SPEND)
    with pytest.raises(PricingError, match="at least 1"):
        pricing.monthly_cost(request(), "acme/m", requests=0, catalog=cat, as_of=DAY)


# --------------------------------------------------------------------------- committed use


def test_committed_use_discount(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version('{ unit = "image", price = 0.05 }', settings="  committed_use_discount = 0.2")
        )
    )
    plain = pricing.quote(request(count=10), "acme/m", catalog=cat, as_of=DAY)
    assert plain.total == 10 * Decimal("0.05")
    assert any("committed-use discount of 20%" in n for n in plain.notes)
    committed = pricing.quote(request(count=10), "acme/m", catalog=cat, as_of=DAY, committed=True)
    assert committed.total == 10 * Decimal("0.05") * (1 - Decimal("0.2"))


def test_committed_without_a_discount_is_noted(build: CatalogBuilder) -> None:
    cat = build(offer(version('{ unit = "image", price = 0.05 }')))
    q = pricing.quote(request(), "acme/m", catalog=cat, as_of=DAY, committed=True)
    assert q.total == Decimal("0.05")
    assert any("no committed-use discount" in n for n in q.notes)


# --------------------------------------------------------------------------- quality and `when`

QUALITY_COMPONENTS = (
    '{ unit = "image", price = 0.04, when = { quality = "standard" } }, '
    '{ unit = "image", price = 0.08, when = { quality = "hd" } }'
)


def test_quality_levels_and_default(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version(QUALITY_COMPONENTS),
            settings='qualities = ["standard", "hd"]\ndefault_quality = "standard"',
        )
    )
    assert total(cat) == Decimal("0.04")
    assert total(cat, request(quality="standard")) == Decimal("0.04")
    assert total(cat, request(quality="hd")) == Decimal("0.08")
    with pytest.raises(UnsupportedRequest, match="ultra"):
        total(cat, request(quality="ultra"))


def test_quality_required_without_default(build: CatalogBuilder) -> None:
    cat = build(offer(version(QUALITY_COMPONENTS), settings='qualities = ["standard", "hd"]'))
    assert total(cat, request(quality="hd")) == Decimal("0.08")
    with pytest.raises(UnsupportedRequest, match="quality="):
        total(cat)


def test_when_size(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version(
                '{ unit = "image", price = 0.04, when = { size = "1024x1024" } }, '
                '{ unit = "image", price = 0.08, when = { size = "1024x1792" } }'
            )
        )
    )
    assert total(cat) == Decimal("0.04")
    assert total(cat, request(width=1024, height=1792)) == Decimal("0.08")
    with pytest.raises(PriceNotFound, match="512x512"):
        total(cat, request(width=512, height=512))


def test_when_operation(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version(
                '{ unit = "image", price = 0.04, when = { operation = "generate" } }, '
                '{ unit = "image", price = 0.06, when = { operation = "edit" } }'
            ),
            operations='["generate", "edit", "inpaint"]',
        )
    )
    assert total(cat) == Decimal("0.04")
    assert total(cat, request(operation="edit")) == Decimal("0.06")
    with pytest.raises(PriceNotFound, match="inpaint"):
        total(cat, request(operation="inpaint"))  # served, but nothing prices it
    with pytest.raises(UnsupportedRequest, match="upscale"):
        total(cat, request(operation="upscale"))  # not served at all


# --------------------------------------------------------------------------- limits


def limited(limits: str, version_settings: str = "") -> str:
    return offer(
        version('{ unit = "image", price = 0.04 }', settings=version_settings),
        settings=f"limits = {{ {limits} }}",
    )


@pytest.mark.parametrize(
    ("limits", "version_settings", "fields", "ok"),
    [
        # 1024 x 1024 is exactly 1 MP of 2^20 px, but 1.048576 MP of 10^6 px
        ("max_megapixels = 1", "  megapixel = 1048576", {"width": 1024, "height": 1024}, True),
        ("max_megapixels = 1", "  megapixel = 1048576", {"width": 1024, "height": 1025}, False),
        ("max_megapixels = 1", "", {"width": 1000, "height": 1000}, True),
        ("max_megapixels = 1", "", {"width": 1024, "height": 1024}, False),
        ('sizes = ["1024x1024", "1792x1024"]', "", {"width": 1792, "height": 1024}, True),
        ('sizes = ["1024x1024", "1792x1024"]', "", {"width": 1000, "height": 1000}, False),
        ("multiple_of = 16", "", {"width": 1024, "height": 1008}, True),
        ("multiple_of = 16", "", {"width": 1024, "height": 1000}, False),
        ("min_side = 256", "", {"width": 256, "height": 256}, True),
        ("min_side = 256", "", {"width": 255, "height": 256}, False),
        ("max_side = 2048", "", {"width": 2048, "height": 512}, True),
        ("max_side = 2048", "", {"width": 512, "height": 2049}, False),
        ("max_input_images = 2", "", {"input_images": 2}, True),
        ("max_input_images = 2", "", {"input_images": 3}, False),
        ("min_steps = 4, max_steps = 50", "", {"steps": 4}, True),
        ("min_steps = 4, max_steps = 50", "", {"steps": 3}, False),
        ("min_steps = 4, max_steps = 50", "", {"steps": 50}, True),
        ("min_steps = 4, max_steps = 50", "", {"steps": 51}, False),
    ],
)
def test_limits(
    build: CatalogBuilder, limits: str, version_settings: str, fields: dict[str, int], ok: bool
) -> None:
    cat = build(limited(limits, version_settings))
    if ok:
        assert total(cat, request(**fields)) == Decimal("0.04")
    else:
        with pytest.raises(UnsupportedRequest):
            total(cat, request(**fields))


def test_version_limits_replace_offer_limits(build: CatalogBuilder) -> None:
    cat = build(limited("max_side = 1024", "  limits = { max_side = 2048 }"))
    assert total(cat, request(width=2048, height=2048)) == Decimal("0.04")


def test_request_for_another_model_is_unsupported(build: CatalogBuilder) -> None:
    cat = build(offer(version('{ unit = "image", price = 0.04 }')))
    with pytest.raises(UnsupportedRequest, match="'n'"):
        total(cat, request(model="n"))


# --------------------------------------------------------------------------- versions and dates

DATED = offer(
    version(
        '{ unit = "image", price = 0.05 }',
        effective_from="2026-01-01",
        settings="  effective_to = 2026-03-01",
    ),
    version('{ unit = "image", price = 0.04 }', effective_from="2026-03-01"),
)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 1), Decimal("0.05")),
        (date(2026, 2, 28), Decimal("0.05")),
        (date(2026, 3, 1), Decimal("0.04")),  # effective_to is the first day it no longer applies
        (date(2027, 1, 1), Decimal("0.04")),
    ],
)
def test_effective_dates(build: CatalogBuilder, day: date, expected: Decimal) -> None:
    cat = build(DATED)
    # acme-docs was read on 2026-01-15, so by 2027-01-01 its price is stale: this test is
    # about effective dates, not evidence, so it admits every price.
    assert total(cat, as_of=day, evidence="all") == expected


def test_quote_names_its_version_and_source(build: CatalogBuilder) -> None:
    cat = build(DATED)
    q = pricing.quote(request(), "acme/m", catalog=cat, as_of="2026-02-01")
    assert q.price_version == "2026-01-01/acme-docs"
    assert (q.effective_from, q.effective_to) == (date(2026, 1, 1), date(2026, 3, 1))
    assert (q.source_id, q.source_kind, q.seen) == ("acme-docs", "official", date(2026, 1, 15))
    assert q.as_of == date(2026, 2, 1)
    assert q.total == sum(i.amount for i in q.line_items)


def test_before_the_first_version_is_not_found(build: CatalogBuilder) -> None:
    cat = build(DATED)
    with pytest.raises(PriceNotFound, match="2026-01-01"):
        total(cat, as_of=date(2025, 12, 31))


def test_after_the_last_version_ends_is_retired(build: CatalogBuilder) -> None:
    cat = build(
        offer(version('{ unit = "image", price = 0.05 }', settings="  effective_to = 2026-05-01"))
    )
    assert total(cat, as_of=date(2026, 4, 30)) == Decimal("0.05")
    with pytest.raises(UnsupportedRequest, match="retired"):
        total(cat, as_of=date(2026, 5, 1))


def test_retired_model_is_unsupported(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version('{ unit = "image", price = 0.05 }'),
            offer_id="acme/old",
            model="old",
            operations='["generate"]',
        )
    )
    req = request(model="old")
    assert total(cat, req, offer_id="acme/old", as_of=date(2026, 3, 31)) == Decimal("0.05")
    with pytest.raises(UnsupportedRequest, match="retired"):
        total(cat, req, offer_id="acme/old", as_of=date(2026, 4, 1))


def test_as_of_forms(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version('{ unit = "image", price = 0.05 }', settings="  effective_to = 2026-06-02"),
            version('{ unit = "image", price = 0.04 }', effective_from="2026-06-02"),
        )
    )
    assert total(cat, as_of="2026-06-01") == Decimal("0.05")
    assert total(cat, as_of=datetime(2026, 6, 1, 23, 0, tzinfo=UTC)) == Decimal("0.05")
    # 23:00 at UTC-5 is 04:00 UTC the next day
    minus_five = timezone(timedelta(hours=-5))
    assert total(cat, as_of=datetime(2026, 6, 1, 23, 0, tzinfo=minus_five)) == Decimal("0.04")


def test_naive_datetime_is_rejected(build: CatalogBuilder) -> None:
    cat = build(DATED)
    naive = datetime(2026, 6, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(PricingError, match="naive"):
        total(cat, as_of=naive)
    with pytest.raises(PricingError, match="YYYY-MM-DD"):
        total(cat, as_of="June 1st")


SOURCES_DISAGREE = offer(
    version('{ unit = "image", price = 0.05 }', source="acme-docs"),
    version('{ unit = "image", price = 0.04 }', source="blog"),
    version('{ unit = "image", price = 0.03, price_high = 0.07 }', source="seed-a"),
)


def test_official_source_beats_third_party_and_seed(build: CatalogBuilder) -> None:
    cat = build(SOURCES_DISAGREE)
    q = pricing.quote(request(), "acme/m", catalog=cat, as_of=DAY)
    assert (q.total, q.source_id, q.source_kind) == (Decimal("0.05"), "acme-docs", "official")


def test_source_picks_the_named_version(build: CatalogBuilder) -> None:
    cat = build(SOURCES_DISAGREE)
    q = pricing.quote(request(), "acme/m", catalog=cat, as_of=DAY, source="seed-a")
    assert (q.total, q.total_high, q.source_kind) == (Decimal("0.03"), Decimal("0.07"), "seed")
    assert total(cat, source="blog") == Decimal("0.04")
    with pytest.raises(PriceNotFound, match="nope"):
        total(cat, source="nope")


def test_spread_across_disagreeing_sources(build: CatalogBuilder) -> None:
    cat = build(SOURCES_DISAGREE)
    q = pricing.quote(request(count=2), "acme/m", catalog=cat, as_of=DAY)
    assert q.spread.low == 2 * Decimal("0.03")
    assert q.spread.high == 2 * Decimal("0.07")  # the seed's upper end
    assert q.spread.sources == 3
    assert {s.source_id: s.total for s in q.spread.by_source} == {
        "acme-docs": 2 * Decimal("0.05"),
        "blog": 2 * Decimal("0.04"),
        "seed-a": 2 * Decimal("0.03"),
    }


def test_newer_version_wins_between_sources_of_one_kind(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version('{ unit = "image", price = 0.06 }', source="acme-docs-old"),
            version(
                '{ unit = "image", price = 0.05 }', source="acme-docs", effective_from="2026-02-01"
            ),
        )
    )
    assert total(cat) == Decimal("0.05")
    # acme-docs-old was read on 2025-06-01: stale by 2026-01-15 (228 days), so only a policy
    # that admits stale prices lets it answer; this test is about precedence, so it does.
    assert total(cat, as_of=date(2026, 1, 15), evidence="all") == Decimal("0.06")


# --------------------------------------------------------------------------- compare


def market(tmp_path: Path) -> pricing.Catalog:
    """Four offers of model m: two flat, one tiered, one not yet priced; one that is small."""
    cards = {
        "acme": offer(version('{ unit = "image", price = 0.035 }')),
        "beta": offer(
            version(
                '{ unit = "image", tiers = [{ start = 0, price = 0.04 }, '
                "{ start = 1000, price = 0.02 }] }"
            ),
            offer_id="beta/m",
        ),
        "gamma": offer(
            version('{ unit = "image", price = 0.01 }'),
            offer_id="gamma/m",
            settings="limits = { max_side = 512 }",
        ),
        "delta": offer(
            version('{ unit = "image", price = 0.001 }', effective_from="2027-01-01"),
            offer_id="delta/m",
        ),
        "zeta": offer(
            version('{ unit = "image", price = 0.5 }'),
            offer_id="zeta/n",
            model="n",
            operations='["generate"]',
        ),
    }
    return pricing.load_catalog(write_data(tmp_path, cards))


def test_compare_cheapest_first(tmp_path: Path) -> None:
    frame = pricing.compare(request(count=2), market(tmp_path), as_of=DAY)
    assert frame["offer_id"].to_list() == ["acme/m", "beta/m"]
    assert frame["total"].to_list() == [2 * Decimal("0.035"), 2 * Decimal("0.04")]
    assert frame["per_image"].to_list() == [Decimal("0.035"), Decimal("0.04")]
    assert frame["reason"].null_count() == 2


def test_compare_with_monthly_volume(tmp_path: Path) -> None:
    frame = pricing.compare(request(), market(tmp_path), as_of=DAY, monthly_volume=1000)
    assert frame["offer_id"].to_list() == ["beta/m", "acme/m"]
    assert frame["total"].to_list() == [Decimal("0.02"), Decimal("0.035")]


def test_compare_lists_unavailable_offers_last_with_null_totals(tmp_path: Path) -> None:
    frame = pricing.compare(request(), market(tmp_path), as_of=DAY, include_unavailable=True)
    assert frame["offer_id"].to_list() == ["acme/m", "beta/m", "delta/m", "gamma/m"]
    unavailable = frame.filter(pl.col("reason").is_not_null())
    assert unavailable["offer_id"].to_list() == ["delta/m", "gamma/m"]
    for column in ("total", "per_image", "min_total", "max_total"):
        assert unavailable[column].null_count() == 2, column
    reasons = dict(zip(unavailable["offer_id"], unavailable["reason"], strict=True))
    assert "2027-01-01" in reasons["delta/m"]
    assert "512" in reasons["gamma/m"]


def test_compare_unknown_model_names_known_ones(tmp_path: Path) -> None:
    with pytest.raises(PricingError, match="known: m, n, old"):
        pricing.compare(request(model="nope"), market(tmp_path), as_of=DAY)


# --------------------------------------------------------------------------- catalog


def two_providers(tmp_path: Path) -> pricing.Catalog:
    cards = {
        "acme": offer(
            version(
                '{ unit = "image", price = 0.06 }',
                effective_from="2026-01-01",
                settings="  effective_to = 2026-03-01",
            ),
            version('{ unit = "image", price = 0.05 }', effective_from="2026-03-01"),
        )
        + offer(
            version('{ unit = "image", price = 0.02 }', settings="  effective_to = 2026-03-01"),
            offer_id="acme/n",
            model="n",
            operations='["generate"]',
        ),
        "beta": offer(
            version('{ unit = "image", price = 0.07 }', effective_from="2026-02-15"),
            offer_id="beta/m",
            operations='["edit"]',
        ),
    }
    return pricing.load_catalog(write_data(tmp_path, cards))


def test_as_of_snapshot(tmp_path: Path) -> None:
    cat = two_providers(tmp_path)
    jan = cat.as_of("2026-01-20")
    assert jan.snapshot == date(2026, 1, 20)
    assert [o.id for o in jan.offers()] == ["acme/m", "acme/n"]  # beta/m starts later
    assert [v.version_id for v in jan.offer("acme/m").versions] == ["2026-01-01/acme-docs"]
    # quotes against a snapshot default to its day
    assert pricing.quote(request(), "acme/m", catalog=jan).total == Decimal("0.06")
    april = cat.as_of(date(2026, 4, 1))
    assert [o.id for o in april.offers()] == ["acme/m", "beta/m"]  # acme/n has ended
    assert pricing.quote(request(), "acme/m", catalog=april).total == Decimal("0.05")


def test_offers_filters(tmp_path: Path) -> None:
    cat = two_providers(tmp_path)
    assert [o.id for o in cat.offers(provider="acme")] == ["acme/m", "acme/n"]
    assert [o.id for o in cat.offers(model="m")] == ["acme/m", "beta/m"]
    assert [o.id for o in cat.offers(operation="edit")] == ["acme/m", "beta/m"]
    assert [o.id for o in cat.offers(provider="acme", operation="edit")] == ["acme/m"]
    assert cat.offers(model="old") == []


def test_unknown_provider_model_and_offer_name_known_ones(tmp_path: Path) -> None:
    cat = two_providers(tmp_path)
    with pytest.raises(PricingError, match="unknown provider 'nope'; known: acme, beta"):
        cat.offers(provider="nope")
    with pytest.raises(PricingError, match="unknown model 'nope'; known: m, n, old"):
        cat.offers(model="nope")
    with pytest.raises(PricingError, match=r"unknown offer 'gamma/m'; did you mean .*beta/m"):
        cat.offer("gamma/m")
    with pytest.raises(PricingError, match=r"unknown offer 'zzz/zzz'.*acme/m"):
        cat.offer("zzz/zzz")


def test_unknown_model_suggests_the_close_ids_first() -> None:
    cat = pricing.load_catalog()
    # written another way (case, dots, spaces, no dashes): the same id when squeezed
    for typed in ("FLUX.2 Pro", "flux2pro", "Flux-2-Pro"):
        with pytest.raises(
            PricingError, match=rf"unknown model '{re.escape(typed)}'; did you mean flux-2-pro\?"
        ):
            cat.offers(model=typed)
    # a near miss lists the near ids (at most 3), not all of them
    with pytest.raises(PricingError, match=r"did you mean [^?]*gpt-image-1[,?]") as caught:
        pricing.compare(pricing.ImageRequest(model="gpt-imag-1"), as_of="2026-11-21")
    assert str(caught.value).count(",") <= 2
    assert "known:" not in str(caught.value)


def test_history_in_date_order(tmp_path: Path) -> None:
    cards = {
        "acme": offer(
            # written newest first: history must sort them
            version('{ unit = "image", price = 0.04 }', effective_from="2026-03-01"),
            version('{ unit = "image", price = 0.03 }', source="seed-a"),
            version(
                '{ unit = "image", price = 0.05 }',
                effective_from="2026-01-01",
                settings="  effective_to = 2026-03-01",
            ),
        )
    }
    cat = pricing.load_catalog(write_data(tmp_path, cards))
    frame = cat.history("acme/m")
    assert frame["version"].to_list() == [
        "2026-01-01/acme-docs",
        "2026-01-01/seed-a",
        "2026-03-01/acme-docs",
    ]
    assert frame["effective_to"].to_list() == [date(2026, 3, 1), None, None]
    assert frame["source_kind"].to_list() == ["official", "seed", "official"]
    assert frame["components"].to_list() == ["0.05 USD/image", "0.03 USD/image", "0.04 USD/image"]


def test_diff_changed_added_removed(tmp_path: Path) -> None:
    cat = two_providers(tmp_path)
    frame = cat.as_of("2026-02-01").diff(cat.as_of("2026-04-01"))
    rows = {
        r["offer_id"]: r for r in frame.select("offer_id", "change", "old", "new", "pct").to_dicts()
    }
    assert set(rows) == {"acme/m", "acme/n", "beta/m"}
    changed = rows["acme/m"]
    assert (changed["change"], changed["old"], changed["new"]) == (
        "changed",
        Decimal("0.06"),
        Decimal("0.05"),
    )
    # (0.05 - 0.06) / 0.06 * 100
    assert round(changed["pct"], 2) == round(
        float((Decimal("0.05") - Decimal("0.06")) / Decimal("0.06") * 100), 2
    )
    assert round(changed["pct"], 2) == -16.67
    assert (rows["beta/m"]["change"], rows["beta/m"]["old"], rows["beta/m"]["new"]) == (
        "added",
        None,
        Decimal("0.07"),
    )
    assert (rows["acme/n"]["change"], rows["acme/n"]["old"], rows["acme/n"]["new"]) == (
        "removed",
        Decimal("0.02"),
        None,
    )
    assert rows["beta/m"]["pct"] is None


def test_diff_of_identical_catalogs_is_empty(tmp_path: Path) -> None:
    cat = two_providers(tmp_path)
    assert cat.as_of("2026-04-01").diff(cat.as_of("2026-05-01")).height == 0


def test_to_frame_has_one_row_per_priced_field(build: CatalogBuilder) -> None:
    cat = build(
        offer(
            version(
                '{ unit = "image", price = 0.04, price_high = 0.06, when = { quality = "a" } }, '
                '{ unit = "credit", credits = 4, when = { quality = "b" } }, '
                '{ unit = "megapixel", applies_to = "input", price = 0.015 }',
                settings="  credit_value = 0.01",
            ),
            settings='qualities = ["a", "b"]',
        ),
        offer(
            version(f'{{ unit = "image", {TIERS} }}'),
            offer_id="acme/n",
            model="n",
            operations='["generate"]',
        ),
    )
    frame = cat.to_frame()
    got = sorted(
        (r["offer_id"], r["unit"], r["field"], r["value"], r["tier_start"])
        for r in frame.to_dicts()
    )
    assert got == sorted(
        [
            ("acme/m", "image", "price", Decimal("0.04"), None),
            ("acme/m", "image", "price_high", Decimal("0.06"), None),
            ("acme/m", "credit", "credits", Decimal(4), None),
            ("acme/m", "credit", "credit_value", Decimal("0.01"), None),
            ("acme/m", "megapixel", "price", Decimal("0.015"), None),
            ("acme/n", "image", "tier_price", Decimal("0.04"), 0),
            ("acme/n", "image", "tier_price", Decimal("0.03"), 1000),
            ("acme/n", "image", "tier_price", Decimal("0.02"), 5000),
        ]
    )
    quality = dict(zip(frame["field"], frame["when_quality"], strict=False))
    assert quality["price_high"] == "a"
    assert quality["credits"] == "b"
