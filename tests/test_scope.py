"""Prices apply only where their source says: model limits, size brackets of flat prices, the
input of an edit, and provider-neutral quality words. Expected values are worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import pricing
from pricing import UnsupportedRequest
from tests.conftest import MODELS, offer, request, version, write_data

DAY = date(2026, 6, 1)

#: Model "m" made at most 4 MP of 1,048,576 px, with at most 2 reference images.
LIMITED_MODELS = MODELS.replace(
    'operations = ["generate", "edit", "inpaint", "upscale"]',
    'operations = ["generate", "edit", "inpaint", "upscale"]\n'
    "max_megapixels = 4\nmegapixel = 1048576\nmax_reference_images = 2",
    1,
)


def catalog(tmp_path: Path, cards: dict[str, str], models: str = MODELS) -> pricing.Catalog:
    return pricing.load_catalog(write_data(tmp_path, cards, models=models))


# --------------------------------------------------------------------------- model limits


def test_a_models_limits_apply_to_every_offer_of_it(tmp_path: Path) -> None:
    # The reseller states no limit; the model's own apply. 2048x2048 is 4,194,304 px = 4 MP
    # of 1,048,576 px: allowed. 2048x2064 is 4.03 of them: refused. 3 references: refused.
    cat = catalog(
        tmp_path,
        {"beta": offer(version('{ unit = "image", price = 0.02 }'), offer_id="beta/m")},
        LIMITED_MODELS,
    )
    ok = pricing.quote(request(width=2048, height=2048), "beta/m", catalog=cat, as_of=DAY)
    assert ok.total == Decimal("0.02")
    with pytest.raises(UnsupportedRequest, match="at most 4 MP"):
        pricing.quote(request(width=2048, height=2064), "beta/m", catalog=cat, as_of=DAY)
    three = request(operation="edit", input_images=3)
    with pytest.raises(UnsupportedRequest, match="at most 2"):
        pricing.quote(three, "beta/m", catalog=cat, as_of=DAY)
    # the vectorised engine applies the same limits
    rows = pl.DataFrame(
        {
            "offer_id": ["beta/m", "beta/m"],
            "model": ["m", "m"],
            "width": [2048, 2048],
            "height": [2048, 2064],
            "timestamp": [DAY, DAY],
        }
    )
    out = pricing.price_requests(rows, cat, evidence="all")
    assert out["cost"].to_list() == [pytest.approx(0.02), None]


def test_bfl_flux2_pro_prices_its_documented_largest_size() -> None:
    # 2048x2048 = 4.194304 MP of 10^6 px: 0.03 first MP + 3.194304 x 0.015 = 0.07791456
    req = pricing.ImageRequest(model="flux-2-pro", width=2048, height=2048)
    q = pricing.quote(req, "bfl/flux-2-pro", as_of="2026-12-07")
    assert q.total == Decimal("0.07791456")


def test_a_flat_standard_resolution_price_stops_at_the_1024_class() -> None:
    # TokenMix's $0.025 is "at standard resolution" (seed 000): 1024x1024 only.
    small = pricing.ImageRequest(model="flux-2-pro")
    assert pricing.quote(small, "tokenmix/flux-2-pro", as_of="2026-12-07").total == Decimal("0.025")
    big = pricing.ImageRequest(model="flux-2-pro", width=2048, height=2048)
    with pytest.raises(UnsupportedRequest, match="at most 1 MP"):
        pricing.quote(big, "tokenmix/flux-2-pro", as_of="2026-12-07")


# --------------------------------------------------------------------------- edits


def test_an_edit_without_stated_inputs_pays_for_one_of_the_output_size(tmp_path: Path) -> None:
    # 0.03 per output MP and 0.015 per input MP (10^6 px); 1024x1024 = 1.048576 MP:
    # output 0.03145728 + input 0.01572864 = 0.04718592
    components = (
        '{ unit = "megapixel", applies_to = "output", price = 0.03 }, '
        '{ unit = "megapixel", applies_to = "input", price = 0.015 }'
    )
    cat = catalog(tmp_path, {"acme": offer(version(components))})
    q = pricing.quote(request(operation="edit"), "acme/m", catalog=cat, as_of=DAY)
    assert q.total == Decimal("0.04718592")
    assert any("no stated input image" in n for n in q.notes)
    stated = request(operation="edit", input_images=[(512, 512)])  # 0.262144 MP in
    assert pricing.quote(stated, "acme/m", catalog=cat, as_of=DAY).total == Decimal(
        "0.03145728"
    ) + Decimal("0.262144") * Decimal("0.015")
    rows = pl.DataFrame(
        {"offer_id": ["acme/m"], "operation": ["edit"], "timestamp": [DAY]},
    )
    out = pricing.price_requests(rows, cat, evidence="all")
    assert out["cost"][0] == pytest.approx(0.04718592)


# --------------------------------------------------------------------------- quality words

QUALITIES = (
    'qualities = ["turbo", "default", "quality"]\n'
    'default_quality = "default"\n'
    'quality_scale = { low = "turbo", medium = "default", high = "quality" }'
)
QUALITY_PRICES = (
    '{ unit = "image", price = 0.03, when = { quality = "turbo" } }, '
    '{ unit = "image", price = 0.06, when = { quality = "default" } }, '
    '{ unit = "image", price = 0.09, when = { quality = "quality" } }'
)


def test_neutral_quality_words_map_to_an_offers_own(tmp_path: Path) -> None:
    cat = catalog(tmp_path, {"acme": offer(version(QUALITY_PRICES), settings=QUALITIES)})
    for word, price in [("low", "0.03"), ("medium", "0.06"), ("high", "0.09"), ("turbo", "0.03")]:
        q = pricing.quote(request(quality=word), "acme/m", catalog=cat, as_of=DAY)
        assert q.total == Decimal(price), word
    with pytest.raises(
        UnsupportedRequest, match=r"use one of turbo, default, quality, low \(= turbo\)"
    ):
        pricing.quote(request(quality="ultra"), "acme/m", catalog=cat, as_of=DAY)
    rows = pl.DataFrame(
        {"offer_id": ["acme/m"] * 3, "quality": ["low", "high", "ultra"], "timestamp": [DAY] * 3}
    )
    out = pricing.price_requests(rows, cat, evidence="all")
    assert out["cost"].to_list()[:2] == [pytest.approx(0.03), pytest.approx(0.09)]
    assert out["cost"][2] is None
    assert "low (= turbo)" in str(out["reason"][2])


def test_a_scale_word_must_map_to_a_quality_of_the_offer(tmp_path: Path) -> None:
    bad = QUALITIES.replace('high = "quality"', 'high = "best"')
    root = write_data(tmp_path, {"acme": offer(version(QUALITY_PRICES), settings=bad)})
    with pytest.raises(pricing.RateCardError, match="maps 'high' to 'best'"):
        pricing.load_catalog(root)


# --------------------------------------------------------------------------- fallback


def test_when_the_preferred_source_cannot_price_the_next_one_does(tmp_path: Path) -> None:
    # acme-docs (official) is a text-to-image page: it prices generate only. The blog
    # (third-party) prices edits too. An edit falls to the blog, and both paths name it.
    t2i = version('{ unit = "image", price = 0.04, when = { operation = "generate" } }')
    both = version('{ unit = "image", price = 0.05 }', source="blog")
    cat = catalog(tmp_path, {"acme": offer(t2i, both)})
    gen = pricing.quote(request(), "acme/m", catalog=cat, as_of=DAY)
    assert (gen.total, gen.source_id) == (Decimal("0.04"), "acme-docs")
    edit = pricing.quote(
        request(operation="edit", input_images=1), "acme/m", catalog=cat, as_of=DAY
    )
    assert (edit.total, edit.source_id) == (Decimal("0.05"), "blog")
    assert any("preferred source acme-docs cannot price" in n for n in edit.notes)
    rows = pl.DataFrame(
        {
            "offer_id": ["acme/m", "acme/m"],
            "operation": ["generate", "edit"],
            "input_images": [0, 1],
            "timestamp": [DAY, DAY],
        }
    )
    out = pricing.price_requests(rows, cat, evidence="all")
    assert out["cost"].to_list() == [pytest.approx(0.04), pytest.approx(0.05)]
    assert out["source_id"].to_list() == ["acme-docs", "blog"]


EDIT_WORKLOAD = """
name = "edits"
currency = "USD"
start = 2027-01-01
months = 1

