"""Refreshes that create offers: OpenRouter and fal records that no offer names yet.

A real server on 127.0.0.1 serves a modified copy of the OpenRouter fixture and fal pricing
pages built here; the data is a tmp_path copy of the bundled data/ directory. Expected prices
are computed by hand from the per-token prices written in these tests (x 1,000,000), and the
output-token table is read from the copied data/rate-cards/openai.toml with tomllib, not from
the code under test.
"""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import pricing
from pricing._cards.components import ImagePrice, MegapixelPrice, TokenPrice
from pricing._cards.loader import load_data
from pricing._cards.schema import ImageModel
from pricing._refresh.http import FetchPolicy
from pricing._refresh.new_offers import model_for
from pricing.cli import app
from tests._http_server import FixtureServer, Reply, fixture
from tests.refresh.conftest import refresh_copy, snapshot

#: Before gpt-image-1's retirement (2026-10-23 in data/models.toml), so its official token
#: table is in force.
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
HINT = 'add api_ids = ["{}"] to the model in data/models.toml'

GPT_IMAGE_1 = {
    "id": "openai/gpt-image-1",
    "name": "OpenAI: GPT Image 1",
    "architecture": {
        "input_modalities": ["text", "image"],
        "output_modalities": ["image", "text"],
    },
    # USD per token: 6, 11 and 42 USD per 1M tokens.
    "pricing": {"prompt": "0.000006", "image": "0.000011", "image_output": "0.000042"},
}
UNKNOWN = {
    "id": "acme/pixel-painter-9",
    "architecture": {"output_modalities": ["image"]},
    "pricing": {"image_output": "0.00003"},
}
#: Maps to flux-2-pro by its last segment; no offer of flux-2-pro is priced per token.
FLUX_2_PRO = {
    "id": "black-forest-labs/flux-2-pro",
    "architecture": {"output_modalities": ["image"]},
    "pricing": {"image_output": "0.00003"},
}


def openrouter_body(*extra: dict[str, Any]) -> bytes:
    """The OpenRouter fixture with ``extra`` models appended to its ``data`` list."""
    doc = json.loads(fixture("openrouter-models.json"))
    doc["data"].extend(extra)
    return json.dumps(doc).encode()


def fal_body(*prices: tuple[str, str, str]) -> bytes:
    """A fal pricing page of (endpoint id, unit price, unit) in USD."""
    rows = [
        {"endpoint_id": e, "unit_price": Decimal(p), "unit": u, "currency": "USD"}
        for e, p, u in prices
    ]
    return json.dumps(
        {"prices": rows, "next_cursor": None, "has_more": False}, default=str
    ).encode()


#: A refresh of the data copy, on ``NOW`` unless told another day.
run = partial(refresh_copy, now=NOW)


def openai_token_table(data: Path) -> list[tuple[str, str, int]]:
    """gpt-image-1's output tokens per image, as written in rate-cards/openai.toml."""
    card = tomllib.loads((data / "rate-cards/openai.toml").read_text(encoding="utf-8"))
    (offer,) = [o for o in card["offers"] if o["id"] == "openai/gpt-image-1"]
    (version,) = offer["versions"]
    (token,) = version["components"]
    return [(r["size"], r["quality"], r["tokens"]) for r in token["output_tokens"]]


def skipped(report: pricing.RefreshReport) -> dict[str, str]:
    return dict(zip(report.skipped["item"], report.skipped["reason"], strict=True))


# --------------------------------------------------------------------------- OpenRouter


