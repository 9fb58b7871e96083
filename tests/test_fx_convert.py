"""Conversions that state their evidence (pricing._fx.convert).

The rates below are a small hand-made table (units per 1 EUR): Friday 2026-06-12 USD 1.1500,
GBP 0.8500, JPY 180.00; Monday 2026-06-15 USD 1.1600. Every expected figure is worked out by
hand from them with Decimal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pricing._fx.convert import Converter, parse_overrides
from pricing._fx.frame import fx_frame
from pricing.errors import FxError

FRI, SUN, MON = date(2026, 6, 12), date(2026, 6, 14), date(2026, 6, 15)
FX = fx_frame(
    [FRI, FRI, FRI, MON],
    ["USD", "GBP", "JPY", "USD"],
    [Decimal("1.15"), Decimal("0.85"), Decimal("180"), Decimal("1.16")],
    ["ecb-test"] * 4,
)


def test_a_weekend_uses_the_friday_rate_and_says_so() -> None:
    c = Converter("EUR", fx=FX).convert("USD", SUN)
    assert c.rate == Decimal(1) / Decimal("1.15")
    assert (c.kind, c.day, c.source, c.via_eur) == ("published", FRI, "ecb-test", False)
    expected = "1 USD = 0.869565 EUR (ECB reference rate of 2026-06-12; source: ecb-test)"
    assert c.describe() == expected


def test_a_cross_rate_goes_through_eur() -> None:
    c = Converter("JPY", fx=FX).convert("GBP", FRI)
    assert c.rate == Decimal(180) / Decimal("0.85")  # 211.7647... yen per pound
    assert c.via_eur
    assert "a cross rate through EUR" in c.describe()


def test_the_same_currency_reads_no_data() -> None:
    c = Converter("USD", fx=FX.head(0)).convert("USD", SUN)
    assert (c.rate, c.kind, c.day) == (Decimal(1), "same", None)


def test_a_day_after_the_data_is_refused_unless_planning() -> None:
    late = date(2026, 9, 1)
    with pytest.raises(FxError, match=r"--fx EURUSD="):
        Converter("EUR", fx=FX).convert("USD", late)
    c = Converter("EUR", fx=FX, planning=True).convert("USD", late)
    assert c.rate == Decimal(1) / Decimal("1.16")  # Monday's, the latest
    assert (c.kind, c.day) == ("planning", MON)
    assert "planning rate" in c.describe()
    assert "held for 2026-09-01" in c.describe()


def test_a_recent_rate_stays_published_when_planning() -> None:
    """Planning starts only where no rate within max_age_days exists: GBP's Friday rate on
    Monday is the published rate of the last business day, not an assumption."""
    c = Converter("GBP", fx=FX, planning=True).convert("EUR", MON)
    assert (c.kind, c.day) == ("published", FRI)
    assert c.rate == Decimal("0.85")


def test_an_old_published_rate_is_called_stale() -> None:
    c = Converter("EUR", fx=FX, max_age_days=10).convert("GBP", date(2026, 6, 16))
    assert c.stale  # 4 days old
    assert "4 days before 2026-06-16" in c.describe()
    assert not Converter("EUR", fx=FX).convert("USD", MON).stale


def test_your_rate_wins_and_is_named_as_yours() -> None:
    conv = Converter("EUR", fx=FX, overrides=["EURUSD=1.08"])
    c = conv.convert("USD", FRI)
    assert c.rate == Decimal(1) / Decimal("1.08")
    assert (c.kind, c.source, c.day) == ("user", "user", None)
    gbp = Converter("USD", fx=FX, overrides={"EURUSD": "1.08"}).convert("GBP", FRI)
    assert gbp.rate == Decimal("1.08") / Decimal("0.85")  # your USD leg, the published GBP leg
    assert gbp.kind == "user"
    assert gbp.via_eur


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["EURUSD"], "not understood"),
        (["EURUSD=-1"], "not understood"),
        (["EURUSD=nan"], "not understood"),
        (["EUREUR=1"], "to itself"),
        (["EURUSD=1.08", "USDEUR=0.9"], "given twice"),
    ],
)
def test_bad_rates_are_clear_errors(items: list[str], message: str) -> None:
    with pytest.raises(FxError, match=message):
        parse_overrides(items)


def test_overrides_accept_a_slash_and_lower_case() -> None:
    assert parse_overrides(["eur/usd = 1.08"]) == {"EURUSD": Decimal("1.08")}


def test_used_lists_each_conversion_once() -> None:
    conv = Converter("EUR", fx=FX)
    for _ in range(3):
        conv.convert("USD", SUN)
    conv.convert("EUR", SUN)
    assert [(c.from_currency, c.asked) for c in conv.used()] == [("USD", SUN)]


def test_the_bundled_history_answers_offline() -> None:
    """The ECB file's rows typed by hand: 2026-10-30 USD 1.1172, GBP 0.8338 (the last day);
    2026-06-15 USD 1.1607."""
    conv = Converter("EUR", planning=True)
    june = conv.convert("USD", date(2026, 6, 15))
    assert (june.rate, june.kind, june.day) == (
        Decimal(1) / Decimal("1.1607"),
        "published",
        date(2026, 6, 15),
    )
    assert june.source == "ecb-eurofxref-hist"
    march = conv.convert("USD", date(2027, 3, 1))  # after the data: a planning rate
    assert (march.rate, march.kind, march.day) == (
        Decimal(1) / Decimal("1.1172"),
        "planning",
        date(2026, 10, 30),
    )
    gbp = Converter("GBP").convert("USD", date(2026, 10, 30))
    assert gbp.rate == Decimal("0.8338") / Decimal("1.1172")
    assert gbp.via_eur
