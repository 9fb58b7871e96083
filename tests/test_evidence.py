"""Evidence grades, flags and the trust policy, on hand-built cards: one card per flag.

The vendor of model ``m`` is Acme, whose own card (``acme``) states the official price
($0.04 an image); resellers ``beta`` and ``gamma`` resell it. Expected shares and dates are
worked by hand from those prices and the sources' dates.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import pricing
from pricing import PriceExcluded, PricingError, RateCardError, TrustPolicy
from tests.conftest import MODELS, SOURCES, offer, request, version, write_data

#: Sources beyond the shared ones: a reseller's own page, an undated aggregator, a page
#: graded claim, a seed article that is beta's own page, and a dated official page.
MORE_SOURCES = """
[[source]]
id = "beta-page"
title = "Beta pricing"
publisher = "Beta"
kind = "provider-reseller"
published = 2026-05-01
seen = 2026-05-20

[[source]]
id = "aggregator"
title = "Price aggregator"
publisher = "Agg"
kind = "third-party"
seen = 2026-05-20

[[source]]
id = "hype"
title = "Cheapest API ever"
publisher = "Hype"
kind = "third-party"
seen = 2026-05-20
grade = "claim"
grade_reason = "marketing copy with no unit"

[[source]]
id = "seed-beta"
title = "Beta's own article"
publisher = "Beta"
url = "shared/seeds/b.txt"
kind = "seed"
seen = 2026-05-20
provider = "beta"