def test_openrouter_creates_an_offer_for_a_known_model_then_finds_it_unchanged(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    table = openai_token_table(data)
    assert ("1024x1024", "medium", 1056) in table  # openai.toml line 94
    before = snapshot(data)
    sources_before = (data / "sources.toml").read_bytes()
    assert not (data / "rate-cards/openrouter.toml").exists()
    url = server.route("/api/v1/models", Reply(openrouter_body(GPT_IMAGE_1, UNKNOWN, FLUX_2_PRO)))

    report = run(["openrouter"], data, policy, {"openrouter": url})

    catalog = pricing.load_catalog(data)
    offer = catalog.offer("openrouter/gpt-image-1")
    assert (offer.model, offer.name) == ("gpt-image-1", "openai/gpt-image-1")
    assert offer.operations == ["generate", "edit"]  # OpenRouter takes image input
    (version,) = offer.versions
    assert (version.effective_from, version.source, version.currency) == (
        date(2026, 6, 1),
        "openrouter-models-2026-06-01",
        "USD",
    )
    (token,) = version.components
    assert isinstance(token, TokenPrice)
    # 0.000042 x 1,000,000 = 42; 0.000006 x 1,000,000 = 6; 0.000011 x 1,000,000 = 11.
    assert (token.image_output, token.text_input, token.image_input) == (
        Decimal(42),
        Decimal(6),
        Decimal(11),
    )
    assert [(r.size, r.quality, r.tokens) for r in token.output_tokens] == table
    assert "offer openai/gpt-image-1" in (version.notes or "")
    source = catalog.sources["openrouter-models-2026-06-01"]
    assert (source.url, source.kind, source.seen) == (url, "provider-reseller", date(2026, 6, 1))
    assert "2026-06-01T09:30:00Z" in (source.notes or "")
    # 1024x1024 medium: 1056 output tokens x $42 / 1M = $0.044352.
    quote = pricing.quote(
        pricing.ImageRequest(model="gpt-image-1", width=1024, height=1024, quality="medium"),
        "openrouter/gpt-image-1",
        as_of=date(2026, 6, 1),
        catalog=catalog,
    )
    assert quote.total == Decimal(1056) * Decimal(42) / Decimal(1_000_000)
    assert quote.total == Decimal("0.044352")

    (change,) = report.changes.to_dicts()
    assert (change["item"], change["detail"], change["status"], change["old"]) == (
        "openrouter/gpt-image-1",
        "new offer",
        "new",
        None,
    )
    reasons = skipped(report)
    assert HINT.format("acme/pixel-painter-9") in reasons["acme/pixel-painter-9"]
    assert HINT.format("google/gemini-3-pro-image") in reasons["google/gemini-3-pro-image"]
    assert (
        "no offer of model 'flux-2-pro' has a token-priced version"
        in (reasons["black-forest-labs/flux-2-pro"])
    )
    assert "-1" in reasons["openrouter/auto-beta"]
    # A new card and a new source; nothing else moved, sources.toml only grew.
    text = (data / "rate-cards/openrouter.toml").read_text(encoding="utf-8")
    assert text.startswith("#:schema ../schema/rate-card.json\n")
    assert (data / "sources.toml").read_bytes().startswith(sources_before)
    after = snapshot(data)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {"sources.toml", "rate-cards/openrouter.toml"}

    again = run(["openrouter"], data, policy, {"openrouter": url}, now=LATER)
    assert again.changes.height == 0
    row = again.sources.row(0, named=True)
    assert (row["new"], row["changed"], row["unchanged"], row["source_id"]) == (0, 0, 1, None)
    assert again.written == ()
    assert snapshot(data) == after


def test_openrouter_adds_new_offers_to_an_existing_card(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    card = (
        "#:schema ../schema/rate-card.json\n"
        'provider = "openrouter"\nname = "OpenRouter"\n\n'
        '[[offers]]\nid = "openrouter/gpt-image-1-mini"\nmodel = "gpt-image-1-mini"\n'
        'name = "openai/gpt-image-1-mini"\noperations = ["generate"]\n\n'
        "  [[offers.versions]]\n  effective_from = 2026-01-01\n"
        '  source = "openai-gpt-image-1-mini"\n  components = [{ unit = "token", '
        'image_output = 8, output_tokens = [{ size = "1024x1024", quality = "low", '
        "tokens = 625 }] }]\n"
    )
    (data / "rate-cards/openrouter.toml").write_text(card, encoding="utf-8")
    old = (data / "rate-cards/openrouter.toml").read_bytes()
    url = server.route("/models", Reply(openrouter_body(GPT_IMAGE_1)))
    report = run(["openrouter"], data, policy, {"openrouter": url})
    assert (data / "rate-cards/openrouter.toml").read_bytes().startswith(old)
    ids = [o.id for o in pricing.load_catalog(data).cards["openrouter"].offers]
    assert ids == ["openrouter/gpt-image-1-mini", "openrouter/gpt-image-1"]
    assert report.changes["status"].to_list() == ["new"]


def test_openrouter_does_not_duplicate_an_offer_it_cannot_match_by_name(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    card = (
        "#:schema ../schema/rate-card.json\n"
        'provider = "openrouter"\nname = "OpenRouter"\n\n'
        '[[offers]]\nid = "openrouter/gpt-image-1"\nmodel = "gpt-image-1"\n'
        'name = "GPT Image 1"\noperations = ["generate"]\n\n'
        "  [[offers.versions]]\n  effective_from = 2026-01-01\n"
        '  source = "openai-gpt-image-1"\n  components = [{ unit = "image", price = 0.04 }]\n'
    )
    (data / "rate-cards/openrouter.toml").write_text(card, encoding="utf-8")
    before = snapshot(data)
    url = server.route("/models", Reply(openrouter_body(GPT_IMAGE_1)))
    report = run(["openrouter"], data, policy, {"openrouter": url})
    reason = skipped(report)["openai/gpt-image-1"]
    assert "offer openrouter/gpt-image-1 serves" in reason
    assert 'start its name with "openai/gpt-image-1"' in reason
    assert snapshot(data) == before


def test_openrouter_dry_run_shows_the_new_offer_and_writes_nothing(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    before = snapshot(data)
    url = server.route("/models", Reply(openrouter_body(GPT_IMAGE_1)))
    report = run(["openrouter"], data, policy, {"openrouter": url}, dry_run=True)
    new = report.changes.filter(item="openrouter/gpt-image-1").row(0, named=True)
    assert (new["status"], new["detail"]) == ("new", "new offer")
    assert new["new"] == "image out 42 USD/1M tokens"
    assert report.sources["new"][0] == 1
    assert report.written == ()
    assert snapshot(data) == before


def test_openrouter_skips_a_retired_model(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    before = snapshot(data)
    url = server.route("/models", Reply(openrouter_body(GPT_IMAGE_1)))
    after_retirement = datetime(2026, 11, 1, tzinfo=UTC)
    report = run(["openrouter"], data, policy, {"openrouter": url}, now=after_retirement)
    assert "was retired on 2026-10-23" in skipped(report)["openai/gpt-image-1"]
    assert report.changes.height == 0
    assert snapshot(data) == before


# --------------------------------------------------------------------------- fal

FAL_PAGE = fal_body(
    ("fal-ai/flux/dev", "0.025", "image"),  # an existing offer: updated
    ("fal-ai/flux-pro/kontext/multi", "0.04", "image"),  # api_ids of flux-1-kontext-pro
    ("fal-ai/flux-pro/kontext/text-to-image", "0.04", "image"),  # ditto, generate only
    ("fal-ai/flux-2-max", "0.07", "megapixels"),  # last segment = model id flux-2-max
    ("fal-ai/some-new-model", "0.01", "image"),  # unknown
)


def test_fal_creates_offers_for_mapped_endpoints_then_finds_them_unchanged(
    server: FixtureServer, data: Path, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAL_KEY", "fal-secret-0123")
    url = server.route("/v1/models/pricing", Reply(FAL_PAGE))
    report = run(["fal"], data, policy, {"fal": url})
    (seen,) = server.requests("/v1/models/pricing")
    # The model's api_ids are asked for, beside the fal card's offer names.
    assert "endpoint_id=fal-ai%2Fflux-pro%2Fkontext%2Fmulti" in seen.path
    assert "endpoint_id=fal-ai%2Fflux%2Fdev" in seen.path

    catalog = pricing.load_catalog(data)
    multi = catalog.offer("fal/flux-pro-kontext-multi")
    assert (multi.model, multi.name, multi.operations) == (
        "flux-1-kontext-pro",
        "fal-ai/flux-pro/kontext/multi",
        ["generate", "edit"],
    )
    (version,) = multi.versions
    assert (version.effective_from, version.source) == (
        date(2026, 6, 1),
        "fal-pricing-api-2026-06-01",
    )
    assert version.components == [ImagePrice(unit="image", price=Decimal("0.04"))]
    t2i = catalog.offer("fal/flux-pro-kontext-text-to-image")
    assert t2i.operations == ["generate"]
    flux_max = catalog.offer("fal/flux-2-max")
    assert (flux_max.model, flux_max.name) == ("flux-2-max", "fal-ai/flux-2-max")
    assert flux_max.versions[0].components == [
        MegapixelPrice(unit="megapixel", price=Decimal("0.07"))
    ]
    # 2000x1000 = 2 MP (10^6 px each) x $0.07 = $0.14.
    quote = pricing.quote(
        pricing.ImageRequest(model="flux-2-max", width=2000, height=1000),
        "fal/flux-2-max",
        as_of=date(2026, 6, 1),
        catalog=catalog,
    )
    assert quote.total == Decimal("0.14")

    statuses = dict(zip(report.changes["item"], report.changes["status"], strict=True))
    assert statuses == {
        "fal/flux-1-dev": "changed",
        "fal/flux-pro-kontext-multi": "new",
        "fal/flux-pro-kontext-text-to-image": "new",
        "fal/flux-2-max": "new",
    }
    assert HINT.format("fal-ai/some-new-model") in skipped(report)["fal-ai/some-new-model"]

    after = snapshot(data)
    again = run(["fal"], data, policy, {"fal": url}, now=LATER)
    assert "endpoint_id=fal-ai%2Fflux-2-max" in server.requests("/v1/models/pricing")[1].path
    assert again.changes.height == 0
    assert again.sources["unchanged"][0] == 4
    assert snapshot(data) == after


def test_cli_dry_run_lists_new_fal_offers_as_new(
    server: FixtureServer, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAL_KEY", "k")
    before = snapshot(data)
    url = server.route("/pricing", Reply(fal_body(("fal-ai/flux-2-max", "0.07", "megapixels"))))
    common = ["--data", str(data), "--cache-dir", str(data.parent / "cache"), "--dry-run"]
    runner = CliRunner()
    result = runner.invoke(app, ["refresh", "fal", "--url", f"fal={url}", *common, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    (change,) = payload["changes"]
    assert (change["item"], change["status"], change["old"]) == ("fal/flux-2-max", "new", None)
    assert payload["written"] == []
    result = runner.invoke(app, ["refresh", "fal", "--url", f"fal={url}", *common])
    assert result.exit_code == 0, result.output
    assert "fal/flux-2-max (new offer)" in result.stdout
    assert "(new)" in result.stdout
    assert snapshot(data) == before


# --------------------------------------------------------------------------- mapping


def _model(data: Path, api_id: str) -> str:
    found = model_for(api_id, load_data(data), date(2026, 6, 1))
    return found.id if isinstance(found, ImageModel) else found


def test_api_ids_win_over_the_last_segment_and_must_be_unambiguous(data: Path) -> None:
    text = (data / "models.toml").read_text(encoding="utf-8")
    text = text.replace(
        'api_ids = ["fal-ai/flux-2-flex"]', 'api_ids = ["fal-ai/flux-2-flex", "acme/flux-2-pro"]'
    )
    (data / "models.toml").write_text(text, encoding="utf-8")
    assert _model(data, "acme/flux-2-pro") == "flux-2-flex"  # listed, not the segment match
    assert _model(data, "other/flux-2-pro") == "flux-2-pro"  # last segment
    assert _model(data, "fal-ai/flux/dev") == "flux-1-dev"  # api_ids
    assert HINT.format("x/flux-2") in _model(data, "x/flux-2")  # no exact segment match
    assert "not a lowercase" in _model(data, "Acme/Flux-2-Pro")
    text = text.replace(
        'api_ids = ["fal-ai/flux-2-pro"]', 'api_ids = ["fal-ai/flux-2-pro", "acme/flux-2-pro"]'
    )
    (data / "models.toml").write_text(text, encoding="utf-8")
    assert "several models list this id" in _model(data, "acme/flux-2-pro")


def test_api_ids_are_checked_when_the_data_loads(data: Path) -> None:
    text = (data / "models.toml").read_text(encoding="utf-8")
    bad = text.replace('api_ids = ["fal-ai/flux-2-flex"]', 'api_ids = ["Flux 2 Flex"]')
    (data / "models.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(pricing.RateCardError, match="api_ids"):
        load_data(data)
