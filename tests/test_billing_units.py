"""The billing unit as the unit of extension: every unit is in every per-unit table, and each
unit reads on a card as it did when its words lived in one ``isinstance`` chain.

The expected words are those ``pricing cards show <offer>`` printed for the bundled offers
before the words moved onto the component classes (tiers: a test card's offer).
"""

from __future__ import annotations

from decimal import Decimal
from typing import get_args

import pytest

import pricing
from pricing._cards.components import (
    COMPONENT_CLASSES,
    UNITS,
    Component,
    ComponentBase,
    ImagePrice,
    MegapixelPrice,
    TokenPrice,
)
from pricing._cards.schema import PriceVersion
from pricing._price.units import UNIT_PRICERS
from pricing._vector.points import MATCHED, UNIT_COLUMNS, UNIT_POINTS

CLASSES: tuple[type[ComponentBase], ...] = get_args(get_args(Component)[0])

#: Each table keyed by component class, by name.
PER_UNIT_TABLES: dict[str, dict[type[Component], object]] = {
    "pricing._price.units.UNIT_PRICERS": dict(UNIT_PRICERS),
    "pricing._vector.points.UNIT_POINTS": dict(UNIT_POINTS),
}


def test_the_union_holds_the_eight_units() -> None:
    assert len(CLASSES) == 8
    assert CLASSES == COMPONENT_CLASSES
    units = tuple(get_args(cls.model_fields["unit"].annotation)[0] for cls in CLASSES)
    assert units == UNITS


def test_every_component_class_is_in_the_union() -> None:
    # A ninth class that is defined but not added to `Component` is never loaded from a card.
    assert set(ComponentBase.__subclasses__()) == set(CLASSES)


@pytest.mark.parametrize("table", sorted(PER_UNIT_TABLES))
def test_every_unit_has_an_entry_in_every_per_unit_table(table: str) -> None:
    keys = set(PER_UNIT_TABLES[table])
    missing = sorted(c.__name__ for c in set(CLASSES) - keys)
    extra = sorted(c.__name__ for c in keys - set(CLASSES))
    assert (missing, extra) == ([], []), f"{table}: missing {missing}, not units {extra}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_unit_states_its_own_behaviour(cls: type[ComponentBase]) -> None:
    assert not getattr(cls, "__abstractmethods__", set()), cls.__abstractmethods__
    assert "priced" in vars(cls), f"{cls.__name__} must list its priced fields"
    assert set(cls.priced) <= set(cls.model_fields)


def test_units_own_distinct_point_columns() -> None:
    names = [n for group in (MATCHED, *UNIT_COLUMNS) for n in group.schema()]
    assert len(names) == len(set(names))
    assert len({g.prefix for g in UNIT_COLUMNS}) == len(UNIT_COLUMNS)


def _version(offer_id: str, source: str) -> PriceVersion:
    offer = pricing.load_catalog().offer(offer_id)
    (version,) = [v for v in offer.versions if v.source == source]
    return version


#: (offer, source, component index) -> the words `pricing cards show` prints for it.
BUNDLED_WORDS = {
    ("openai/dall-e-3", "seed-000", 1): "0.12 USD/image when quality hd, size 1792x1024",
    ("openai/dall-e-3", "seed-002", 0): "0.04 to 0.08 USD/image",
    ("bfl/flux-2-pro", "seed-003", 1): "0.010 USD/input image",
    ("bfl/flux-2-pro", "bfl-skills", 0): (
        "output first MP 0.03 + 0.015 USD/MP (exact, 1 MP = 1,000,000 px)"
    ),
    ("bfl/flux-2-pro", "bfl-skills", 1): "input 0.015 USD/MP (exact, 1 MP = 1,000,000 px)",
    ("bfl/flux-2-pro", "basedlabs-flux-pro-pricing", 1): (
        "output 0.045 USD/MP (exact, 1 MP = 1,000,000 px) when operation edit"
    ),
    ("replicate/flux-1-dev-2x-h100", "replicate-pricing", 0): (
        "2x Nvidia H100 80GB 0.003050 USD/s"
    ),
    ("aigenerate/flux-2-pro", "seed-001", 1): "7 credits/image x 0.007 USD when size bracket 2K",
    ("openai/gpt-image-1", "openai-gpt-image-1", 0): "image out 40.00 USD/1M tokens",
    ("deepinfra/flux-1-dev", "deepinfra-flux-dev-api", 0): "0.009 USD per 25 step(s)",
    ("midjourney/basic", "dodopayments-midjourney", 0): "10 USD/month plan",
}


@pytest.mark.parametrize(("where", "words"), BUNDLED_WORDS.items(), ids=lambda x: str(x))
def test_describe_reads_as_cards_show_printed(where: tuple[str, str, int], words: str) -> None:
    offer_id, source, index = where
    version = _version(offer_id, source)
    assert version.components[index].describe(version) == words


def test_the_words_cover_every_unit() -> None:
    covered = {
        type(_version(offer_id, source).components[index])
        for offer_id, source, index in BUNDLED_WORDS
    }
    assert covered == set(CLASSES)


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("graduated", "graduated tiers per image [0+: 0.04, 1000+: 0.03] USD"),
        ("all-units", "all-units tiers per image [0+: 0.04, 1000+: 0.03] USD"),
    ],
)
def test_describe_tiers(mode: str, words: str) -> None:
    tiers = [{"start": 0, "price": Decimal("0.04")}, {"start": 1000, "price": Decimal("0.03")}]
    version = PriceVersion.model_validate(
        {
            "effective_from": "2026-01-01",
            "source": "acme-docs",
            "components": [{"unit": "image", "tier_mode": mode, "tiers": tiers}],
        }
    )
    comp = version.components[0]
    assert comp.describe(version) == words
    assert comp.follows_volume()
    assert list(comp.price_fields(version)) == [
        ("tier_price", Decimal("0.04"), 0),
        ("tier_price", Decimal("0.03"), 1000),
    ]


def test_price_fields_and_headline_follow_the_card() -> None:
    skills = _version("bfl/flux-2-pro", "bfl-skills")
    output = skills.components_of(MegapixelPrice)[0]
    assert list(output.price_fields(skills)) == [
        ("price", Decimal("0.015"), None),
        ("first", Decimal("0.03"), None),
    ]
    assert output.headline_price(skills) == Decimal("0.03")
    credits = _version("aigenerate/flux-2-pro", "seed-001")
    first = credits.components[0]
    assert list(first.price_fields(credits))[-1] == ("credit_value", Decimal("0.007"), None)
    assert first.headline_price(credits) == 5 * Decimal("0.007")  # 5 credits x $0.007
    tokens = _version("openai/gpt-image-1", "openai-gpt-image-1")
    assert tokens.components_of(TokenPrice) == tokens.components
    assert tokens.components_of(ImagePrice) == []
    assert "1024x1024" in tokens.components[0].named_sizes()
