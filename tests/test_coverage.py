"""``cards coverage``: LiteLLM's model names, ``data/coverage.toml``, and which of LiteLLM's
image models the catalog prices.

Keys and expected model parts are typed from tests/fixtures/litellm-image-prices.json; the
catalog is synthetic (tests/conftest.py ``write_data``).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pricing
from pricing._cards.coverage import CoverageFile, api_id, load_coverage, split_key
from pricing._cards.loader import bundled_data_dir
from pricing._refresh.crosscheck import coverage
from pricing.cli import app
from pricing.errors import RateCardError
from tests._http_server import FIXTURES
from tests.conftest import SOURCES, offer, version, write_data

LITELLM = FIXTURES / "litellm-image-prices.json"
DAY = "2026-12-01"

MODELS = """\
#:schema schema/models.json
[[model]]
id = "schnell"
name = "Schnell"
vendor = "Test"
open_weights = true
operations = ["generate"]
api_ids = ["flux/schnell"]

[[model]]
id = "mini"
name = "Mini"
vendor = "Test"
open_weights = false
operations = ["generate", "edit"]
api_ids = ["azure/gpt-image-1-mini", "openai/gpt-image-1-mini"]

[[model]]
id = "sd3.5-large"
name = "SD 3.5 Large"
vendor = "Test"
open_weights = true
operations = ["generate"]

[[model]]
id = "old-flux"
name = "Retired"
vendor = "Test"
open_weights = false
operations = ["generate"]
api_ids = ["aiml/flux-realism"]
retired = 2026-01-01
"""
CARDS = {
    "aiml": offer(
        version('{ unit = "image", price = 0.004 }'),
        offer_id="aiml/schnell", model="schnell", operations='["generate"]',
    ),
    "azure": offer(
        version('{ unit = "image", price = 0.011 }', source="blog"),
        offer_id="azure/mini", model="mini",
    ),
    "stability": offer(
        version('{ unit = "image", price = 0.065 }', effective_from="2026-02-01"),
        offer_id="stability/sd3.5-large", model="sd3.5-large", operations='["generate"]',
    ),
}  # fmt: skip
COVERAGE = """\
# test
[[not_covered]]
litellm = "fal-ai/trellis"
provider = "fal_ai"
reason = "Image-to-3D, not an image."
checked = 2026-11-30

[[not_covered]]
litellm = "DALL-E-3"
reason = "Retired by OpenAI on every provider."
checked = 2026-11-30
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    root = write_data(tmp_path / "data", CARDS, sources=SOURCES, models=MODELS)
    (root / "coverage.toml").write_text(COVERAGE, encoding="utf-8")
    return root


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("key", "provider", "model", "quality", "size", "steps"),
    [
        ("azure/high/1024-x-1024/gpt-image-1-mini", "azure", "gpt-image-1-mini", "high",
         (1024, 1024), None),
        ("1024-x-1024/50-steps/bedrock/amazon.nova-canvas-v1:0", "bedrock",
         "amazon.nova-canvas-v1:0", None, (1024, 1024), "50"),
        ("fal_ai/high/1024-x-1536/openai/gpt-image-2.5/sunburst/edit", "fal_ai",
         "openai/gpt-image-2.5/sunburst/edit", "high", (1024, 1536), None),
        ("dashscope/qwen-image-2.0", "dashscope", "qwen-image-2.0", None, None, None),
        ("gpt-image-2-2026-04-21", "openai", "gpt-image-2-2026-04-21", None, None, None),
        ("vertex_ai/gemini-3-pro-image", "vertex_ai-language-models", "gemini-3-pro-image",
         None, None, None),
        ("max-x-max/50-steps/stability.stable-diffusion-xl-v0", "bedrock",
         "stability.stable-diffusion-xl-v0", None, None, "50"),
        ("stability/fast", "stability", "fast", None, None, None),
        ("aiml/openai/gpt-image-2", "aiml", "openai/gpt-image-2", None, None, None),
    ],
)  # fmt: skip
def test_a_key_is_taken_apart(
    key: str,
    provider: str,
    model: str,
    quality: str | None,
    size: tuple[int, int] | None,
    steps: str | None,
) -> None:
    k = split_key(key, provider)
    assert (k.model, k.quality, k.size, k.steps) == (model, quality, size, steps)


