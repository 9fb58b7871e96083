"""Quotes and comparisons in another currency: each conversion stated (rate, day, source, kind).

The rates are a small hand-made ECB table (units per 1 EUR) in a data directory of the test's
own: Friday 2026-06-12 USD 1.16, GBP 0.86; Monday 2026-06-15 USD 1.17, GBP 0.85; the data
ends on that Monday. acme/m lists $0.04 per image, beta/m $0.05. Every expected amount is
worked out here by hand from a price and a rate, never read back from the code.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import pricing
from pricing._quote.quote import in_currency
from pricing.cli import app
from pricing.errors import FxError
from tests.conftest import SOURCES, offer, request, version, write_data

D = Decimal
FRI, SAT, SUN, MON = date(2026, 6, 12), date(2026, 6, 13), date(2026, 6, 14), date(2026, 6, 15)
PRICE = D("0.04")  # acme/m, USD per image
BETA = D("0.05")  # beta/m, USD per image
USD_FRI, GBP_FRI, USD_MON, GBP_MON = D("1.16"), D("0.86"), D("1.17"), D("0.85")
#: Differences allowed against a hand division: the rate carries 28 significant digits.
TINY = D("1e-25")

ECB_SOURCE = """
[[source]]
id = "ecb-eurofxref"
title = "Euro foreign exchange reference rates"
publisher = "European Central Bank"
kind = "official"
seen = 2026-06-16
"""
RATES = """date,currency,per_eur,source
2026-06-12,USD,1.16,ecb-eurofxref
2026-06-12,GBP,0.86,ecb-eurofxref
2026-06-15,USD,1.17,ecb-eurofxref
2026-06-15,GBP,0.85,ecb-eurofxref
"""
CARDS = {
    "acme": offer(version('{ unit = "image", price = 0.04 }'), offer_id="acme/m"),
    "beta": offer(version('{ unit = "image", price = 0.05 }', source="blog"), offer_id="beta/m"),
}
runner = CliRunner()


#: The cards' sources, read in June 2026: fresh for a quote months later (not stale).
FRESH = SOURCES.replace("seen = 2026-01-15", "seen = 2026-06-01").replace(
    "seen = 2026-02-01", "seen = 2026-06-01"
)


def with_rates(root: Path) -> Path:
    """A data directory of the test's cards and its own ECB rates."""
    write_data(root, CARDS, sources=FRESH + ECB_SOURCE)
    (root / "fx").mkdir()
    (root / "fx" / "ecb.csv").write_text(RATES, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_rates(tmp_path_factory.mktemp("fx-data"))


@pytest.fixture(scope="module")
def cat(data: Path) -> pricing.Catalog:
    return pricing.load_catalog(data)


def close(value: Decimal, by_hand: Decimal) -> bool:
    return abs(value - by_hand) < TINY


# --------------------------------------------------------------------------- quote()


def test_a_weekday_quote_in_eur_uses_that_days_rate(cat: pricing.Catalog) -> None:
    q = pricing.quote(request(count=3), "acme/m", as_of=MON, currency="EUR", catalog=cat)
    by_hand = 3 * PRICE / USD_MON  # $0.12 at 1.17 USD per EUR
    assert q.currency == "EUR"
    assert close(q.total, by_hand)
    assert close(q.per_image, PRICE / USD_MON)
    assert (q.list_currency, q.list_total) == ("USD", 3 * PRICE)
    assert q.fx is not None
    assert (q.fx.kind, q.fx.day, q.fx.source, q.fx.via_eur) == (
        "published",
        MON,
        "ecb-eurofxref",
        False,
    )
    # exact: the converted line items still add up to the converted total (summed wide
    # enough that the sum itself does not round)
    with localcontext() as wide:
        wide.prec = 80
        assert sum(i.amount for i in q.line_items) == q.total
        assert all(i.quantity * i.unit_price == i.amount for i in q.line_items)
    assert close(q.spread.low, by_hand)


def test_a_weekend_quote_uses_fridays_rate_and_says_so(cat: pricing.Catalog) -> None:
    q = pricing.quote(request(), "acme/m", as_of=SUN, currency="EUR", catalog=cat)
    assert close(q.total, PRICE / USD_FRI)  # 0.04 / 1.16 = 0.0344827586...
    assert q.fx is not None
    assert (q.fx.day, q.fx.asked, q.fx.kind) == (FRI, SUN, "published")
    assert q.fx.describe() == (
        "1 USD = 0.862069 EUR (ECB reference rate of 2026-06-12; source: ecb-eurofxref)"
    )
    assert q.to_dict()["fx"] == q.fx.as_dict()


def test_a_cross_rate_to_gbp_goes_through_eur(cat: pricing.Catalog) -> None:
    q = pricing.quote(request(), "acme/m", as_of=MON, currency="GBP", catalog=cat)
    # $0.04 -> EUR at 1.17 USD/EUR -> GBP at 0.85 GBP/EUR
    assert close(q.total, PRICE * GBP_MON / USD_MON)
    assert q.fx is not None
    assert q.fx.via_eur
    assert "a cross rate through EUR" in q.fx.describe()


def test_your_rate_is_used_and_reported_as_yours(cat: pricing.Catalog) -> None:
    q = pricing.quote(
        request(), "acme/m", as_of=MON, currency="EUR", catalog=cat, fx=["EURUSD=1.08"]
    )
    assert close(q.total, PRICE / D("1.08"))
    assert q.fx is not None
    assert (q.fx.kind, q.fx.source, q.fx.day) == ("user", "user", None)
    same = pricing.quote(
        request(), "acme/m", as_of=MON, currency="EUR", catalog=cat, fx={"EURUSD": "1.08"}
    )
    assert same.total == q.total


def test_a_day_after_the_data_is_quoted_at_a_stated_planning_rate(cat: pricing.Catalog) -> None:
    later = date(2026, 9, 1)
    q = pricing.quote(request(), "acme/m", as_of=later, currency="EUR", catalog=cat)
    assert close(q.total, PRICE / USD_MON)  # Monday's, the latest rate
    assert q.fx is not None
    assert (q.fx.kind, q.fx.day) == ("planning", MON)
    assert "planning rate" in q.fx.describe()
    assert "held for 2026-09-01; an assumption" in q.fx.describe()


def test_a_quote_in_its_own_currency_is_not_converted(cat: pricing.Catalog) -> None:
    q = pricing.quote(request(), "acme/m", as_of=MON, currency="USD", catalog=cat)
    assert (q.total, q.currency, q.fx, q.list_currency) == (PRICE, "USD", None, None)


def test_bad_codes_and_rates_are_fx_errors(cat: pricing.Catalog) -> None:
    with pytest.raises(FxError, match="not an ISO 4217 code"):
        pricing.quote(request(), "acme/m", as_of=MON, currency="euro", catalog=cat)
    with pytest.raises(FxError, match="no exchange rate for XYZ"):
        pricing.quote(request(), "acme/m", as_of=MON, currency="XYZ", catalog=cat)
    with pytest.raises(FxError, match=r"EURUSD=1\.08 for 1 EUR = 1\.08 USD"):
        pricing.quote(request(), "acme/m", as_of=MON, currency="EUR", catalog=cat, fx=["EURUSD=-1"])
    with pytest.raises(FxError, match="no currency= to convert into"):
        pricing.quote(request(), "acme/m", as_of=MON, catalog=cat, fx=["EURUSD=1.08"])


def test_monthly_cost_converts_like_a_quote(cat: pricing.Catalog) -> None:
    q = pricing.monthly_cost(
        request(), "acme/m", requests=100, as_of=FRI, currency="GBP", catalog=cat
    )
    assert close(q.total, 100 * PRICE * GBP_FRI / USD_FRI)


@settings(max_examples=60, deadline=None)
@given(
    images=st.integers(min_value=1, max_value=10_000),
    rate=st.decimals(min_value=D("0.0001"), max_value=D("10000"), places=6),
)
def test_there_and_back_with_your_rate_gives_the_amount_back(
    cat: pricing.Catalog, images: int, rate: Decimal
) -> None:
    your = [f"EURUSD={rate}"]
    eur = pricing.quote(
        request(count=images), "acme/m", as_of=MON, currency="EUR", catalog=cat, fx=your
    )
    back = in_currency(eur, "USD", your, 7, cat)
    assert back.currency == "USD"
    listed = images * PRICE
    # only the 28-digit rate 1/r rounds: within a few units of its last digit
    assert abs(back.total - listed) <= listed * D("1e-26")


# --------------------------------------------------------------------------- compare()


def test_compare_converts_every_offer_and_states_the_rate(cat: pricing.Catalog) -> None:
    frame = pricing.compare(request(), cat, as_of=SAT, currency="EUR")
    rows = {r["offer_id"]: r for r in frame.iter_rows(named=True)}
    # compare's table keeps 12 places
    assert rows["acme/m"]["total"] == (PRICE / USD_FRI).quantize(D("1e-12"))
    assert rows["beta/m"]["total"] == (BETA / USD_FRI).quantize(D("1e-12"))
    for r in rows.values():
        assert (r["currency"], r["list_currency"], r["fx_day"]) == ("EUR", "USD", FRI)
        assert (r["fx_source"], r["fx_kind"]) == ("ecb-eurofxref", "published")
        assert abs(r["fx_rate"] - 1 / USD_FRI) < D("1e-17")
    assert frame["offer_id"].to_list()[:2] == ["acme/m", "beta/m"]  # cheapest first


def test_compare_without_currency_has_no_fx_columns_filled(cat: pricing.Catalog) -> None:
    frame = pricing.compare(request(), cat, as_of=SAT)
    assert frame["currency"].unique().to_list() == ["USD"]
    assert frame["fx_rate"].null_count() == frame.height


# --------------------------------------------------------------------------- the CLI


def quote_cli(data: Path, *args: str) -> Any:
    return runner.invoke(app, ["quote", "--model", "m", "--data", str(data), *args])


def test_cli_quote_in_eur_prints_the_rate_line(data: Path) -> None:
    result = quote_cli(data, "--offer", "acme/m", "--as-of", "2026-06-14", "--currency", "EUR")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "total EUR 0.034483" in text  # 0.04 / 1.16, to 6 places
    assert "listed as USD 0.040000" in text
    assert "Exchange rates used" in text
    assert (
        "2026-06-14: 1 USD = 0.862069 EUR (ECB reference rate of 2026-06-12; source: "
        "ecb-eurofxref)" in text
    )


def test_cli_quote_json_has_the_fx_list(data: Path) -> None:
    result = quote_cli(
        data, "--offer", "acme/m", "--as-of", "2026-06-15", "--currency", "GBP", "--json"
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["currency"] == "GBP"
    assert close(D(payload["total"]), PRICE * GBP_MON / USD_MON)
    (fx,) = payload["fx"]
    assert (fx["from"], fx["to"], fx["kind"], fx["day"]) == (
        "USD",
        "GBP",
        "published",
        "2026-06-15",
    )
    assert fx["via_eur"] is True
    assert D(fx["rate"]) == D("0.7264957264957264957264957265")  # 0.85 / 1.17, 28 digits


def test_cli_your_rate_is_reported_as_source_user(data: Path) -> None:
    result = quote_cli(
        data,
        "--offer",
        "acme/m",
        "--as-of",
        "2026-06-15",
        "--currency",
        "EUR",
        "--fx",
        "EURUSD=1.08",
    )
    assert result.exit_code == 0, result.output
    assert "1 USD = 0.925926 EUR (your rate; source: user)" in result.stdout
    assert "total EUR 0.037037" in result.stdout  # 0.04 / 1.08


def test_cli_compare_in_eur_lists_the_rates_once(data: Path) -> None:
    result = quote_cli(data, "--as-of", "2026-09-01", "--currency", "EUR")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "EUR 0.0342" in text  # acme/m: 0.04 / 1.17 (Monday's rate, a planning rate)
    assert "EUR 0.0427" in text  # beta/m: 0.05 / 1.17
    assert text.count("Exchange rates used") == 1
    assert "2026-09-01: 1 USD = 0.854701 EUR (planning rate: the latest ECB reference rate" in text
    payload = json.loads(
        quote_cli(data, "--as-of", "2026-09-01", "--currency", "EUR", "--json").stdout
    )
    assert [f["kind"] for f in payload["fx"]] == ["planning"]
    assert {r["currency"] for r in payload["offers"]} == {"EUR"}
    assert {r["fx_kind"] for r in payload["offers"]} == {"planning"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--currency", "EURO"], "is not an ISO 4217 code"),
        (["--currency", "XYZ"], "no exchange rate for XYZ"),
        (["--currency", "EUR", "--fx", "EURUSD=abc"], "is not understood"),
        (["--currency", "EUR", "--fx", "EURUSD=0"], "is not understood"),
        (["--fx", "EURUSD=1.08"], "no --currency to convert into"),
        (["--offer", "acme/m", "--currency", "EUR", "--as-of", "2026-05-01"], "no USD rate on"),
    ],
)
def test_cli_bad_code_or_rate_is_one_error_line(data: Path, args: list[str], message: str) -> None:
    result = quote_cli(data, "--as-of", "2026-06-15", *args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.stderr.split())
    assert text.startswith("error:")
    assert message in text
    assert "Traceback" not in result.output
