"""Broken data yields a RateCardError whose problems say where (file, offer, version, field)
and what to do about it; every problem in a directory is reported, not just the first."""

from __future__ import annotations

from pathlib import Path

import pytest

import pricing
from pricing import Problem, RateCardError
from tests.conftest import MODELS, SCHEMA_LINE, SOURCES, offer, version, write_data

CARD = "data/rate-cards/acme.toml"
V1 = "2026-01-01/acme-docs"


def problems(root: Path) -> list[Problem]:
    with pytest.raises(RateCardError) as caught:
        pricing.load_catalog(root)
    return caught.value.problems


def only_problem(tmp_path: Path, offers: str) -> Problem:
    found = problems(write_data(tmp_path, {"acme": offers}))
    assert len(found) == 1, found
    return found[0]


def test_valid_card_loads(tmp_path: Path) -> None:
    cat = pricing.load_catalog(
        write_data(tmp_path, {"acme": offer(version('{ unit = "image", price = 0.04 }'))})
    )
    assert [o.id for o in cat.offers()] == ["acme/m"]


def test_unknown_field(tmp_path: Path) -> None:
    p = only_problem(tmp_path, offer(version('{ unit = "image", price = 0.04, colour = "red" }')))
    assert p.file.endswith("rate-cards/acme.toml")
    assert (p.offer, p.version) == ("acme/m", V1)
    assert p.field is not None
    assert p.field.endswith("colour")
    assert "remove or rename `colour`" in p.fix


def test_unknown_offer_field(tmp_path: Path) -> None:
    p = only_problem(tmp_path, offer(version('{ unit = "image", price = 0.04 }'), settings="x = 1"))
    assert (p.file, p.offer, p.version, p.field) == (CARD, "acme/m", None, "x")
    assert "remove or rename `x`" in p.fix


def test_negative_price(tmp_path: Path) -> None:
    p = only_problem(tmp_path, offer(version('{ unit = "image", price = -0.04 }')))
    assert (p.file, p.offer, p.version) == (CARD, "acme/m", V1)
    assert p.field is not None
    assert p.field.endswith("price")
    assert "-0.04" in p.message
    assert "non-negative" in p.fix


def test_field_paths_use_one_notation(tmp_path: Path) -> None:
    """Schema errors and cross-file checks write a component's path the same way."""
    schema_error = only_problem(tmp_path / "a", offer(version('{ unit = "image", price = -1 }')))
    cross_check = only_problem(
        tmp_path / "b",
        offer(version('{ unit = "image", price = 0.04, when = { bracket = "2K" } }')),
    )
    assert cross_check.field == "components[0].when.bracket"
    assert schema_error.field == "components[0].price"


def test_overlapping_versions_from_one_source(tmp_path: Path) -> None:
    p = only_problem(
        tmp_path,
        offer(
            version('{ unit = "image", price = 0.05 }'),
            version('{ unit = "image", price = 0.04 }', effective_from="2026-03-01"),
        ),
    )
    assert (p.file, p.offer, p.version, p.field) == (CARD, "acme/m", V1, "effective_to")
    assert "overlap" in p.message
    assert "set effective_to = 2026-03-01" in p.fix


def test_versions_from_different_sources_may_overlap(tmp_path: Path) -> None:
    cards = {
        "acme": offer(
            version('{ unit = "image", price = 0.05 }'),
            version('{ unit = "image", price = 0.04 }', source="seed-a"),
        )
    }
    assert pricing.load_catalog(write_data(tmp_path, cards)).offer("acme/m")


def test_unknown_source(tmp_path: Path) -> None:
    p = only_problem(tmp_path, offer(version('{ unit = "image", price = 0.04 }', source="nope")))
    assert (p.file, p.offer, p.version, p.field) == (CARD, "acme/m", "2026-01-01/nope", "source")
    assert "'nope'" in p.message
    assert "sources.toml" in p.fix


def test_unknown_estimate_source(tmp_path: Path) -> None:
    comp = (
        '{ unit = "gpu_second", hardware = "A100", price = 0.001, '
        'estimate = { seconds = 2, width = 1024, height = 1024, source = "nope" } }'
    )
    p = only_problem(tmp_path, offer(version(comp)))
    assert (p.offer, p.version, p.field) == ("acme/m", V1, "components[0].estimate.source")
    assert "sources.toml" in p.fix


def test_unknown_model(tmp_path: Path) -> None:
    p = only_problem(tmp_path, offer(version('{ unit = "image", price = 0.04 }'), model="zz"))
    assert (p.file, p.offer, p.version, p.field) == (CARD, "acme/m", None, "model")
    assert "'zz'" in p.message
    assert "models.toml" in p.fix
    assert "m, n, old" in p.fix  # names the known ids