def test_every_fixture_key_has_a_model_part() -> None:
    doc = json.loads(LITELLM.read_text(encoding="utf-8"))
    for key, entry in doc.items():
        k = split_key(key, entry["litellm_provider"])
        assert k.model, key
        assert not k.model.startswith(("high/", "low/", "1024-x-")), key


@pytest.mark.parametrize(
    ("model", "provider", "expected"),
    [
        ("gpt-image-1", "openai", "openai/gpt-image-1"),
        ("amazon.nova-canvas-v1:0", "bedrock", "aws-bedrock/amazon.nova-canvas-v1:0"),
        ("fal-ai/flux/dev", "fal_ai", "fal-ai/flux/dev"),
        ("FLUX.2-flex", "azure_ai", "azure-ai/flux.2-flex"),
        ("qwen-image-2.0", "qwen_ai_platform", "qwen-ai-platform/qwen-image-2.0"),
    ],
)
def test_the_api_id_a_model_lists(model: str, provider: str, expected: str) -> None:
    assert api_id(model, provider) == expected


# --------------------------------------------------------------------------- coverage.toml


def test_the_bundled_coverage_file_loads() -> None:
    # Others fill data/coverage.toml: only its validity is checked here.
    assert isinstance(load_coverage(bundled_data_dir()), CoverageFile)


def test_a_missing_file_excuses_nothing(tmp_path: Path) -> None:
    assert load_coverage(tmp_path) == CoverageFile()


def test_an_entry_without_provider_excuses_every_provider(data: Path) -> None:
    found = load_coverage(data)
    entry = found.reason_for("dall-e-3", "azure")  # case does not matter
    assert entry is not None
    assert entry.checked == date(2026, 11, 30)


def test_every_problem_of_the_file_is_named_with_its_entry_and_fix(tmp_path: Path) -> None:
    (tmp_path / "coverage.toml").write_text(
        '[[not_covered]]\nlitellm = "a"\nreason = "x"\nchecked = 2026-01-01\ncolour = "red"\n\n'
        '[[not_covered]]\nlitellm = "b"\nchecked = 2026-01-01\n',
        encoding="utf-8",
    )
    with pytest.raises(RateCardError) as info:
        load_coverage(tmp_path)
    problems = {(p.offer, p.field): p for p in info.value.problems}
    assert problems[("not_covered[0] (a)", "colour")].fix.startswith("remove or rename `colour`")
    assert problems[("not_covered[1] (b)", "reason")].fix == "add `reason`"
    assert all(p.file == "data/coverage.toml" for p in info.value.problems)


def test_a_repeated_entry_and_a_future_day_are_problems(tmp_path: Path) -> None:
    entry = '[[not_covered]]\nlitellm = "a"\nprovider = "azure"\nreason = "x"\nchecked = {}\n\n'
    path = tmp_path / "coverage.toml"
    path.write_text(entry.format("2026-01-01") * 2, encoding="utf-8")
    with pytest.raises(RateCardError, match="listed twice") as info:
        load_coverage(tmp_path)
    assert info.value.problems[0].fix == "remove the repeated [[not_covered]] entry"
    path.write_text(entry.format("2026-12-31"), encoding="utf-8")
    with pytest.raises(RateCardError, match=r"checked 2026-12-31 is after today \(2026-12-01\)"):
        load_coverage(tmp_path, today=date(2026, 12, 1))


# --------------------------------------------------------------------------- coverage


