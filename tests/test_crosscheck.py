"""``cards crosscheck``: the catalog's prices beside LiteLLM's, OpenRouter's and fal's.

The catalog is synthetic (tests/conftest.py ``write_data``): offers whose prices differ from
the fixtures' by planted amounts; each difference is worked out by hand from the fixture line
quoted and the planted price. LiteLLM's map is served by a real server on 127.0.0.1, or read
from tests/fixtures (offline).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import pricing
from pricing._refresh.crosscheck import Crosscheck, crosscheck
from pricing._refresh.http import FetchPolicy
from pricing.cli import app
from pricing.errors import RefreshError
from tests._http_server import FIXTURES, FixtureServer, Reply, fixture
from tests.conftest import SOURCES, offer, version, write_data

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
DAY = "2026-12-01"
LITELLM = FIXTURES / "litellm-image-prices.json"

MODELS = """\
#:schema schema/models.json
[[model]]
id = "schnell"
name = "Schnell"
vendor = "Test"
open_weights = true
operations = ["generate"]
api_ids = ["flux/schnell", "black-forest-labs/flux.1-schnell"]

[[model]]
id = "mini"
name = "Mini"
vendor = "Test"
open_weights = false
operations = ["generate", "edit"]
api_ids = ["azure/gpt-image-1-mini"]

[[model]]
id = "grok"
name = "Grok"
vendor = "Test"
open_weights = false
operations = ["generate"]
api_ids = ["xai/grok-imagine-image"]

[[model]]
id = "gemini-image"
name = "Gemini image"
vendor = "Test"
open_weights = false
operations = ["generate"]

