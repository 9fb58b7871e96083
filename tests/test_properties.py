"""Properties of the quote engine on fixed synthetic offers, one or more per billing unit.

Random requests are drawn per offer: costs are never negative, never fall when a request asks
for more (images, pixels, steps, input images), add up over splits of a request, and graduated
tiers are continuous at each threshold. Every synthetic card survives a JSON Schema round trip.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pricing
from pricing import PriceNotFound, UnsupportedRequest
from pricing._cards.schema import RateCard
from tests.conftest import DAY, offer, version, write_data

TOKEN_SIZES = [(1024, 1024), (1024, 1536), (1536, 1024)]
TIER_STARTS = [0, 1000, 5000]
TIER_PRICES = [Decimal("0.04"), Decimal("0.03"), Decimal("0.02")]

#: Offer id -> the card TOML of that offer; each is priced in a way no other offer is.
OFFERS: dict[str, str] = {
    "acme/flat": offer(
        version('{ unit = "image", price = 0.04 }, { unit = "input_image", price = 0.01 }'),
        offer_id="acme/flat",
    ),
    "acme/range": offer(
        version('{ unit = "image", price = 0.04, price_high = 0.065 }'), offer_id="acme/range"
    ),
    "acme/mp": offer(
        version(
            '{ unit = "megapixel", first = 0.03, price = 0.015 }, '
            '{ unit = "megapixel", applies_to = "input", price = 0.015 }'
        ),
        offer_id="acme/mp",
    ),
    "acme/mp-up": offer(
        version(
            '{ unit = "megapixel", price = 0.01, rounding = "up", minimum_mp = 1 }, '
            '{ unit = "megapixel", applies_to = "input", price = 0.01, rounding = "up" }'
        ),
        offer_id="acme/mp-up",
    ),
    "acme/mp-increment": offer(
        version(
            '{ unit = "megapixel", first = 0.03, price = 0.015, rounding = "increment", '
            "increment = 0.005 }",
            settings="  megapixel = 1048576",
        ),
        offer_id="acme/mp-increment",
    ),
    "acme/gpu": offer(
        version(
            '{ unit = "gpu_second", hardware = "A100", price = 0.0011, granularity_s = 1, '
            "minimum_s = 2, estimate = { seconds = 3.5, width = 1024, height = 1024, "
            'steps = 25, source = "blog" } }'
        ),
        offer_id="acme/gpu",
    ),
    "acme/gpu-exact": offer(
        version(
            '{ unit = "gpu_second", hardware = "L4", price = 0.0004, '
            'estimate = { seconds = 6, width = 1024, height = 1024, source = "blog" } }'
        ),
        offer_id="acme/gpu-exact",
    ),
    "acme/credit": offer(
        version(
            '{ unit = "credit", credits = 4, when = { bracket = "1K" } }, '
            '{ unit = "credit", credits = 8, when = { bracket = "2K" } }, '
            '{ unit = "credit", credits = 16, when = { bracket = "4K" } }',
            settings="  credit_value = 0.01",
        ),
        offer_id="acme/credit",
        settings='brackets = [{ name = "1K", max_side = 1024 }, { name = "2K", max_side = 2048 }, '
        '{ name = "4K", max_side = 4096 }]',
    ),
    "acme/token": offer(
        version(
            '{ unit = "token", text_input = 5, image_input = 10, image_output = 40, '
            "output_tokens = ["
            '{ size = "1024x1024", quality = "low", tokens = 272 }, '
            '{ size = "1024x1024", quality = "high", tokens = 4160 }, '
            '{ size = "1024x1536", quality = "low", tokens = 408 }, '
            '{ size = "1024x1536", quality = "high", tokens = 6240 }, '
            '{ size = "1536x1024", quality = "low", tokens = 400 }, '
            '{ size = "1536x1024", quality = "high", tokens = 6208 }] }'
        ),
        offer_id="acme/token",
        settings='qualities = ["low", "high"]',
    ),
    "acme/step": offer(
        version('{ unit = "step", price = 0.0005, default_steps = 28 }'), offer_id="acme/step"
    ),
    "acme/step-block": offer(
        version('{ unit = "step", price = 0.01, per_steps = 10, scale_by_area = false }'),
        offer_id="acme/step-block",
    ),
    "acme/graduated": offer(
        version(
            '{ unit = "image", tiers = [{ start = 0, price = 0.04 }, '
            "{ start = 1000, price = 0.03 }, { start = 5000, price = 0.02 }] }"
        ),
        offer_id="acme/graduated",
    ),
    "acme/all-units": offer(
        version(
            '{ unit = "image", tier_mode = "all-units", tiers = [{ start = 0, price = 0.04 }, '
            "{ start = 1000, price = 0.03 }, { start = 5000, price = 0.02 }] }"
        ),
        offer_id="acme/all-units",
    ),
    "acme/plan": offer(
        version(
            '{ unit = "subscription", monthly_fee = 10, included_images = 100, '
            "overage_per_image = 0.05 }"
        ),
        offer_id="acme/plan",
    ),
    "acme/plan-gpu": offer(
        version(
            '{ unit = "subscription", monthly_fee = 20, included_gpu_hours = 1, '
            "gpu_seconds_per_image = 36, overage_per_gpu_hour = 3.6 }"
        ),
        offer_id="acme/plan-gpu",
    ),
    "acme/free": offer(
        version(
            '{ unit = "image", price = 0.04 }, { unit = "input_image", price = 0.01 }',
            settings="  free_images_per_month = 10",
        ),
        offer_id="acme/free",
    ),
}
#: Offers priced per image, whatever was billed earlier in the month. Left out: acme/gpu, whose
#: minimum (documented per request) and granularity may round a call rather than each image.
ADDITIVE = [
    "acme/flat",
    "acme/range",
    "acme/mp",
    "acme/mp-up",
    "acme/mp-increment",
    "acme/gpu-exact",
    "acme/credit",
    "acme/token",
    "acme/step",
    "acme/step-block",
]
#: All-units tiers are left out where more images may cost less (reaching a cheaper tier).
MONOTONE_IN_COUNT = [o for o in OFFERS if o != "acme/all-units"]
#: Additive as back-to-back requests in one month: the per-image offers plus tiers and plans.
ADDITIVE_OVER_THE_MONTH = [
    *ADDITIVE,
    "acme/graduated",
    "acme/plan",
    "acme/plan-gpu",
    "acme/free",
]

#: Per offer: the parametrised properties run this many examples for each of the 16 offers.
PER_OFFER = settings(max_examples=40, deadline=None)
QUICK = settings(max_examples=150, deadline=None)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> pricing.Catalog:
    root = write_data(tmp_path_factory.mktemp("data"), {"acme": "".join(OFFERS.values())})
    return pricing.load_catalog(root)


def request_fields(offer_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """Random request fields that the offer can price (token offers: sizes in their table)."""
    token = offer_id == "acme/token"
    side = st.integers(64, 4096)
    return st.fixed_dictionaries(
        {
            "size": st.sampled_from(TOKEN_SIZES) if token else st.tuples(side, side),
            "count": st.integers(1, 12),
            "steps": st.integers(1, 60),
            "input_images": st.lists(
                st.tuples(st.integers(64, 2048), st.integers(64, 2048)), max_size=3
            ),
            "seconds": st.none() | st.decimals(min_value="0.1", max_value="30", places=2),
            "quality": st.sampled_from(["low", "high"]) if token else st.none(),
            "prompt_tokens": st.integers(0, 5000),
            "input_image_tokens": st.integers(0, 5000),
        }
    )


def make(fields: dict[str, Any], **changes: Any) -> pricing.ImageRequest:
    merged = {**fields, **changes}
    width, height = merged.pop("size")
    return pricing.ImageRequest(model="m", width=width, height=height, **merged)


def cost(
    cat: pricing.Catalog, offer_id: str, req: pricing.ImageRequest, monthly_volume: int = 0
) -> Decimal:
    q = pricing.quote(req, offer_id, catalog=cat, as_of=DAY, monthly_volume=monthly_volume)
    return q.total


# --------------------------------------------------------------------------- sign and shape


@pytest.mark.parametrize("offer_id", list(OFFERS))
@PER_OFFER
@given(data=st.data(), monthly_volume=st.integers(0, 6000))
def test_cost_is_never_negative(
    catalog: pricing.Catalog, offer_id: str, data: st.DataObject, monthly_volume: int
) -> None:
    req = make(data.draw(request_fields(offer_id)))
    q = pricing.quote(req, offer_id, catalog=catalog, as_of=DAY, monthly_volume=monthly_volume)
    assert q.total >= 0
    assert q.total == sum(i.amount for i in q.line_items)
    if q.total_high is not None:
        assert q.total_high >= q.total
    assert q.spread.low <= q.total <= q.spread.high


# --------------------------------------------------------------------------- monotone


@pytest.mark.parametrize("offer_id", MONOTONE_IN_COUNT)
@PER_OFFER
@given(data=st.data(), more=st.integers(1, 50), monthly_volume=st.integers(0, 6000))
def test_non_decreasing_in_count(
    catalog: pricing.Catalog, offer_id: str, data: st.DataObject, more: int, monthly_volume: int
) -> None:
    fields = data.draw(request_fields(offer_id))
    smaller = cost(catalog, offer_id, make(fields), monthly_volume)
    larger = cost(catalog, offer_id, make(fields, count=fields["count"] + more), monthly_volume)
    assert smaller <= larger


@pytest.mark.parametrize("offer_id", [o for o in OFFERS if o != "acme/token"])
@PER_OFFER
@given(data=st.data())
def test_non_decreasing_in_size(
    catalog: pricing.Catalog, offer_id: str, data: st.DataObject
) -> None:
    fields = data.draw(request_fields(offer_id))
    width, height = fields["size"]
    bigger = (data.draw(st.integers(width, 4096)), data.draw(st.integers(height, 4096)))
    assert cost(catalog, offer_id, make(fields)) <= cost(
        catalog, offer_id, make(fields, size=bigger)
    )


@given(quality=st.sampled_from(["low", "high"]), count=st.integers(1, 12))
@QUICK
def test_token_cost_non_decreasing_in_size(
    catalog: pricing.Catalog, quality: str, count: int
) -> None:
    def at(width: int, height: int) -> Decimal:
        req = pricing.ImageRequest(
            model="m", width=width, height=height, count=count, quality=quality
        )
        return cost(catalog, "acme/token", req)

    assert at(1024, 1024) <= at(1024, 1536)
    assert at(1024, 1024) <= at(1536, 1024)


@pytest.mark.parametrize("offer_id", list(OFFERS))
@PER_OFFER
@given(data=st.data(), more=st.integers(1, 40))
def test_non_decreasing_in_steps(
    catalog: pricing.Catalog, offer_id: str, data: st.DataObject, more: int
) -> None:
    fields = data.draw(request_fields(offer_id))
    fewer = cost(catalog, offer_id, make(fields))
    assert fewer <= cost(catalog, offer_id, make(fields, steps=fields["steps"] + more))


@pytest.mark.parametrize("offer_id", list(OFFERS))
@PER_OFFER
@given(data=st.data(), extra=st.tuples(st.integers(64, 2048), st.integers(64, 2048)))
def test_non_decreasing_in_input_images(
    catalog: pricing.Catalog, offer_id: str, data: st.DataObject, extra: tuple[int, int]
) -> None:
    fields = data.draw(request_fields(offer_id))
    fewer = cost(catalog, offer_id, make(fields))
    more_inputs = (*fields["input_images"], extra)
    assert fewer <= cost(catalog, offer_id, make(fields, input_images=more_inputs))


# --------------------------------------------------------------------------- additive


@pytest.mark.parametrize("offer_id", ADDITIVE)
@PER_OFFER
@given(data=st.data(), first=st.integers(1, 30), second=st.integers(1, 30))
def test_additive_over_splits_of_count(
    catalog: pricing.Catalog, offer_id: str, data: st.DataObject, first: int, second: int
) -> None:
    # the prompt (and a token card's image-input tokens) are charged once per call
    fields = {**data.draw(request_fields(offer_id)), "prompt_tokens": 0}
    if offer_id == "acme/token":
        fields["input_images"] = []
    whole = cost(catalog, offer_id, make(fields, count=first + second))
    parts = cost(catalog, offer_id, make(fields, count=first)) + cost(
        catalog, offer_id, make(fields, count=second)
    )
    assert whole == parts


@pytest.mark.parametrize("offer_id", ADDITIVE_OVER_THE_MONTH)
@PER_OFFER
@given(
    data=st.data(),
    monthly_volume=st.integers(0, 6000),
    first=st.integers(1, 1500),
    second=st.integers(1, 1500),
)
def test_additive_over_the_month(
    catalog: pricing.Catalog,
    offer_id: str,
    data: st.DataObject,
    monthly_volume: int,
    first: int,
    second: int,
) -> None:
    """One request costs what it costs as two back-to-back requests (tiers, plans, free)."""
    fields = {**data.draw(request_fields(offer_id)), "prompt_tokens": 0}
    if offer_id == "acme/token":
        fields["input_images"] = []
    whole = cost(catalog, offer_id, make(fields, count=first + second), monthly_volume)
    parts = cost(catalog, offer_id, make(fields, count=first), monthly_volume) + cost(
        catalog, offer_id, make(fields, count=second), monthly_volume + first
    )
    assert whole == parts


# --------------------------------------------------------------------------- graduated tiers


def tier_price_at(position: int) -> Decimal:
    """Price of the image at 0-based monthly ``position`` under TIER_STARTS / TIER_PRICES."""
    return [p for s, p in zip(TIER_STARTS, TIER_PRICES, strict=True) if s <= position][-1]


def graduated_by_hand(monthly_volume: int, count: int) -> Decimal:
    """Sum over tiers of (images of [volume, volume + count) inside the tier) x tier price."""
    ends = [*TIER_STARTS[1:], monthly_volume + count]
    total = Decimal(0)
    for start, end, price in zip(TIER_STARTS, ends, TIER_PRICES, strict=True):
        inside = min(end, monthly_volume + count) - max(start, monthly_volume)
        total += max(inside, 0) * price
    return total


near_thresholds = st.sampled_from(TIER_STARTS[1:]).flatmap(
    lambda n: st.integers(max(n - 5, 0), n + 5)
) | st.integers(0, 7000)


@QUICK
@given(monthly_volume=near_thresholds, count=st.integers(1, 2000))
def test_graduated_tiers_match_per_tier_parts(
    catalog: pricing.Catalog, monthly_volume: int, count: int
) -> None:
    req = pricing.ImageRequest(model="m", count=count)
    got = cost(catalog, "acme/graduated", req, monthly_volume)
    assert got == graduated_by_hand(monthly_volume, count)


@pytest.mark.parametrize("threshold", TIER_STARTS[1:])
def test_graduated_marginal_price_at_each_threshold(
    catalog: pricing.Catalog, threshold: int
) -> None:
    one = pricing.ImageRequest(model="m")
    below = cost(catalog, "acme/graduated", one, threshold - 1)
    at = cost(catalog, "acme/graduated", one, threshold)
    i = TIER_STARTS.index(threshold)
    assert (below, at) == (TIER_PRICES[i - 1], TIER_PRICES[i])
    # continuity: the two images around the threshold cost the same in one call or two
    two = pricing.ImageRequest(model="m", count=2)
    assert cost(catalog, "acme/graduated", two, threshold - 1) == below + at


@QUICK
@given(monthly_volume=near_thresholds)
def test_graduated_marginal_price_never_rises(
    catalog: pricing.Catalog, monthly_volume: int
) -> None:
    one = pricing.ImageRequest(model="m")
    here = cost(catalog, "acme/graduated", one, monthly_volume)
    assert here == tier_price_at(monthly_volume)
    assert cost(catalog, "acme/graduated", one, monthly_volume + 1) <= here


# --------------------------------------------------------------------------- JSON Schema

RATE_CARD_VALIDATOR = jsonschema.Draft202012Validator(
    json.loads(pricing.schema_documents()["rate-card.json"])
)


def assert_round_trips(card: RateCard) -> None:
    dumped = card.model_dump(mode="json")
    RATE_CARD_VALIDATOR.validate(dumped)
    assert RateCard.model_validate(dumped) == card
    assert RateCard.model_validate(json.loads(json.dumps(dumped))) == card


def test_every_synthetic_card_round_trips_through_the_schema(catalog: pricing.Catalog) -> None:
    assert [o.id for o in catalog.offers()] == list(OFFERS)
    for card in catalog.cards.values():
        assert_round_trips(card)


money = st.decimals(min_value=0, max_value=1000, places=5)
positive = st.decimals(min_value="0.001", max_value=1000, places=3)
when = st.fixed_dictionaries(
    {},
    optional={
        "operation": st.sampled_from(["generate", "edit"]),
        "size": st.sampled_from(["1024x1024", "512x768"]),
        "quality": st.sampled_from(["low", "high"]),
    },
)


@st.composite
def tiers(draw: st.DrawFn) -> list[dict[str, Any]]:
    starts = draw(st.lists(st.integers(1, 100_000), unique=True, max_size=4))
    return [{"start": s, "price": draw(money)} for s in [0, *sorted(starts)]]


@st.composite
def image_price(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {
            "unit": "image",
            "tiers": draw(tiers()),
            "tier_mode": draw(st.sampled_from(["graduated", "all-units"])),
        }
    price = draw(money)
    high = draw(st.none() | st.decimals(min_value=price, max_value=price + 10, places=5))
    return {"unit": "image", "price": price, "price_high": high}


@st.composite
def megapixel_price(draw: st.DrawFn) -> dict[str, Any]:
    applies_to = draw(st.sampled_from(["output", "input"]))
    rounding = draw(st.sampled_from(["exact", "up", "increment"]))
    return {
        "unit": "megapixel",
        "applies_to": applies_to,
        "first": draw(money) if applies_to == "output" and draw(st.booleans()) else None,
        "price": draw(money),
        "rounding": rounding,
        "increment": draw(positive) if rounding == "increment" else None,
        "minimum_mp": draw(st.none() | money),
    }


@st.composite
def subscription_price(draw: st.DrawFn) -> dict[str, Any]:
    comp: dict[str, Any] = {"unit": "subscription", "monthly_fee": draw(money)}
    if draw(st.booleans()):
        comp |= {"included_gpu_hours": draw(money), "gpu_seconds_per_image": draw(positive)}
        comp["overage_per_gpu_hour"] = draw(st.none() | money)
    else:
        comp["included_images"] = draw(st.none() | st.integers(0, 10_000))
        comp["overage_per_image"] = draw(st.none() | money)
    return comp


components = st.one_of(
    image_price(),
    megapixel_price(),
    subscription_price(),
    st.fixed_dictionaries({"unit": st.just("input_image"), "price": money}),
    st.fixed_dictionaries({"unit": st.just("credit"), "credits": money}),
    st.fixed_dictionaries(
        {
            "unit": st.just("gpu_second"),
            "hardware": st.sampled_from(["A100", "H100"]),
            "price": money,
            "granularity_s": st.none() | positive,
            "minimum_s": money,
            "estimate": st.none()
            | st.fixed_dictionaries(
                {
                    "seconds": positive,
                    "width": st.integers(1, 4096),
                    "height": st.integers(1, 4096),
                    "steps": st.none() | st.integers(1, 100),
                    "source": st.just("blog"),
                }
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "unit": st.just("token"),
            "text_input": st.none() | money,
            "image_input": st.none() | money,
            "image_output": money,
            "output_tokens": st.lists(
                st.fixed_dictionaries(
                    {
                        "size": st.sampled_from(["1024x1024", "1024x1536"]),
                        "quality": st.sampled_from(["low", "high"]),
                        "tokens": st.integers(1, 10_000),
                    }
                ),
                min_size=1,
                max_size=4,
                unique_by=lambda r: (r["size"], r["quality"]),
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "unit": st.just("step"),
            "price": money,
            "per_steps": st.integers(1, 100),
            "scale_by_area": st.booleans(),
            "default_steps": st.none() | st.integers(1, 100),
        }
    ),
)


@st.composite
def rate_cards(draw: st.DrawFn) -> dict[str, Any]:
    """A card with one offer per drawn component (a component with its `when`)."""
    offers = []
    for i, comp in enumerate(draw(st.lists(components, min_size=1, max_size=4))):
        offers.append(
            {
                "id": f"acme/o{i}",
                "model": "m",
                "operations": ["generate", "edit"],
                "qualities": ["low", "high"],
                "limits": draw(
                    st.none()
                    | st.fixed_dictionaries(
                        {},
                        optional={
                            "max_megapixels": positive,
                            "max_side": st.integers(1, 8192),
                            "sizes": st.just(["1024x1024"]),
                            "max_input_images": st.integers(0, 10),
                        },
                    )
                ),
                "versions": [
                    {
                        "effective_from": "2026-01-01",
                        "source": "acme-docs",
                        "megapixel": draw(st.sampled_from([1_000_000, 1_048_576])),
                        "credit_value": draw(money) if comp["unit"] == "credit" else None,
                        "free_images_per_month": draw(st.integers(0, 100)),
                        "minimum_monthly_spend": draw(st.none() | money),
                        "committed_use_discount": draw(
                            st.none() | st.decimals(min_value=0, max_value=1, places=2)
                        ),
                        "components": [{**comp, "when": draw(when)}],
                    }
                ],
            }
        )
    return {"provider": "acme", "name": "Acme", "offers": offers}


@QUICK
@given(raw=rate_cards())
def test_random_cards_round_trip_through_the_schema(raw: dict[str, Any]) -> None:
    assert_round_trips(RateCard.model_validate(raw))


def test_unpriceable_requests_raise_rather_than_price_zero(catalog: pricing.Catalog) -> None:
    # no 512x512 row in the token table; input images need their token count
    with pytest.raises(UnsupportedRequest):
        cost(catalog, "acme/token", pricing.ImageRequest(model="m", width=512, height=512))
    with pytest.raises(PriceNotFound):
        cost(catalog, "acme/token", pricing.ImageRequest(model="m", quality="low", input_images=1))