def test_litellm_models_are_priced_excused_or_flagged(data: Path) -> None:
    found = coverage(pricing.load_catalog(data), LITELLM, as_of=DAY)
    assert found.litellm is not None
    rows = {(r["litellm"], r["litellm_provider"]): r for r in found.litellm.iter_rows(named=True)}
    assert len(rows) == 203
    schnell = rows[("flux/schnell", "aiml")]  # "aiml/flux/schnell"
    assert (schnell["status"], schnell["offers"], schnell["matched_by"]) == (
        "priced",
        ["aiml/schnell"],
        "api_ids",
    )
    sd = rows[("sd3.5-large", "stability")]  # "stability/sd3.5-large": its last segment
    assert (sd["status"], sd["offers"], sd["matched_by"]) == (
        "priced",
        ["stability/sd3.5-large"],
        "model id",
    )
    unknown = rows[("gpt-image-2", "azure")]
    assert (unknown["status"], unknown["model"]) == ("not covered, no reason", None)
    assert unknown["hint"] == (
        'no model lists "azure/gpt-image-2" in api_ids; add api_ids = ["azure/gpt-image-2"] '
        "to the model it is (or add the model) in data/models.toml"
    )
    # LiteLLM dates azure's gpt-image-1 as deprecated on 2026-10-23: a reason of its own.
    deprecated = rows[("gpt-image-1", "azure")]
    assert (deprecated["status"], deprecated["reason"]) == (
        "not covered",
        "LiteLLM dates its deprecation 2026-10-23",
    )
    mini = rows[("gpt-image-1-mini", "azure")]
    assert (mini["status"], mini["offers"]) == ("priced", ["azure/mini"])
    trellis = rows[("fal-ai/trellis", "fal_ai")]
    assert (trellis["status"], trellis["reason"]) == ("not covered", "Image-to-3D, not an image.")
    dalle = rows[("dall-e-3", "azure")]
    assert (dalle["status"], dalle["checked"]) == ("not covered", date(2026, 11, 30))
    retired = rows[("flux-realism", "aiml")]
    assert (retired["status"], retired["reason"]) == (
        "not covered",
        "model old-flux was retired on 2026-01-01 (data/models.toml)",
    )
    openai_mini = rows[("gpt-image-1-mini", "openai")]  # deprecation_date 2026-12-01
    assert (openai_mini["status"], openai_mini["reason"], openai_mini["elsewhere"]) == (
        "not covered",
        "LiteLLM dates its deprecation 2026-12-01",
        ["azure/mini"],
    )
    assert not found.ok
    assert found.unexplained.height == sum(
        r["status"] == "not covered, no reason" for r in rows.values()
    )


def test_the_catalog_table_gives_offers_newest_source_and_best_grade(data: Path) -> None:
    found = coverage(pricing.load_catalog(data), as_of=DAY)
    assert found.litellm is None
    assert found.ok
    rows = {(r["provider"], r["model"]): r for r in found.offers.iter_rows(named=True)}
    assert rows[("aiml", "schnell")] == {
        "provider": "aiml",
        "model": "schnell",
        "offers": ["aiml/schnell"],
        "newest_source": "acme-docs",
        "newest_date": date(2026, 1, 15),  # conftest: acme-docs seen 2026-01-15, undated
        "best_grade": "official",
    }
    assert rows[("azure", "mini")]["best_grade"] == "third-party"  # the blog
    # Before the stability version takes effect nothing is in force.
    early = coverage(pricing.load_catalog(data), as_of="2026-01-15")
    assert early.offers.filter(provider="stability")["best_grade"].to_list() == [None]


def test_the_command_checks_and_lists(data: Path) -> None:
    runner = CliRunner()
    base = ["cards", "coverage", "--data", str(data), "--as-of", DAY]
    result = runner.invoke(app, [*base, "--litellm", str(LITELLM), "--check"])
    assert result.exit_code == 1, result.output
    assert "LiteLLM image models: 203" in result.stdout
    assert "not covered, no reason" in result.stdout
    result = runner.invoke(app, [*base, "--litellm", str(LITELLM), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    priced = [r for r in payload["litellm"] if r["status"] == "priced"]
    assert {r["litellm"] for r in priced} == {"flux/schnell", "sd3.5-large", "gpt-image-1-mini"}
    assert payload["not_covered_no_reason"] == len(payload["litellm"]) - 3 - sum(
        r["status"] == "not covered" for r in payload["litellm"]
    )
    assert runner.invoke(app, base).exit_code == 0
    lonely = runner.invoke(app, [*base, "--check"])
    assert lonely.exit_code == 2
    assert "--check needs --litellm FILE" in lonely.stderr


def test_a_bad_coverage_file_stops_the_command_with_its_problems(data: Path) -> None:
    (data / "coverage.toml").write_text("[[not_covered]]\nlitellm = 3\n", encoding="utf-8")
    args = ["cards", "coverage", "--data", str(data), "--litellm", str(LITELLM)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "problem(s) in data/coverage.toml" in result.stderr
    assert "not_covered[0]" in result.stderr
    assert "Traceback" not in result.output
