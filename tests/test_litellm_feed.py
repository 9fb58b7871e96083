"""LiteLLM's price map as a refresh source: parsing every kind of image entry, and refreshes
end to end against a real server on 127.0.0.1 serving tests/fixtures/litellm-image-prices.json.

The data is a tmp_path copy of the bundled data/ in which the test decides which LiteLLM ids
map to a model: every ``api_ids`` line is removed and three test models are added, with cards
for the providers they need. Expected prices are typed by hand from the fixture (the key and
field are quoted) and worked by hand where a unit is converted.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

import pricing
from pricing._cards.components import ImagePrice, MegapixelPrice
from pricing._cards.loader import bundled_data_dir
from pricing._refresh import registry
from pricing._refresh.feeds.litellm import (
    LiteLLMModel,
    litellm_models,
    parse_litellm,
    per_megapixel,
)
from pricing._refresh.http import FetchPolicy
from pricing._refresh.run import refresh
from pricing.cli import app
from pricing.errors import RefreshError
from tests._http_server import FIXTURES, FixtureServer, Reply, fixture
from tests.refresh.conftest import snapshot

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
MAP = fixture("litellm-image-prices.json")
SCHEMA_LINE = "#:schema ../schema/rate-card.json"

#: Test models and the LiteLLM ids each lists in api_ids.
TEST_MODELS = {
    "litellm-test-mini": ["azure/gpt-image-1-mini"],
    "litellm-test-schnell": ["flux/schnell", "black-forest-labs/flux.1-schnell"],
    "litellm-test-canvas": ["aws-bedrock/amazon.nova-canvas-v1:0"],
}
OFFICIAL = """
[[source]]
id = "test-official"
title = "Test provider's own price page"
publisher = "Test"
kind = "official"
seen = 2026-11-01
"""
#: aiml's own (official) price of the schnell test model: 0.003 per image.
AIML_CARD = """
[[offers]]
id = "aiml/litellm-test-schnell"
model = "litellm-test-schnell"
operations = ["generate"]

  [[offers.versions]]
  effective_from = 2026-01-01
  source = "test-official"
  components = [{ unit = "image", price = 0.003 }]