[[source]]
id = "acme-dated"
title = "Acme pricing (dated)"
publisher = "Acme"
kind = "official"
published = 2026-05-01
seen = 2026-05-20
"""

VENDOR = 'vendor = "Acme"\n'
#: The vendor's own price: $0.04 an image, from a dated official page.
ACME = VENDOR + offer(version('{ unit = "image", price = 0.04 }', source="acme-dated"))
DAY = date(2026, 6, 1)


def build(tmp_path: Path, cards: dict[str, str]) -> pricing.Catalog:
    root = write_data(tmp_path, {"acme": ACME, **cards}, sources=SOURCES + MORE_SOURCES)
    return pricing.load_catalog(root)


def evidence_of(cat: pricing.Catalog, offer_id: str, day: date = DAY) -> dict[str, object]:
    frame = pricing.evidence_frame(cat, as_of=day, offer=offer_id)
    assert frame.height == 1
    return frame.row(0, named=True)


def beta(price: str, source: str = "beta-page", settings: str = "") -> str:
    return offer(
        version(f'{{ unit = "image", price = {price} }}', source=source, settings=settings),
        offer_id="beta/m",
    )


# --------------------------------------------------------------------------- grades


@pytest.mark.parametrize(
    ("source", "grade"),
    [
        ("acme-docs", "official"),  # kind official
        ("beta-page", "provider"),  # a reseller's own page for its own offer
        ("aggregator", "third-party"),
        ("seed-beta", "provider"),  # a seed article that is beta's own page, on beta's offer
        ("seed-a", "third-party"),  # a seed article quoting someone else
        ("hype", "claim"),  # graded down in sources.toml, with a reason
    ],
)
def test_grade_follows_what_the_page_is(tmp_path: Path, source: str, grade: str) -> None:
    cat = build(tmp_path, {"beta": beta("0.035", source)})
    assert evidence_of(cat, "beta/m")["grade"] == grade


def test_a_seed_article_grades_third_party_for_another_providers_offer(tmp_path: Path) -> None:
    gamma = offer(
        version('{ unit = "image", price = 0.035 }', source="seed-beta"), offer_id="gamma/m"
    )
    cat = build(tmp_path, {"beta": beta("0.035"), "gamma": gamma})
    assert evidence_of(cat, "gamma/m")["grade"] == "third-party"


# --------------------------------------------------------------------------- flags


def test_below_upstream_flags_a_resold_price_far_below_the_vendors(tmp_path: Path) -> None:
    # $0.01 is 25% of Acme's official $0.04: below half, so flagged with both figures.
    cat = build(tmp_path, {"beta": beta("0.01")})
    row = evidence_of(cat, "beta/m")
    assert row["flags"] == ["below-upstream"]
    assert "0.01 USD, 25% of the vendor's official 0.04 on acme/m" in str(row["flag_reasons"])
    assert row["allowed"] is False
    # the vendor's own price is never checked against itself
    assert evidence_of(cat, "acme/m")["flags"] == []


def test_a_discount_above_half_the_vendors_price_is_not_flagged(tmp_path: Path) -> None:
    cat = build(tmp_path, {"beta": beta("0.021")})  # 52.5% of $0.04
    assert evidence_of(cat, "beta/m")["flags"] == []


def test_free_tier_flags_a_zero_price_but_not_a_paid_price_with_an_allowance(
    tmp_path: Path,
) -> None:
    cat = build(tmp_path, {"beta": beta("0")})
    row = evidence_of(cat, "beta/m")
    assert "free-tier" in row["flags"]  # type: ignore[operator]
    assert row["allowed"] is False
    allowance = beta("0.03", settings="  free_images_per_month = 100")
    cat = build(tmp_path / "b", {"beta": allowance})
    assert evidence_of(cat, "beta/m")["flags"] == []  # priced past the 100 free images


def test_undated_is_shown_but_does_not_exclude(tmp_path: Path) -> None:
    cat = build(tmp_path, {"beta": beta("0.035", "aggregator")})
    row = evidence_of(cat, "beta/m")
    assert row["flags"] == ["undated"]
    assert row["flag_reasons"] == "undated: aggregator shows no date; read 2026-05-20"
    assert row["allowed"] is True


def test_stale_starts_181_days_after_the_newest_date(tmp_path: Path) -> None:
    # acme-docs: seen 2026-01-15. 2026-07-14 is 180 days later (16 + 28 + 31 + 30 + 31 + 30
    # + 14), still fresh; 2026-07-15 is 181 days later: stale.
    cat = build(tmp_path, {"beta": beta("0.035", "acme-docs")})
    assert "stale" not in evidence_of(cat, "beta/m", date(2026, 7, 14))["flags"]  # type: ignore[operator]
    row = evidence_of(cat, "beta/m", date(2026, 7, 15))
    assert "stale" in row["flags"]  # type: ignore[operator]
    assert "181 days before 2026-07-15" in str(row["flag_reasons"])
    assert row["allowed"] is False


@pytest.mark.parametrize(
    ("flag", "excludes"), [("unit-ambiguous", True), ("retirement-undated", False)]
)
def test_flags_stated_in_the_data_carry_their_reason(
    tmp_path: Path, flag: str, excludes: bool
) -> None:
    settings = f'  flags = [{{ flag = "{flag}", reason = "the page says so" }}]'
    cat = build(tmp_path, {"beta": beta("0.035", settings=settings)})
    row = evidence_of(cat, "beta/m")
    assert row["flags"] == [flag]
    assert row["flag_reasons"] == f"{flag}: the page says so"
    assert row["allowed"] is not excludes


# --------------------------------------------------------------------------- the policy


def test_a_claim_never_answers_by_default_and_says_why(tmp_path: Path) -> None:
    cat = build(tmp_path, {"beta": beta("0.035", "hype")})
    with pytest.raises(PriceExcluded, match=r"graded claim \(marketing copy with no unit\)"):
        pricing.quote(request(), "beta/m", catalog=cat, as_of=DAY)
    q = pricing.quote(request(), "beta/m", catalog=cat, as_of=DAY, evidence="all")
    assert (q.total, q.grade) == (Decimal("0.035"), "claim")
    named = pricing.quote(request(), "beta/m", catalog=cat, as_of=DAY, source="hype")
    assert named.grade == "claim"
    assert any("was named" in n for n in named.notes)


def test_compare_ranks_trusted_offers_and_lists_leads_after_them(tmp_path: Path) -> None:
    cat = build(tmp_path, {"beta": beta("0.01")})  # below upstream: cheapest, but a lead
    frame = pricing.compare(request(), cat, as_of=DAY)
    assert frame["offer_id"].to_list() == ["acme/m", "beta/m"]
    assert frame["lead"][0] is None
    assert frame["lead"][1].startswith("unverified lead: below-upstream")
    assert frame["grade"].to_list() == ["official", "provider"]


def test_price_requests_leaves_excluded_offers_unpriced_with_the_reason(tmp_path: Path) -> None:
    cat = build(tmp_path, {"beta": beta("0.035", "hype")})
    rows = pl.DataFrame(
        {"offer_id": ["beta/m", "acme/m"], "model": ["m", "m"], "timestamp": [DAY, DAY]}
    )
    out = pricing.price_requests(rows, cat, as_of=DAY)
    assert out["cost"].to_list() == [None, pytest.approx(0.04)]
    assert "graded claim" in str(out["reason"][0])
    everything = pricing.price_requests(rows, cat, as_of=DAY, evidence="all")
    assert everything["cost"].to_list() == [pytest.approx(0.035), pytest.approx(0.04)]


def test_a_stale_price_still_prices_the_days_it_was_fresh(tmp_path: Path) -> None:
    # acme-docs (seen 2026-01-15) turns stale on 2026-07-15: judged on 2026-08-01, a row
    # of 2026-03-01 is priced by it, a row of 2026-08-01 is not.
    cat = build(tmp_path, {"beta": beta("0.035", "acme-docs")})
    days = [date(2026, 3, 1), date(2026, 8, 1)]
    rows = pl.DataFrame({"offer_id": ["beta/m"] * 2, "model": ["m"] * 2, "timestamp": days})
    trust = pricing.trusted(cat, None, date(2026, 8, 1))
    out = pricing.price_requests(rows, trust.catalog)
    assert out["cost"][0] == pytest.approx(0.035)
    assert out["cost"][1] is None
    assert "stale from 2026-07-15" in str(out["reason"][1])


@pytest.mark.parametrize(
    ("text", "grades", "flagged"),
    [
        (None, {"official", "provider", "third-party"}, False),
        ("official", {"official"}, False),
        ("provider", {"official", "provider"}, False),
        ("all", {"official", "provider", "third-party", "claim"}, True),
        ("official,third-party", {"official", "third-party"}, False),
        ("third-party+flagged", {"third-party"}, True),
    ],
)
def test_policies_by_name(text: str | None, grades: set[str], flagged: bool) -> None:
    policy = TrustPolicy.parse(text)
    assert set(policy.grades) == grades
    assert (not policy.excluding) is flagged


def test_an_unknown_policy_names_the_known_ones() -> None:
    with pytest.raises(PricingError, match=r"unknown evidence policy 'trusted'.*default, official"):
        TrustPolicy.parse("trusted")


# --------------------------------------------------------------------------- the data files


def test_a_grade_needs_its_reason(tmp_path: Path) -> None:
    bad = SOURCES + '\n[[source]]\nid = "x"\ntitle = "X"\npublisher = "X"\nkind = "third-party"\n'
    bad += 'seen = 2026-05-20\ngrade = "claim"\n'
    root = write_data(tmp_path, {"acme": ACME}, sources=bad)
    with pytest.raises(RateCardError, match="`grade` and `grade_reason` go together"):
        pricing.load_catalog(root)


def test_a_sources_provider_and_a_cards_vendor_must_exist(tmp_path: Path) -> None:
    sources = SOURCES + MORE_SOURCES.replace('provider = "beta"', 'provider = "betta"')
    root = write_data(
        tmp_path,
        {"acme": 'vendor = "Acme Inc"\n' + offer(version('{ unit = "image", price = 0.04 }'))},
        sources=sources,
        models=MODELS,
    )
    with pytest.raises(RateCardError) as err:
        pricing.load_catalog(root)
    text = str(err.value)
    assert "names unknown provider 'betta'" in text
    assert "vendor 'Acme Inc' is no model's vendor" in text


# --------------------------------------------------------------------------- the bundled data

AS_OF = date(2026, 12, 7)


def test_the_llmapi_figure_is_a_claim_below_bfls_own_price() -> None:
    # BFL FLUX.2 [pro] (bfl-skills): 3 cents for the first MP and 1.5 cents for each further
    # MP; 1024x1024 is 1.048576 MP, so 0.03 + 0.048576 x 0.015 = 0.03072864, and LLM API's
    # $0.001 is 3% of it.
    row = pricing.evidence_frame(as_of=AS_OF, offer="llmapi/flux-2-pro").row(0, named=True)
    assert row["grade"] == "claim"
    assert {"unit-ambiguous", "below-upstream"} <= set(row["flags"])
    assert "3% of the vendor's official 0.03072864 on bfl/flux-2-pro" in row["flag_reasons"]
    assert row["allowed"] is False


@pytest.mark.parametrize(
    "workload", ["ecommerce", "agency", "consumer-app", "small", "medium", "large"]
)
def test_no_default_headline_rests_on_a_claim_or_a_zero(workload: str) -> None:
    sim = pricing.simulate(workload, as_of=AS_OF)
    plan = pricing.plan_options(sim).join(sim.options, on=["segment", "option"])
    assert plan.height == len(sim.segments)
    for row in plan.iter_rows(named=True):
        if row["kind"] == "hosted":
            assert row["grade"] in ("official", "provider", "third-party"), row
        costs = sim.monthly.filter(
            (pl.col("segment") == row["segment"]) & (pl.col("option") == row["option"])
        )["cost"]
        assert costs.null_count() == 0, row
        assert costs.min() > 0, row  # type: ignore[operator]
    # every lead is shown with its reason, and none of them is bought
    assert sim.leads["reason"].null_count() == 0
    assert not set(plan["offer_id"].to_list()) & set(sim.leads["offer_id"].to_list())
    assert sim.evidence.startswith("default evidence policy")


def test_the_free_schnell_tier_is_a_lead_not_a_zero_headline() -> None:
    sim = pricing.simulate("consumer-app", as_of=AS_OF)
    leads = sim.leads.filter(pl.col("offer_id") == "bfl/flux-1-schnell")
    assert leads.height == 1
    assert "free-tier" in leads["reason"][0]
    assert leads["cost_per_image"][0] == 0.0  # shown with its figure, never used


def test_replay_prices_neither_calls_nor_alternatives_on_a_claim(tmp_path: Path) -> None:
    cat = build(tmp_path, {"beta": beta("0.01", "hype")})  # a claim, and below upstream
    log = pl.DataFrame(
        {
            "timestamp": ["2026-05-04T10:00:00Z", "2026-05-04T11:00:00Z"],
            "provider": ["beta", "acme"],
            "model": ["m", "m"],
        }
    )
    result = pricing.replay(log, catalog=cat)
    costs = dict(result.costs.select("offer_id", "cost").iter_rows())
    assert costs == {"acme/m": Decimal("0.04"), "beta/m": None}  # never its claimed $0.01
    assert "graded claim" in result.unpriced["reason"][0]
    # the claim is no alternative and promises no saving; it is listed as a lead
    assert set(result.alternatives["offer_id"].to_list()) == {"acme/m"}
    lead = result.leads.filter(pl.col("offer_id") == "beta/m").row(0, named=True)
    assert lead["grade"] == "claim"
    assert lead["reference_price"] == Decimal("0.01")
    assert result.evidence.startswith("default evidence policy")
    status = pricing.budget_status(result, pricing.Budget(monthly=100))
    assert status.evidence.startswith("default evidence policy")


@pytest.mark.parametrize(
    ("workload", "segment", "option", "grade", "first_month"),
    [
        # bfl-skills (official): FLUX.2 [klein] 4B costs 1.4c for the first output MP and
        # 0.1c per input MP. A 768x768 edit with one 768x768 input: 0.014 + 0.589824 x 0.001
        # = 0.014589824 per image; 300,000 edits in the first month (the volume's mode).
        ("consumer-app", "avatar restyle", "api:bfl/flux-2-klein-4b", "official", 4376.9472),
        # deepinfra-flux-dev-api (official): $0.009 x (w/1024)(h/1024) x steps/25. 28 steps:
        # 1024x1024 0.01008, 1024x1536 0.01512; mix 0.6/0.4 = 0.012096; 40,000 images.
        ("ecommerce", "lifestyle shots", "api:deepinfra/flux-1-dev", "official", 483.84),
        # The same formula at 1024x1024, 28 steps: 0.01008 per image, for 10k, 250k and 5M.
        ("small", "generation", "api:deepinfra/flux-1-dev", "official", 100.8),
        ("medium", "generation", "api:deepinfra/flux-1-dev", "official", 2520.0),
        ("large", "generation", "api:deepinfra/flux-1-dev", "official", 50400.0),
        # deepinfra-flux-schnell-api (official): $0.0005 x (w/1024)(h/1024) x 4 steps: 512x512
        # 0.0005, 768x768 0.001125, 1024x1024 0.002; mix 0.4/0.35/0.25 = 0.00109375 per image;
        # 2,000,000 images (the volume's median).
        ("consumer-app", "prompt to image", "api:deepinfra/flux-1-schnell", "official", 2187.5),
        # seed-001, AI Generate's own page (provider): FLUX.2 [pro] 2K = 7 credits x $0.007 =
        # $0.049 an image, text-to-image and edit alike; 3,000 and 1,500 images at 2048x2048.
        ("agency", "key visuals", "api:aigenerate/flux-2-pro", "provider", 147.0),
        ("agency", "client revisions", "api:aigenerate/flux-2-pro", "provider", 73.5),
    ],
)
def test_headlines_typed_from_official_prices(
    workload: str, segment: str, option: str, grade: str, first_month: float
) -> None:
    sim = pricing.simulate(workload, as_of=AS_OF)
    row = pricing.plan_options(sim).filter(pl.col("segment") == segment).row(0, named=True)
    assert row["option"] == option
    month = sim.monthly.filter((pl.col("segment") == segment) & (pl.col("option") == option)).sort(
        "month"
    )
    assert month["cost"][0] == pytest.approx(first_month, rel=1e-9)
    graded = sim.options.filter((pl.col("segment") == segment) & (pl.col("option") == option))
    assert graded["grade"][0] == grade


FREE_WORKLOAD = """
name = "free tier"
currency = "USD"
start = 2027-01-01
months = 1
evidence = "all"