[traffic]
peak_to_mean = 1.0

[[segments]]
name = "edit"
operation = "edit"
models = ["m"]
volume = {{ base = 1000, growth = 0.0 }}
resolutions = [{{ width = 1024, height = 1024, share = 1.0 }}]
{inputs}
"""


@pytest.mark.parametrize(
    ("inputs", "per_image"),
    [
        # none stated: one input of the output's size, 1.048576 MP x 0.015 = 0.01572864
        ("", Decimal("0.03145728") + Decimal("0.01572864")),
        # two inputs of 512x512: 2 x 0.262144 MP x 0.015 = 0.00786432
        ('input_images = 2\ninput_size = "512x512"', Decimal("0.03145728") + Decimal("0.00786432")),
    ],
)
def test_a_workload_states_its_edit_inputs(tmp_path: Path, inputs: str, per_image: Decimal) -> None:
    components = (
        '{ unit = "megapixel", applies_to = "output", price = 0.03 }, '
        '{ unit = "megapixel", applies_to = "input", price = 0.015 }'
    )
    cat = catalog(tmp_path, {"acme": offer(version(components))})
    path = tmp_path / "w.toml"
    path.write_text(EDIT_WORKLOAD.format(inputs=inputs), encoding="utf-8")
    sim = pricing.simulate(path, cat, modes=("api",), as_of=DAY, evidence="all")
    cost = sim.monthly.filter(pl.col("option") == "api:acme/m")["cost"][0]
    assert cost == pytest.approx(float(per_image * 1000))