"""


def prepare(root: Path) -> Path:
    """The test's mapping in a data copy: no api_ids but the test models', cards for azure,
    aiml (with an official offer) and nscale."""
    models = root / "models.toml"
    text = re.sub(r"(?ms)^api_ids = \[.*?\]\n", "", models.read_text(encoding="utf-8"))
    for model, ids in TEST_MODELS.items():
        text += (
            f'\n[[model]]\nid = "{model}"\nname = "{model}"\nvendor = "Test"\n'
            'open_weights = false\noperations = ["generate", "edit"]\n'
            f"api_ids = {json.dumps(ids)}\n"
        )
    models.write_text(text, encoding="utf-8")
    sources = root / "sources.toml"
    sources.write_text(sources.read_text(encoding="utf-8") + OFFICIAL, encoding="utf-8")
    for provider, offers in (("azure", ""), ("aiml", AIML_CARD), ("nscale", "")):
        card = f'{SCHEMA_LINE}\nprovider = "{provider}"\nname = "{provider} (test)"\n{offers}'
        (root / "rate-cards" / f"{provider}.toml").write_text(card, encoding="utf-8")
    return root


@pytest.fixture
def server() -> Any:
    with FixtureServer() as s:
        yield s


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return prepare(Path(shutil.copytree(bundled_data_dir(), tmp_path / "data")))


@pytest.fixture
def policy() -> FetchPolicy:
    return FetchPolicy(read_timeout=2.0, retries=0, trust_env=False, sleep=lambda _: None)


def run(
    data: Path, policy: FetchPolicy, url: str, now: datetime = NOW, dry_run: bool = False
) -> pricing.RefreshReport:
    return refresh(
        ["litellm"], data_dir=data, urls={"litellm": url}, policy=policy,
        cache_dir=data.parent / "cache", now=now, dry_run=dry_run,
    )  # fmt: skip


def models_by_key() -> dict[str, LiteLLMModel]:
    models = litellm_models(parse_litellm(MAP, "litellm"))
    return {k: m for m in models for k in m.keys}


# --------------------------------------------------------------------------- parsing


def test_the_fixture_holds_458_image_entries_in_203_models() -> None:
    entries = parse_litellm(MAP, "litellm")
    assert len(entries) == 458  # SOURCES.md: 458 of 4,878 entries
    assert {e.mode for e in entries.values()} == {"image_generation", "image_edit"}
    assert len(litellm_models(entries)) == 203


def test_a_key_naming_size_and_steps_is_a_price_for_that_size() -> None:
    # "1024-x-1024/50-steps/bedrock/amazon.nova-canvas-v1:0": output_cost_per_image 0.06
    lm = models_by_key()["1024-x-1024/50-steps/bedrock/amazon.nova-canvas-v1:0"]
    assert (lm.name, lm.provider, lm.api_id) == (
        "amazon.nova-canvas-v1:0",
        "bedrock",
        "aws-bedrock/amazon.nova-canvas-v1:0",
    )
    (sized,) = lm.sized
    assert (sized.price, sized.size, sized.steps) == (Decimal("0.06"), (1024, 1024), "50")
    assert lm.flat is not None
    assert lm.flat.price == Decimal("0.06")
    assert lm.deprecated == date(2026, 9, 30)


def test_per_pixel_prices_become_per_megapixel_by_hand() -> None:
    # "fal_ai/fal-ai/flux/dev": output_cost_per_pixel 2.384185791015625e-08;
    # x 1,048,576 px = 0.025 exactly (x 1,000,000 would be 0.02384185791015625).
    lm = models_by_key()["fal_ai/fal-ai/flux/dev"]
    assert lm.per_pixel == ("fal_ai/fal-ai/flux/dev", Decimal("2.384185791015625E-8"))
    assert per_megapixel(lm.per_pixel[1]) == (Decimal("0.025"), 1_048_576)
    # "azure_ai/FLUX.2-flex": input_cost_per_pixel 5e-08 (generated pixels); x 1,000,000 = 0.05
    assert per_megapixel(Decimal("5e-08")) == (Decimal("0.05"), 1_000_000)


def test_sized_per_pixel_entries_are_per_image_for_their_size_and_quality() -> None:
    lm = models_by_key()["azure/high/1024-x-1024/gpt-image-1-mini"]
    prices = {(f.quality, f.size): f.price for f in lm.sized}
    # input_cost_per_pixel 3.173828125e-08 x 1024 x 1024 = 0.03328
    assert prices[("high", (1024, 1024))] == Decimal("0.03328")
    # 2.0751953125e-09 x 1024 x 1024 = 0.002176
    assert prices[("low", (1024, 1024))] == Decimal("0.002176")
    # 7.9752604167e-09 x 1536 x 1024 = 0.01254400000... -> 0.012544 (6 significant digits)
    assert prices[("medium", (1536, 1024))] == Decimal("0.012544")
    assert len(prices) == 9  # 3 qualities x 3 sizes
    assert lm.tokens is not None
    assert lm.tokens[0] == "azure/gpt-image-1-mini"


def test_resolution_tiers_legacy_and_input_image_prices() -> None:
    keys = models_by_key()
    pro = keys["fal_ai/fal-ai/nano-banana-pro"]
    # output_cost_per_image_1K 0.15, _2K 0.15, _4K 0.3
    assert {f.bracket: f.price for f in pro.sized} == {
        "1K": Decimal("0.15"),
        "2K": Decimal("0.15"),
        "4K": Decimal("0.3"),
    }
    # "xai/grok-imagine-image": only input_cost_per_image 0.02, LiteLLM's price of the image
    grok = keys["xai/grok-imagine-image"]
    assert grok.flat is not None
    assert grok.flat.price == Decimal("0.02")
    assert grok.input_image is None
    # "gemini/gemini-3-pro-image": output_cost_per_image 0.134 beside input_cost_per_image 0.0011
    gemini = keys["gemini/gemini-3-pro-image"]
    assert gemini.flat is not None
    assert gemini.flat.price == Decimal("0.134")
    assert gemini.input_image == Decimal("0.0011")


@pytest.mark.parametrize(
    ("value", "words"),
    [(-0.004, "greater than or equal to 0"), ("abc", "decimal"), ("NaN", "finite")],
)
def test_a_malformed_entry_is_an_error_naming_its_key(value: object, words: str) -> None:
    doc = json.loads(MAP)
    doc["aiml/flux/schnell"]["output_cost_per_image"] = value
    with pytest.raises(RefreshError) as info:
        parse_litellm(json.dumps(doc).encode(), "litellm")
    message = str(info.value)
    assert "'aiml/flux/schnell'" in message
    assert "output_cost_per_image" in message
    assert words in message.lower()


def test_a_map_that_is_not_an_object_or_has_no_image_entry_is_refused() -> None:
    with pytest.raises(RefreshError, match="not a JSON object"):
        parse_litellm(b"[1, 2]", "litellm")
    chat = {"gpt-x": {"litellm_provider": "openai", "mode": "chat"}}
    with pytest.raises(RefreshError, match="no image_generation or image_edit entry"):
        parse_litellm(json.dumps(chat).encode(), "litellm")


# --------------------------------------------------------------------------- refresh


def test_refresh_records_third_party_prices_and_reports_unknown_models(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    url = server.route("/model_prices_and_context_window.json", Reply(MAP))
    report = run(data, policy, url)
    row = report.sources.row(0, named=True)
    assert (row["status"], row["source_id"]) == ("ok", "litellm-2026-12-01")
    source = pricing.load_catalog(data).sources["litellm-2026-12-01"]
    assert (source.kind, source.url, source.seen) == ("third-party", url, date(2026, 12, 1))
    cat = pricing.load_catalog(data)
    # A new azure offer, per image by quality and size (worked out in the parsing tests).
    mini = cat.offer("azure/litellm-test-mini")
    (version,) = mini.versions
    prices = {(c.when.quality, c.when.size): c.price for c in version.components_of(ImagePrice)}
    assert prices[("high", "1024x1024")] == Decimal("0.03328")
    assert prices[("medium", "1536x1024")] == Decimal("0.012544")
    assert mini.qualities == ["low", "medium", "high"]
    high = pricing.ImageRequest(model="litellm-test-mini", quality="high")
    assert pricing.quote(high, mini.id, catalog=cat, as_of="2026-12-02").total == Decimal("0.03328")
    # nscale: input_cost_per_pixel 1.3e-09 -> 0.0013 USD/MP (MP = 1,000,000 px)
    (nscale,) = cat.offer("nscale/litellm-test-schnell").versions
    (mp,) = nscale.components_of(MegapixelPrice)
    assert (mp.price, nscale.megapixel, nscale.source) == (
        Decimal("0.0013"),
        1_000_000,
        "litellm-2026-12-01",
    )
    skipped = dict(zip(report.skipped["item"], report.skipped["reason"], strict=True))
    assert skipped["gpt-image-1 (azure)"] == (
        'no model lists "azure/gpt-image-1" in api_ids; add api_ids = ["azure/gpt-image-1"] '
        'to model "gpt-image-1" in data/models.toml'
    )
    assert skipped["amazon.nova-canvas-v1:0 (bedrock)"] == (
        "LiteLLM dates its deprecation 2026-09-30, on or before 2026-12-01"
    )


def test_a_third_party_price_never_replaces_the_official_one(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    url = server.route("/prices.json", Reply(MAP))
    report = run(data, policy, url)
    change = report.changes.filter(item="aiml/litellm-test-schnell").row(0, named=True)
    assert change["status"] == "changed"
    assert change["new"] == "0.004 USD/image"  # "aiml/flux/schnell": output_cost_per_image 0.004
    cat = pricing.load_catalog(data)
    request = pricing.ImageRequest(model="litellm-test-schnell")
    q = pricing.quote(request, "aiml/litellm-test-schnell", catalog=cat, as_of="2026-12-02")
    assert (q.total, q.source_id, q.grade) == (Decimal("0.003"), "test-official", "official")
    by_source = {s.source_id: (s.total, s.grade) for s in q.spread.by_source}
    assert by_source["litellm-2026-12-01"] == (Decimal("0.004"), "third-party")
    evidence = pricing.evidence_frame(cat, offer="aiml/litellm-test-schnell", as_of="2026-12-02")
    graded = dict(zip(evidence["source_id"], evidence["grade"], strict=True))
    assert graded == {"test-official": "official", "litellm-2026-12-01": "third-party"}


def test_a_second_refresh_finds_every_price_unchanged(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    url = server.route("/prices.json", Reply(MAP))
    first = run(data, policy, url)
    assert first.changes.height == 3  # azure and nscale created, aiml changed
    before = snapshot(data)
    again = run(data, policy, url, now=LATER)
    assert again.changes.height == 0
    assert again.written == ()
    assert again.sources["unchanged"][0] == 3
    assert snapshot(data) == before


def test_a_malformed_map_leaves_the_data_unchanged(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    doc = json.loads(MAP)
    doc["azure/low/1024-x-1024/gpt-image-1-mini"]["input_cost_per_pixel"] = "cheap"
    url = server.route("/prices.json", Reply(json.dumps(doc).encode()))
    before = snapshot(data)
    with pytest.raises(RefreshError) as info:
        run(data, policy, url)
    assert "'azure/low/1024-x-1024/gpt-image-1-mini'" in str(info.value)
    assert "nothing was written" in str(info.value)
    assert snapshot(data) == before


def test_a_local_copy_is_read_without_the_network_and_cited_as_litellm(
    data: Path, policy: FetchPolicy
) -> None:
    path = FIXTURES / "litellm-image-prices.json"
    report = run(data, policy, f"file:{path}")
    assert report.sources["status"][0] == "ok"
    source = pricing.load_catalog(data).sources["litellm-2026-12-01"]
    assert source.url == registry.DEFAULT_URLS["litellm"]
    assert "local copy litellm-image-prices.json" in source.title
    assert "HTTP 304" not in (source.notes or "")
    # A plain path works too; a missing file is one clear error.
    assert run(data, policy, str(path), dry_run=True).sources["status"][0] == "ok"
    with pytest.raises(RefreshError, match="cannot read"):
        run(data, policy, str(path.with_name("no-such-file.json")), dry_run=True)


def test_the_installed_package_copy_is_cited_with_its_version(
    data: Path, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = SimpleNamespace(
        version="1.110.2", locate_file=lambda _: FIXTURES / "litellm-image-prices.json"
    )
    monkeypatch.setattr(metadata, "distribution", lambda name: fake)
    report = run(data, policy, registry.LITELLM_PACKAGE)
    assert report.sources["source_id"][0] == "litellm-1.110.2-2026-12-01"
    source = pricing.load_catalog(data).sources["litellm-1.110.2-2026-12-01"]
    assert "bundled with litellm 1.110.2" in source.title


def test_the_package_copy_without_the_package_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(RefreshError, match="litellm package is not installed"):
        registry.litellm_feed(registry.LITELLM_PACKAGE)


def test_the_command_line_refresh(server: FixtureServer, data: Path) -> None:
    url = server.route("/prices.json", Reply(MAP))
    args = ["refresh", "litellm", "--url", f"litellm={url}", "--data", str(data), "--dry-run"]
    cache = ["--cache-dir", str(data.parent / "cache"), "--retries", "0"]
    result = CliRunner().invoke(app, [*args, *cache, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    (row,) = payload["sources"]
    assert (row["source"], row["status"], row["new"], row["changed"]) == ("litellm", "ok", 2, 1)
    assert payload["written"] == []
    new = {c["item"] for c in payload["changes"] if c["status"] == "new"}
    assert new == {"azure/litellm-test-mini", "nscale/litellm-test-schnell"}