[traffic]
peak_to_mean = 1.0

[[segments]]
name = "gen"
operation = "generate"
models = ["m"]
volume = {{ base = {images}, growth = 0.0 }}
resolutions = [{{ width = 1024, height = 1024, share = 1.0 }}]
"""


@pytest.mark.parametrize(("images", "feasible"), [(10_000, True), (1_000_000, False)])
def test_a_free_tier_serves_only_what_its_rate_limit_allows(
    tmp_path: Path, images: int, feasible: bool
) -> None:
    # 10 requests a minute per key. Flat traffic over 730 h: 1,000,000 images a month is
    # 0.3805 requests/s, 22.8 a minute: 3 keys; 10,000 images is 0.23 a minute: 1 key.
    free = offer(
        version('{ unit = "image", price = 0 }', source="beta-page"),
        offer_id="beta/m",
        settings='rate_limit = { requests = 10, per_seconds = 60, source = "beta-page" }',
    )
    cat = build(tmp_path, {"beta": free})
    path = tmp_path / "w.toml"
    path.write_text(FREE_WORKLOAD.format(images=images), encoding="utf-8")
    sim = pricing.simulate(path, cat, modes=("api",), as_of=DAY)
    row = sim.monthly.filter(pl.col("option") == "api:beta/m").row(0, named=True)
    assert row["feasible"] is feasible
    assert row["keys_needed"] == (1 if feasible else 3)
    if not feasible:
        assert "free tier" in row["reason"]


def test_gpu_offers_join_the_scheme() -> None:
    data = pricing.load_data_set()
    from pricing._evidence.gpus import gpu_offer_evidence

    def evidence(offer_id: str) -> pricing.Evidence:
        offer = data.gpus.offer(offer_id)
        return gpu_offer_evidence(offer, data.catalog.sources.get(offer.source), AS_OF)

    # data/gpus/offers.toml marks gridstackhub's CoreWeave figure low confidence: "Third-party
    # claim that conflicts with CoreWeave's $49.24 per 8-GPU instance": a claim.
    claim = evidence("coreweave/h100-sxm-on-demand.gridstackhub")
    assert claim.grade == "claim"
    assert "conflicts with CoreWeave" in claim.grade_reason
    # AWS capacity blocks were seen 2024-12-31: 706 days before 2026-12-07, stale.
    stale = evidence("aws/p5.48xlarge-capacity-block")
    assert "stale" in stale.flag_names
    # simulate never costs a set-up on either; it lists the claim with its GPU-hour price
    sim = pricing.simulate("ecommerce", as_of=AS_OF)
    assert not sim.options["offer_id"].str.contains("gridstackhub").any()
    lead = sim.leads.filter(pl.col("offer_id") == "coreweave/h100-sxm-on-demand.gridstackhub")
    assert lead["gpu_hour"][0] == pytest.approx(2.23)  # offers.toml: $2.23 per GPU-hour
    assert lead["grade"][0] == "claim"


def test_charts_draw_no_unverified_lead() -> None:
    import json

    from pricing._charts.export import spec_of

    req = pricing.ImageRequest(model="flux-2-pro")
    bars = json.dumps(spec_of(pricing.cost_per_image_chart(req, as_of=AS_OF)))
    assert "llmapi" not in bars  # its only price is a claim
    assert "bfl/flux-2-pro" in bars  # the official offer is drawn
    heat = spec_of(pricing.cost_heatmap("flux-2-pro", as_of=AS_OF))
    values = heat["data"]["values"]  # type: ignore[index]
    cells = [row for row in values if row["provider"] == "llmapi"]
    assert cells
    assert all(c["per_image"] is None and c["label"] == "lead only" for c in cells)


def test_a_free_version_that_cannot_price_the_reference_request_is_still_flagged(
    tmp_path: Path,
) -> None:
    # every figure 0 is how the cards record a free tier; this one makes at most 512x512, so
    # it cannot price the 1024x1024 reference request, and is flagged free-tier all the same
    free = offer(
        version('{ unit = "image", price = 0 }', source="beta-page"),
        offer_id="beta/m",
        settings="limits = { max_megapixels = 0.25, megapixel = 1048576 }",
    )
    cat = build(tmp_path, {"beta": free})
    row = evidence_of(cat, "beta/m")
    assert "free-tier" in str(row["flags"])
