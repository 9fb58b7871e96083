"""Synthetic data directories for tests: small TOML cards written into ``tmp_path``.

Tests never read the bundled ``data/`` (other people edit it); each builds the few offers it
needs with :func:`offer` and :func:`version` and loads them with ``pricing.load_catalog``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import pricing

SCHEMA_LINE = "#:schema ../schema/rate-card.json"
#: Default day of every quote in the tests; versions written by `version` start before it.
DAY = date(2026, 6, 1)

SOURCES = """\
#:schema schema/sources.json
[[source]]
id = "acme-docs"
title = "Acme pricing page"
publisher = "Acme"
kind = "official"
seen = 2026-01-15

[[source]]
id = "acme-docs-old"
title = "Acme pricing page (archived)"
publisher = "Acme"
kind = "official"
seen = 2025-06-01

[[source]]
id = "blog"
title = "A comparison blog"
publisher = "Someone"
kind = "third-party"
seen = 2026-02-01

[[source]]
id = "seed-a"
title = "Seed article"
publisher = "Seeds"
url = "shared/seeds/a.txt"
kind = "seed"
seen = 2026-03-01
"""

MODELS = """\
#:schema schema/models.json
[[model]]
id = "m"
name = "Model M"
vendor = "Acme"
open_weights = false
operations = ["generate", "edit", "inpaint", "upscale"]

[[model]]
id = "n"
name = "Model N"
vendor = "Acme"
open_weights = true
operations = ["generate"]

[[model]]
id = "old"
name = "Retired model"
vendor = "Acme"
open_weights = false
operations = ["generate"]
retired = 2026-04-01
"""

#: Catalog from offer TOML snippets: ``build(*offers, provider="acme")``.
CatalogBuilder = Callable[..., pricing.Catalog]


def version(
    components: str,
    *,
    effective_from: str = "2026-01-01",
    source: str = "acme-docs",
    settings: str = "",
) -> str:
    """A ``[[offers.versions]]`` table; ``components`` is the inside of the TOML array."""
    return (
        "\n  [[offers.versions]]\n"
        f"  effective_from = {effective_from}\n"
        f'  source = "{source}"\n'
        f"  components = [{components}]\n"
        f"{settings}\n"
    )


def offer(
    *versions: str,
    offer_id: str = "acme/m",
    model: str = "m",
    operations: str = '["generate", "edit"]',
    settings: str = "",
) -> str:
    """An ``[[offers]]`` table; ``settings`` holds extra offer keys (limits, qualities...)."""
    return (
        f'\n[[offers]]\nid = "{offer_id}"\nmodel = "{model}"\noperations = {operations}\n'
        f"{settings}\n" + "".join(versions)
    )


def write_data(
    root: Path,
    cards: Mapping[str, str],
    *,
    sources: str = SOURCES,
    models: str = MODELS,
    schema_line: bool = True,
) -> Path:
    """Write ``sources.toml``, ``models.toml`` and ``rate-cards/<provider>.toml`` under ``root``.

    ``cards`` maps a provider id to the card's offers (TOML); the header is added here.
    """
    (root / "rate-cards").mkdir(parents=True, exist_ok=True)
    (root / "sources.toml").write_text(sources, encoding="utf-8")
    (root / "models.toml").write_text(models, encoding="utf-8")
    for provider, offers in cards.items():
        head = f"{SCHEMA_LINE}\n" if schema_line else ""
        text = f'{head}provider = "{provider}"\nname = "{provider.title()}"\n{offers}'
        (root / "rate-cards" / f"{provider}.toml").write_text(text, encoding="utf-8")
    return root


def request(**fields: Any) -> pricing.ImageRequest:
    """An ImageRequest for model ``m`` unless ``model=`` says otherwise."""
    return pricing.ImageRequest(**{"model": "m", **fields})


@pytest.fixture
def build(tmp_path: Path) -> CatalogBuilder:
    """Write one provider's offers into ``tmp_path`` and load them."""

    def _build(*offers: str, provider: str = "acme") -> pricing.Catalog:
        return pricing.load_catalog(write_data(tmp_path, {provider: "".join(offers)}))

    return _build


@pytest.fixture(autouse=True, scope="session")
def _own_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The catalog cache (``pricing._cards.cache``) of this test run, and of the commands it
    starts, lives in a fresh directory: never the user's ``~/.cache``, never a previous run's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        patch.delenv("PRICING_NO_CACHE", raising=False)
        yield