[[model]]
id = "flux-dev-test"
name = "Dev"
vendor = "Test"
open_weights = true
operations = ["generate"]
"""
LITELLM_SOURCE = """
[[source]]
id = "litellm-1.110.2"
title = "LiteLLM price map"
publisher = "BerriAI"
kind = "third-party"
seen = 2026-11-30
"""
QUALITIES = 'qualities = ["low", "medium", "high"]'
CARDS = {
    # LiteLLM "aiml/flux/schnell" 0.004 per image; planted 0.0032: (0.004 - 0.0032) / 0.0032 = +25%
    "aiml": offer(
        version('{ unit = "image", price = 0.0032 }'),
        offer_id="aiml/schnell", model="schnell", operations='["generate"]',
    ),
    # "nscale/black-forest-labs/FLUX.1-schnell" 1.3e-09 per pixel x 1024 x 1024 = 0.0013631488;
    # planted 0.0013 per MP x 1.048576 MP = 0.0013631488: no difference
    "nscale": offer(
        version('{ unit = "megapixel", price = 0.0013 }'),
        offer_id="nscale/schnell", model="schnell", operations='["generate"]',
    ),
    # "azure/high/1024-x-1024/gpt-image-1-mini" 3.173828125e-08 x 1024 x 1024 = 0.03328, planted
    # the same; "azure/low/1024-x-1024/..." 2.0751953125e-09 x 1024 x 1024 = 0.002176, planted
    # 0.0022: (0.002176 - 0.0022) / 0.0022 = -1.0909...%
    "azure": offer(
        version(
            '{ unit = "image", price = 0.03328, when = { quality = "high", size = "1024x1024" } },'
            '{ unit = "image", price = 0.0022, when = { quality = "low", size = "1024x1024" } }'
        ),
        offer_id="azure/mini", model="mini", settings=QUALITIES,
    ),
    # "xai/grok-imagine-image": the catalog's only price cites LiteLLM itself
    "xai": offer(
        version('{ unit = "image", price = 0.02 }', source="litellm-1.110.2"),
        offer_id="xai/grok", model="grok", operations='["generate"]',
    ),
    # OpenRouter "google/gemini-3-pro-image": image_output 0.00012 USD/token x 1,120 tokens
    # = 0.1344; planted 100 USD/1M x 1,120 = 0.112: (0.1344 - 0.112) / 0.112 = +20%
    "openrouter": offer(
        version(
            '{ unit = "token", image_output = 100, output_tokens = '
            '[{ size = "1024x1024", quality = "standard", tokens = 1120 }] }'
        ),
        offer_id="openrouter/gemini-image", model="gemini-image", operations='["generate"]',
        settings='name = "google/gemini-3-pro-image"\nqualities = ["standard"]\n'
        'default_quality = "standard"',
    ),
    # fal "fal-ai/flux/dev" 0.025 per image; planted 0.02 per MP x 1.048576 MP = 0.02097152:
    # 0.025 / 0.02097152 - 1 = +19.209289550781%
    "fal": offer(
        version('{ unit = "megapixel", price = 0.02 }'),
        offer_id="fal/dev", model="flux-dev-test", operations='["generate"]',
        settings='name = "fal-ai/flux/dev"',
    ),
}  # fmt: skip


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_data(tmp_path / "data", CARDS, sources=SOURCES + LITELLM_SOURCE, models=MODELS)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as s:
        yield s


POLICY = FetchPolicy(read_timeout=2.0, retries=0, trust_env=False, sleep=lambda _: None)


def rows_of(found: Crosscheck) -> dict[tuple[str, str, str | None, str], float]:
    """diff_pct by (offer, size, quality, their key)."""
    return {
        (r["offer_id"], r["size"], r["quality"], r["their_key"]): r["diff_pct"]
        for r in found.rows.iter_rows(named=True)
    }


def test_litellm_served_over_http_finds_the_planted_differences(
    server: FixtureServer, data: Path
) -> None:
    url = server.route("/model_prices_and_context_window.json", Reply(fixture(LITELLM.name)))
    cat = pricing.load_catalog(data)
    found = crosscheck("litellm", url=url, catalog=cat, as_of=DAY, policy=POLICY, now=NOW)
    diffs = rows_of(found)
    assert diffs[("aiml/schnell", "1024x1024", None, "aiml/flux/schnell")] == pytest.approx(25.0)
    nscale = ("nscale/schnell", "1024x1024", None, "nscale/black-forest-labs/FLUX.1-schnell")
    assert diffs[nscale] == 0.0
    high = ("azure/mini", "1024x1024", "high", "azure/high/1024-x-1024/gpt-image-1-mini")
    low = ("azure/mini", "1024x1024", "low", "azure/low/1024-x-1024/gpt-image-1-mini")
    assert diffs[high] == 0.0
    assert diffs[low] == pytest.approx((0.002176 - 0.0022) / 0.0022 * 100)
    # Disagreements over 1%, the largest first.
    worst = found.disagreements
    assert worst["offer_id"].to_list() == ["aiml/schnell", "azure/mini"]
    assert worst["diff_pct"][1] == pytest.approx(-1.0909090909)
    row = worst.row(0, named=True)
    assert (row["ours"], row["our_source"], row["our_date"], row["our_grade"]) == (
        0.0032,
        "acme-docs",
        date(2026, 1, 15),  # seen: acme-docs is undated
        "official",
    )
    assert (row["theirs"], row["their_source"], row["their_date"]) == (
        0.004,
        "litellm-2026-12-01",
        date(2026, 12, 1),
    )
    # The catalog's figure citing LiteLLM itself is not compared with LiteLLM.
    missed = dict(zip(found.not_compared["item"], found.not_compared["reason"], strict=True))
    assert missed["xai/grok 1024x1024 (xai/grok-imagine-image)"] == (
        "our figure cites litellm-1.110.2, the source checked"
    )
    assert all(not r.startswith("xai/grok") for r in found.rows["offer_id"])


def test_a_local_copy_is_compared_offline_and_exactly(data: Path) -> None:
    found = crosscheck(
        "litellm", path=LITELLM, catalog=pricing.load_catalog(data), as_of=DAY, now=NOW
    )
    payload = found.to_dict()
    assert (payload["source"], payload["location"]) == ("litellm", str(LITELLM))
    assert (payload["disagreements"], payload["largest_pct"]) == (2, pytest.approx(25.0))
    (aiml,) = [r for r in payload["rows"] if r["offer_id"] == "aiml/schnell"]
    assert (aiml["ours"], aiml["theirs"], aiml["our_date"]) == ("0.0032", "0.004", "2026-01-15")
    (nscale,) = [r for r in payload["rows"] if r["offer_id"] == "nscale/schnell"]
    assert Decimal(nscale["theirs"]) == Decimal("0.0013631488")  # exact: 1.3e-09 x 1,048,576


def test_openrouter_token_prices_use_our_output_tokens(data: Path) -> None:
    found = crosscheck(
        "openrouter",
        path=FIXTURES / "openrouter-models.json",
        catalog=pricing.load_catalog(data),
        as_of=DAY,
        now=NOW,
    )
    (row,) = found.rows.to_dicts()
    assert (row["offer_id"], row["quality"], row["ours"]) == (
        "openrouter/gemini-image",
        "standard",
        pytest.approx(0.112),
    )
    assert row["theirs"] == pytest.approx(0.1344)
    assert row["diff_pct"] == pytest.approx(20.0)
    assert row["their_source"] == "openrouter-models-2026-12-01"


def test_fal_megapixel_prices_are_compared_per_image(data: Path) -> None:
    found = crosscheck(
        "fal", path=FIXTURES / "fal-pricing.json", catalog=pricing.load_catalog(data), now=NOW
    )
    (row,) = found.rows.to_dicts()
    assert (row["offer_id"], row["ours"], row["theirs"]) == (
        "fal/dev",
        pytest.approx(0.02097152),
        0.025,
    )
    assert row["diff_pct"] == pytest.approx(19.209289550781)


def test_the_threshold_decides_what_counts_as_a_disagreement(data: Path) -> None:
    cat = pricing.load_catalog(data)
    found = crosscheck("litellm", path=LITELLM, catalog=cat, as_of=DAY, threshold_pct=2.0)
    assert found.disagreements["offer_id"].to_list() == ["aiml/schnell"]


def test_an_unknown_source_or_an_unreadable_file_is_one_clear_error(
    data: Path, tmp_path: Path
) -> None:
    cat = pricing.load_catalog(data)
    with pytest.raises(RefreshError, match="use one of litellm, openrouter, fal"):
        crosscheck("skypilot-aws", path=LITELLM, catalog=cat)
    with pytest.raises(RefreshError, match="cannot read"):
        crosscheck("litellm", path=tmp_path / "missing.json", catalog=cat)
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RefreshError, match="not valid JSON"):
        crosscheck("litellm", path=tmp_path / "broken.json", catalog=cat)


def test_the_command_prints_the_disagreements_and_json(data: Path) -> None:
    runner = CliRunner()
    args = ["cards", "crosscheck", "litellm", "--file", str(LITELLM), "--data", str(data)]
    result = runner.invoke(app, [*args, "--as-of", DAY], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2 difference(s) over 1%, the largest first" in result.stdout
    assert "aiml/schnell" in result.stdout
    assert "+25.0%" in result.stdout
    result = runner.invoke(app, [*args, "--as-of", DAY, "--json"])
    payload = json.loads(result.stdout)
    assert payload["disagreements"] == 2
    assert pl.DataFrame(payload["rows"]).height == len(payload["rows"]) > 2
    bad = runner.invoke(app, ["cards", "crosscheck", "nosuch", "--file", str(LITELLM)])
    assert bad.exit_code == 1
    assert "use one of litellm, openrouter, fal" in bad.stderr
    assert "Traceback" not in bad.output
