"""Cards that no provider would write: $0 in a paid version, 9e999999, per-token figures,
unreadable files. Each is a RateCardError naming the file, offer, version, field and fix
(``pricing cards validate`` lists them and exits 1), never a traceback; a free tier (a
version whose every price is 0) stays loadable.

Ranges are the ones stated in ``pricing/_cards/plausible.py`` (per image $0.0001-$10, per 1M
tokens $0.01-$1,000); expected messages are written from those rules.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import pricing
from pricing import Problem, RateCardError
from pricing._cards.plausible import LARGEST, figures, is_free
from pricing.cli import app
from tests.conftest import SCHEMA_LINE, offer, version, write_data

CARD = "data/rate-cards/acme.toml"
V1 = "2026-01-01/acme-docs"
TOKENS = '[{ size = "1024x1024", quality = "high", tokens = 4160 }]'


def problems(root: Path) -> list[Problem]:
    with pytest.raises(RateCardError) as caught:
        pricing.load_catalog(root)
    return caught.value.problems


def only_problem(tmp_path: Path, offers: str) -> Problem:
    found = problems(write_data(tmp_path, {"acme": offers}))
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- prices


def test_a_zero_among_paid_prices_is_an_error_with_the_fix(tmp_path: Path) -> None:
    # $0.04 an image, but input images "free": a typo that would price an edit's input at $0.
    paid = version('{ unit = "image", price = 0.04 }, { unit = "input_image", price = 0 }')
    p = only_problem(tmp_path, offer(paid))
    assert (p.file, p.offer, p.version, p.field) == (CARD, "acme/m", V1, "components[1].price")
    assert p.message == "the price is 0"
    assert "free_images_per_month" in p.fix
    assert "every price is 0" in p.fix


def test_a_free_tier_stays_loadable(tmp_path: Path) -> None:
    # A version whose every price is 0 is how a free tier is recorded (bfl/flux-1-schnell).
    free = offer(version('{ unit = "megapixel", price = 0 }'))
    cat = pricing.load_catalog(write_data(tmp_path, {"acme": free}))
    assert cat.offer("acme/m").versions[0].components[0].price == 0  # type: ignore[union-attr]
    schnell = pricing.load_catalog().offer("bfl/flux-1-schnell")
    assert all(is_free(v) for v in schnell.versions)


def test_a_huge_price_is_an_error_not_a_crash_later(tmp_path: Path) -> None:
    p = only_problem(tmp_path, offer(version('{ unit = "image", price = 9e999999 }')))
    assert (p.offer, p.version, p.field) == ("acme/m", V1, "components[0].price")
    assert p.message == "9.000e+999999 is larger than any real figure"


def test_a_per_token_figure_is_outside_the_per_million_range(tmp_path: Path) -> None:
    # $40 per 1M tokens written per token: 0.00004, below the $0.01 floor of the range.
    comp = f'{{ unit = "token", image_output = 0.00004, output_tokens = {TOKENS} }}'
    p = only_problem(tmp_path, offer(version(comp)))
    assert p.field == "components[0].image_output"
    assert p.message == (
        "0.00004 USD/1M tokens is outside the plausible range 0.01 to 1000 USD/1M tokens "
        "(per million, not per token)"
    )
    assert p.fix == "check the unit and write `components[0].image_output` in USD/1M tokens"


def test_an_image_price_above_ten_dollars_is_refused(tmp_path: Path) -> None:
    p = only_problem(tmp_path, offer(version('{ unit = "image", price = 40 }')))
    assert "40 USD/image is outside the plausible range 0.0001 to 10 USD/image" in p.message


def test_a_yen_price_is_held_only_to_positive_and_finite(tmp_path: Path) -> None:
    # 6 JPY an image (about $0.04) is no dollar figure: the USD range does not apply to it.
    yen = offer(version('{ unit = "image", price = 6 }', settings='  currency = "JPY"'))
    cat = pricing.load_catalog(write_data(tmp_path, {"acme": yen}))
    assert cat.offer("acme/m").versions[0].currency == "JPY"


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_a_non_finite_price_names_the_field_and_fix(tmp_path: Path, value: str) -> None:
    p = only_problem(tmp_path, offer(version(f'{{ unit = "image", price = {value} }}')))
    assert (p.offer, p.version) == ("acme/m", V1)
    assert p.field is not None
    assert p.field.endswith("price")
    assert "finite" in p.message
    assert "finite decimal number" in p.fix


def test_an_oversized_count_is_an_error(tmp_path: Path) -> None:
    big = version(
        '{ unit = "image", price = 0.04 }', settings="  free_images_per_month = 10000000000000"
    )
    p = only_problem(tmp_path, offer(big))
    assert (p.field, p.message) == (
        "free_images_per_month",
        "1.000e+13 is larger than any real figure",
    )


def test_effective_to_before_effective_from_names_the_field(tmp_path: Path) -> None:
    ended = version('{ unit = "image", price = 0.04 }', settings="  effective_to = 2025-01-01")
    p = only_problem(tmp_path, offer(ended))
    assert (p.offer, p.version, p.field) == ("acme/m", V1, "effective_to")
    assert "must be after `effective_from`" in p.message
    assert p.fix.startswith("set `effective_to` to a day after `effective_from`")


# --------------------------------------------------------------------------- files


def card_path(root: Path) -> Path:
    return root / "rate-cards" / "zeta.toml"


def test_a_card_that_is_not_utf8(tmp_path: Path) -> None:
    root = write_data(tmp_path, {"acme": offer(version('{ unit = "image", price = 0.04 }'))})
    card_path(root).write_bytes(b'provider = "zeta"\nname = "Z\xff"\n')
    (p,) = problems(root)
    assert p.file == "data/rate-cards/zeta.toml"
    # 'provider = "zeta"\n' is 18 bytes, 'name = "Z' 9 more: the 0xff is byte 27 (from 0).
    assert p.message == "is not UTF-8 text (byte 0xff at offset 27)"
    assert p.fix == "save the file as UTF-8"


def test_tables_nested_thousands_deep(tmp_path: Path) -> None:
    root = write_data(tmp_path, {"acme": offer(version('{ unit = "image", price = 0.04 }'))})
    deep = "x = " + "[" * 5000 + "]" * 5000 + "\n"
    card_path(root).write_text(f"{SCHEMA_LINE}\n{deep}", encoding="utf-8")
    (p,) = problems(root)
    assert (p.file, p.message) == (
        "data/rate-cards/zeta.toml",
        "tables or arrays are nested too deep to read",
    )


def test_a_card_path_that_is_a_directory(tmp_path: Path) -> None:
    root = write_data(tmp_path, {"acme": offer(version('{ unit = "image", price = 0.04 }'))})
    card_path(root).mkdir()
    (p,) = problems(root)
    assert (p.file, p.message) == ("data/rate-cards/zeta.toml", "is a directory, not a file")


def test_a_card_path_that_is_a_symlink_loop(tmp_path: Path) -> None:
    root = write_data(tmp_path, {"acme": offer(version('{ unit = "image", price = 0.04 }'))})
    os.symlink("zeta.toml", card_path(root))
    (p,) = problems(root)
    assert p.file == "data/rate-cards/zeta.toml"
    assert p.message == "is a symbolic link loop (it leads back to itself)"
    assert p.fix == "point the link at a real file, or remove it"


def test_an_fx_file_that_is_a_directory(tmp_path: Path) -> None:
    root = write_data(tmp_path, {"acme": offer(version('{ unit = "image", price = 0.04 }'))})
    (root / "fx" / "ecb.csv").mkdir(parents=True)
    with pytest.raises(RateCardError) as caught:
        pricing.load_fx(root)
    assert [(p.file, p.message) for p in caught.value.problems] == [
        ("data/fx/ecb.csv", "is a directory, not a file")
    ]


def test_validate_lists_problems_and_exits_1_without_a_traceback(tmp_path: Path) -> None:
    paid = version('{ unit = "image", price = 0 }, { unit = "input_image", price = 0.01 }')
    root = write_data(tmp_path / "d", {"acme": offer(paid)})
    os.symlink("loop.toml", root / "rate-cards" / "loop.toml")
    result = CliRunner().invoke(app, ["cards", "validate", str(root)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "2 problem(s) found" in result.stderr
    assert "field `components[0].price`: the price is 0" in result.stderr
    assert "data/rate-cards/loop.toml: is a symbolic link loop" in result.stderr
    loop = tmp_path / "loop"
    os.symlink("loop", loop)
    result = CliRunner().invoke(app, ["cards", "validate", str(loop)])
    assert result.exit_code == 1
    assert "not a directory" in result.stderr


# --------------------------------------------------------------------------- fuzzing

VALID = (
    f'{SCHEMA_LINE}\nprovider = "zeta"\nname = "Zeta"\n'
    + offer(version('{ unit = "image", price = 0.04 }'), offer_id="zeta/m")
).encode()


@st.composite
def damaged_card(draw: st.DrawFn) -> bytes:
    """The valid card with a slice replaced by random bytes or text (numbers included)."""
    start = draw(st.integers(0, len(VALID)))
    end = draw(st.integers(start, min(len(VALID), start + 30)))
    patch = draw(
        st.binary(max_size=30)
        | st.text(max_size=30).map(lambda s: s.encode("utf-8", "surrogatepass"))
        | st.sampled_from(
            [b"0", b"0.0", b"-1", b"inf", b"nan", b"9e999999", b"1e-9", b"[[offers]]"]
        )
    )
    return VALID[:start] + patch + VALID[end:]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=st.binary(max_size=200) | damaged_card())
def test_random_card_bytes_load_or_fail_cleanly(tmp_path: Path, raw: bytes) -> None:
    root = write_data(tmp_path, {"acme": offer(version('{ unit = "image", price = 0.04 }'))})
    card_path(root).write_bytes(raw)
    try:
        cat = pricing.load_catalog(root)
    except RateCardError as exc:
        found = exc.problems
    else:
        found = []
        for _, o in cat.all_offers():
            for v in o.versions:
                values = [value for _, _, value in figures(v)]
                assert all(isinstance(value, Decimal) for value in values)
                assert all(value.is_finite() and value <= LARGEST for value in values)
                assert is_free(v) or all(value > 0 for value in values)
    assert all(p.file.startswith("data/") and p.message and p.fix for p in found)


@pytest.mark.parametrize(
    ("price", "shown"), [("1e1000004", "1.000e+1000004"), ("1e-1000004", "1.000e-1000004")]
)
def test_a_price_beyond_decimal_arithmetic_is_a_short_located_problem(
    tmp_path: Path, price: str, shown: str
) -> None:
    # 1e1000004 overflows decimal arithmetic (found by the fuzz test in CI); 1e-1000004 would
    # print as a million zeros: each is one short problem on its field
    card = offer(version(f'{{ unit = "image", price = {price} }}'))
    root = write_data(tmp_path, {"acme": card})
    with pytest.raises(RateCardError) as info:
        pricing.load_catalog(root)
    (problem,) = [p for p in info.value.problems if p.field == "components[0].price"]
    assert problem.message.startswith(shown)
    assert len(problem.message) < 200
