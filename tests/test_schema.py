"""The committed JSON Schemas match the models, and every bundled card satisfies them."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

import pricing
from pricing._cards.loader import SCHEMA_LINE, bundled_data_dir
from pricing._cards.schema import RateCard

DATA = bundled_data_dir()
CARDS = sorted((DATA / "rate-cards").glob("*.toml"))


@pytest.mark.parametrize("name", sorted(pricing.schema_documents()))
def test_committed_schema_is_current(name: str) -> None:
    committed = (DATA / "schema" / name).read_text(encoding="utf-8")
    assert committed == pricing.schema_documents()[name], (
        f"data/schema/{name} is stale; regenerate with `uv run pricing cards schema`"
    )


@pytest.mark.parametrize("path", CARDS, ids=[p.stem for p in CARDS])
def test_card_points_at_schema_and_round_trips(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == SCHEMA_LINE
    card = RateCard.model_validate(tomllib.loads(text, parse_float=Decimal))
    as_json = json.loads(card.model_dump_json())
    schema = json.loads(pricing.schema_documents()["rate-card.json"])
    jsonschema.validate(as_json, schema)
    assert RateCard.model_validate(as_json) == card


def test_sources_and_models_validate_against_their_schemas() -> None:
    for file, name in (("sources.toml", "sources.json"), ("models.toml", "models.json")):
        raw = tomllib.loads((DATA / file).read_text(encoding="utf-8"), parse_float=Decimal)
        as_json = json.loads(json.dumps(raw, default=str))
        jsonschema.validate(as_json, json.loads(pricing.schema_documents()[name]))


def test_bundled_data_loads() -> None:
    cat = pricing.load_catalog()
    assert len(cat.cards) >= 15
    assert sum(1 for _ in cat.all_offers()) >= 100