def test_bad_date(tmp_path: Path) -> None:
    p = only_problem(
        tmp_path, offer(version('{ unit = "image", price = 0.04 }', effective_from='"2026-13-01"'))
    )
    assert (p.file, p.offer, p.field) == (CARD, "acme/m", "effective_from")
    assert p.version == "2026-13-01/acme-docs"
    assert "2026-13-01" in p.message
    assert "YYYY-MM-DD" in p.fix


def test_unknown_unit(tmp_path: Path) -> None:
    p = only_problem(tmp_path, offer(version('{ unit = "pixel", price = 0.04 }')))
    assert (p.file, p.offer, p.version) == (CARD, "acme/m", V1)
    assert p.field is not None
    assert p.field.startswith("components")
    assert "pixel" in p.message
    assert "set `unit` to one of" in p.fix
    assert "megapixel" in p.fix


def test_undefined_bracket_and_quality(tmp_path: Path) -> None:
    found = problems(
        write_data(
            tmp_path,
            {
                "acme": offer(
                    version(
                        '{ unit = "image", price = 0.04, when = { bracket = "2K" } }, '
                        '{ unit = "input_image", price = 0.01, when = { quality = "hd" } }'
                    )
                )
            },
        )
    )
    by_field = {p.field: p for p in found}
    assert set(by_field) == {"components[0].when.bracket", "components[1].when.quality"}
    assert "[[offers.brackets]]" in by_field["components[0].when.bracket"].fix
    assert "qualities" in by_field["components[1].when.quality"].fix


def test_operation_not_of_the_model(tmp_path: Path) -> None:
    p = only_problem(
        tmp_path,
        offer(version('{ unit = "image", price = 0.04 }'), model="n", operations='["edit"]'),
    )
    assert (p.offer, p.field) == ("acme/m", "operations")
    assert "models.toml" in p.fix


def test_provider_must_match_file_name(tmp_path: Path) -> None:
    root = write_data(tmp_path, {"acme": offer(version('{ unit = "image", price = 0.04 }'))})
    text = (root / "rate-cards" / "acme.toml").read_text(encoding="utf-8")
    (root / "rate-cards" / "acme.toml").unlink()
    (root / "rate-cards" / "other.toml").write_text(text, encoding="utf-8")
    [p] = problems(root)
    assert (p.file, p.field) == ("data/rate-cards/other.toml", "provider")
    assert "rename the file to acme.toml" in p.fix


def test_missing_schema_line(tmp_path: Path) -> None:
    root = write_data(
        tmp_path, {"acme": offer(version('{ unit = "image", price = 0.04 }'))}, schema_line=False
    )
    [p] = problems(root)
    assert (p.file, p.offer, p.version, p.field) == (CARD, None, None, None)
    assert "line 1" in p.message
    assert SCHEMA_LINE in p.fix


def test_invalid_toml(tmp_path: Path) -> None:
    [p] = problems(write_data(tmp_path, {"acme": "[[offers]\nid = "}))
    assert p.file == CARD
    assert "TOML" in p.message
    assert p.fix


def test_missing_sources_file(tmp_path: Path) -> None:
    root = write_data(tmp_path, {"acme": offer(version('{ unit = "image", price = 0.04 }'))})
    (root / "sources.toml").unlink()
    [p] = problems(root)
    assert p.file == "data/sources.toml"
    assert "create" in p.fix


def test_every_problem_in_a_directory_is_reported(tmp_path: Path) -> None:
    cards = {
        "acme": offer(version('{ unit = "image", price = 0.04 }', source="nope")),
        "beta": offer(version('{ unit = "image", price = -1 }'), offer_id="beta/m"),
    }
    with pytest.raises(RateCardError) as caught:
        pricing.load_catalog(write_data(tmp_path, cards))
    err = caught.value
    located = sorted((p.file, p.offer, p.version) for p in err.problems)
    assert located == [
        (CARD, "acme/m", "2026-01-01/nope"),
        ("data/rate-cards/beta.toml", "beta/m", V1),
    ]
    assert all(p.fix for p in err.problems)
    text = str(err)
    assert text.startswith("2 problem(s)")
    assert "acme.toml" in text
    assert "beta.toml" in text
    assert isinstance(err, pricing.PricingError)


@pytest.mark.parametrize(
    ("sources", "models"),
    [
        (SOURCES + SOURCES.split("\n", 1)[1], MODELS),  # every source twice
        (SOURCES, MODELS + MODELS.split("\n", 1)[1]),  # every model twice
    ],
)
def test_duplicate_ids_in_sources_and_models(tmp_path: Path, sources: str, models: str) -> None:
    root = write_data(
        tmp_path,
        {"acme": offer(version('{ unit = "image", price = 0.04 }'))},
        sources=sources,
        models=models,
    )
    [p] = problems(root)
    assert "duplicate" in p.message
    assert p.fix
