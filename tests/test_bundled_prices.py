"""Official and third-party figures from the bundled cards, checked by hand from their rates."""

from __future__ import annotations

from decimal import Decimal

import pytest

import pricing
from pricing import ImageRequest, UnsupportedRequest


@pytest.fixture(scope="module")
def cat() -> pricing.Catalog:
    return pricing.load_catalog()


def test_flux_2_pro_formula_at_bfl(cat: pricing.Catalog) -> None:
    # 3c first MP + 1.5c per extra output MP + 1.5c per input MP, 1 MP = 10^6 px.
    req = ImageRequest(
        model="flux-2-pro", operation="edit", width=1536, height=1024, input_images=[(1024, 1024)]
    )
    q = pricing.quote(req, "bfl/flux-2-pro", as_of="2026-11-21", catalog=cat)
    out_mp = Decimal(1536 * 1024) / 10**6
    in_mp = Decimal(1024 * 1024) / 10**6
    assert q.total == Decimal("0.03") + (out_mp - 1) * Decimal("0.015") + in_mp * Decimal("0.015")
    assert q.source_kind == "official"
    # Disagreeing sources are kept where they can price the request: seed 000's flat $0.03
    # covers the 1024x1024 class only, and seed 003's figures are a claim, so at 1.5 MP out
    # the spread is BFL's formula and basedlabs' linear restatement (0.045 x 1.572864 MP).
    assert [s.source_id for s in q.spread.by_source] == [
        "bfl-skills",
        "basedlabs-flux-pro-pricing",
    ]
    assert q.spread.high == Decimal("0.045") * out_mp  # basedlabs: $0.045 per output MP


def test_flux_2_flex_price_change_is_dated(cat: pricing.Catalog) -> None:
    req = ImageRequest(model="flux-2-flex")
    before = pricing.quote(
        req, "bfl/flux-2-flex", as_of="2026-01-25", source="bfl-skills", catalog=cat
    )
    after = pricing.quote(
        req, "bfl/flux-2-flex", as_of="2026-02-01", source="bfl-skills", catalog=cat
    )
    extra_mp = Decimal(1024 * 1024) / 10**6 - 1
    assert before.total == Decimal("0.06") + extra_mp * Decimal("0.06")
    assert after.total == Decimal("0.05") + extra_mp * Decimal("0.05")
    diff = cat.as_of("2026-01-25").diff(cat.as_of("2026-02-01"))
    flex = diff.filter(
        (diff["offer_id"] == "bfl/flux-2-flex") & (diff["source_id"] == "bfl-skills")
    )
    assert set(flex["change"]) == {"changed"}
    assert flex["pct"].round(2).to_list() == [-16.67] * flex.height


def test_flux_2_flex_in_january_is_the_6c_price_by_default(cat: pricing.Catalog) -> None:
    # BFL's skills repository: 6c/MP from commit 99cc90a (2026-01-24), 5c/MP from 937fe03
    # (2026-01-28). The undated docs page shows the 5c price, so it cannot apply before then.
    req = ImageRequest(model="flux-2-flex")
    extra_mp = Decimal(1024 * 1024) / 10**6 - 1
    january = pricing.quote(req, "bfl/flux-2-flex", as_of="2026-01-25", catalog=cat)
    assert january.total == Decimal("0.06") + extra_mp * Decimal("0.06")  # $0.06291456
    assert "bfl-docs-pricing" not in {s.source_id for s in january.spread.by_source}
    february = pricing.quote(req, "bfl/flux-2-flex", as_of="2026-02-02", catalog=cat)
    assert february.total == Decimal("0.05") + extra_mp * Decimal("0.05")  # $0.0524288
    assert "bfl-docs-pricing" in {s.source_id for s in february.spread.by_source}


def test_gpt_image_1_tokens_match_official_per_image_prices(cat: pricing.Catalog) -> None:
    # high 1024x1024 = 4,160 output tokens x $40 / 1M = $0.1664; the page shows $0.167.
    cases = {
        ("low", "1024x1024"): "0.011",
        ("medium", "1024x1536"): "0.063",
        ("high", "1024x1024"): "0.167",
        ("high", "1536x1024"): "0.25",
    }
    for (quality, size), shown in cases.items():
        w, h = (int(x) for x in size.split("x"))
        req = ImageRequest(model="gpt-image-1", width=w, height=h, quality=quality)
        q = pricing.quote(req, "openai/gpt-image-1", as_of="2026-09-01", catalog=cat)
        # The page shows rounded figures (0.1664 as 0.167, 0.24832 as 0.25): agree within one
        # unit of the last digit shown.
        last_digit = Decimal(1).scaleb(Decimal(shown).as_tuple().exponent)  # type: ignore[arg-type]
        assert abs(q.total - Decimal(shown)) < last_digit
    high = ImageRequest(model="gpt-image-1", quality="high")
    q = pricing.quote(high, "openai/gpt-image-1", as_of="2026-09-01", catalog=cat)
    assert q.total == Decimal(4160) * Decimal(40) / 10**6


def test_retired_models_are_refused_today(cat: pricing.Catalog) -> None:
    req = ImageRequest(model="gpt-image-1", quality="high")
    with pytest.raises(UnsupportedRequest, match="retired on 2026-10-23"):
        pricing.quote(req, "openai/gpt-image-1", as_of="2026-10-23", catalog=cat)
    with pytest.raises(UnsupportedRequest, match="retired"):
        pricing.quote(
            ImageRequest(model="dall-e-3"), "openai/dall-e-3", as_of="2026-11-21", catalog=cat
        )


def test_deepinfra_step_formulas(cat: pricing.Catalog) -> None:
    # schnell: $0.0005 x (w/1024) x (h/1024) x steps; dev: $0.009 x ... x steps/25.
    schnell = ImageRequest(model="flux-1-schnell", steps=4)
    assert pricing.quote(schnell, "deepinfra/flux-1-schnell", catalog=cat).total == Decimal("0.002")
    dev = ImageRequest(model="flux-1-dev", width=2048, height=1024, steps=28)
    expected = Decimal("0.009") * 2 * 1 * Decimal(28) / 25
    assert pricing.quote(dev, "deepinfra/flux-1-dev", catalog=cat).total == expected


def test_midjourney_standard_plan_month(cat: pricing.Catalog) -> None:
    # $30/month with 15 fast GPU-hours; ~1 GPU-minute per 4-image job = 15 s per image,
    # so 15 h x 3600 / 15 = 3,600 images fit; beyond, ~$4 per GPU-hour.
    req = ImageRequest(model="midjourney-v7")
    at = pricing.monthly_cost(req, "midjourney/standard", requests=3600, catalog=cat)
    over = pricing.monthly_cost(req, "midjourney/standard", requests=3601, catalog=cat)
    assert at.total == Decimal(30)
    assert over.total == Decimal(30) + Decimal(15) / 3600 * 4
    assert at.per_image == Decimal(30) / 3600
