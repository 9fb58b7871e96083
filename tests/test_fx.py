"""Dated exchange rates: ECB XML parsing, data/fx CSV loading and writing, lookups.

Expected values are typed in by hand from the ECB fixture below (the ECB daily reference rates
of 2015-01-07, as kept in florianv/exchanger tests/Fixtures/Service/EuropeanCentralBank/
success.xml): USD 1.1831, GBP 0.78230, JPY 141.17 ... units per 1 EUR.
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing._fx.ecb import parse_ecb_xml
from pricing._fx.rates import fx_rate
from pricing._fx.store import fx_days, load_fx, write_fx_csv
from pricing.errors import FxError, PricingError, Problem, RateCardError
from tests.conftest import SOURCES

FIXTURE = b"""<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" \
xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
\t<gesmes:subject>Reference rates</gesmes:subject>
\t<gesmes:Sender>
\t\t<gesmes:name>European Central Bank</gesmes:name>
\t</gesmes:Sender>
\t<Cube>
\t\t<Cube time='2015-01-07'>
\t\t\t<Cube currency='USD' rate='1.1831'/>
\t\t\t<Cube currency='JPY' rate='141.17'/>
\t\t\t<Cube currency='BGN' rate='1.9558'/>
\t\t\t<Cube currency='CZK' rate='27.783'/>
\t\t\t<Cube currency='DKK' rate='7.4421'/>
\t\t\t<Cube currency='GBP' rate='0.78230'/>
\t\t\t<Cube currency='HUF' rate='319.53'/>
\t\t\t<Cube currency='PLN' rate='4.3108'/>
\t\t\t<Cube currency='RON' rate='4.4978'/>
\t\t\t<Cube currency='SEK' rate='9.3989'/>
\t\t\t<Cube currency='CHF' rate='1.2011'/>
\t\t\t<Cube currency='NOK' rate='9.1500'/>
\t\t\t<Cube currency='HRK' rate='7.6753'/>
\t\t\t<Cube currency='RUB' rate='75.0000'/>
\t\t\t<Cube currency='TRY' rate='2.7547'/>
\t\t\t<Cube currency='AUD' rate='1.4660'/>
\t\t\t<Cube currency='BRL' rate='3.1679'/>
\t\t\t<Cube currency='CAD' rate='1.3996'/>
\t\t\t<Cube currency='CNY' rate='7.3512'/>
\t\t\t<Cube currency='HKD' rate='9.1743'/>
\t\t\t<Cube currency='IDR' rate='15041.65'/>
\t\t\t<Cube currency='ILS' rate='4.6835'/>
\t\t\t<Cube currency='INR' rate='74.7423'/>
\t\t\t<Cube currency='KRW' rate='1304.28'/>
\t\t\t<Cube currency='MXN' rate='17.4803'/>
\t\t\t<Cube currency='MYR' rate='4.2376'/>
\t\t\t<Cube currency='NZD' rate='1.5275'/>
\t\t\t<Cube currency='PHP' rate='53.363'/>
\t\t\t<Cube currency='SGD' rate='1.5844'/>
\t\t\t<Cube currency='THB' rate='38.912'/>
\t\t\t<Cube currency='ZAR' rate='13.8588'/>
\t\t</Cube>
\t</Cube>
</gesmes:Envelope>"""

#: The fixture's currencies, in its order, typed from the XML.
FIXTURE_CODES = (
    "USD",
    "JPY",
    "BGN",
    "CZK",
    "DKK",
    "GBP",
    "HUF",
    "PLN",
    "RON",
    "SEK",
    "CHF",
    "NOK",
    "HRK",
    "RUB",
    "TRY",
    "AUD",
    "BRL",
    "CAD",
    "CNY",
    "HKD",
    "IDR",
    "ILS",
    "INR",
    "KRW",
    "MXN",
    "MYR",
    "NZD",
    "PHP",
    "SGD",
    "THB",
    "ZAR",
)
DAY = date(2015, 1, 7)  # a Wednesday
USD = Decimal("1.1831")
GBP = Decimal("0.78230")
JPY = Decimal("141.17")

ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
    'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">'
    "<gesmes:subject>Reference rates</gesmes:subject><Cube>{}</Cube></gesmes:Envelope>"
)


def ecb(*days: tuple[str, dict[str, str]]) -> bytes:
    """An ECB document with one ``<Cube time>`` per (day, {currency: rate})."""
    body = "".join(
        f"<Cube time='{day}'>"
        + "".join(f"<Cube currency='{c}' rate='{r}'/>" for c, r in rates.items())
        + "</Cube>"
        for day, rates in days
    )
    return ENVELOPE.format(body).encode()


#: Two ECB days (Friday 2015-01-09 and Monday 2015-01-12), like eurofxref-hist.xml.
TWO_DAYS = ecb(
    ("2015-01-12", {"USD": "1.1834", "GBP": "0.78000"}),
    ("2015-01-09", {"USD": "1.1814", "GBP": "0.78090"}),
)


# --------------------------------------------------------------------------- parse_ecb_xml


def test_fixture_parses_to_every_currency_plus_eur() -> None:
    fx = parse_ecb_xml(FIXTURE)
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "date": pl.Date,
        "currency": pl.String,
        "per_eur": pl.Decimal(38, 10),
        "source": pl.String,
    }
    assert fx.schema == pl.Schema(schema)
    assert fx.height == 31 + 1
    assert sorted(fx["currency"]) == sorted([*FIXTURE_CODES, "EUR"])
    assert set(fx["date"]) == {DAY}
    assert set(fx["source"]) == {"ecb-eurofxref"}
    rates = dict(zip(fx["currency"], fx["per_eur"], strict=True))
    assert rates["USD"] == USD
    assert rates["GBP"] == GBP
    assert rates["JPY"] == JPY
    assert rates["IDR"] == Decimal("15041.65")
    assert rates["RUB"] == Decimal("75.0000")
    assert rates["EUR"] == 1
    assert fx["currency"].to_list() == sorted(fx["currency"].to_list())


def test_source_id_is_written_on_every_row() -> None:
    assert set(parse_ecb_xml(FIXTURE, source="my-ecb")["source"]) == {"my-ecb"}


def test_several_days_give_one_eur_row_per_day_sorted_by_currency_then_date() -> None:
    fx = parse_ecb_xml(TWO_DAYS)
    assert fx.select("currency", "date").rows() == [
        ("EUR", date(2015, 1, 9)),
        ("EUR", date(2015, 1, 12)),
        ("GBP", date(2015, 1, 9)),
        ("GBP", date(2015, 1, 12)),
        ("USD", date(2015, 1, 9)),
        ("USD", date(2015, 1, 12)),
    ]
    assert fx.filter(currency="EUR")["per_eur"].to_list() == [1, 1]
    assert fx.filter(currency="GBP")["per_eur"].to_list() == [Decimal("0.7809"), Decimal("0.78")]


BAD_XML: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "empty"),
    "blank": (b"  \n\t", "empty"),
    "not xml": (b"date,currency\n2015-01-07,USD", "not well-formed"),
    "truncated": (FIXTURE[: len(FIXTURE) // 2], "not well-formed"),
    "json": (b'{"rates": {"USD": 1.1831}}', "not well-formed"),
    "no cube time": (ENVELOPE.format("<Cube currency='USD' rate='1.1'/>").encode(), "Cube time"),
    "other namespace": (FIXTURE.replace(b"eurofxref", b"elsewhere"), "Cube time"),
    "bad date": (ecb(("07/01/2015", {"USD": "1.1831"})), "07/01/2015"),
    "impossible date": (ecb(("2015-02-30", {"USD": "1.1831"})), "2015-02-30"),
    "iso week date": (ecb(("2015-W02-3", {"USD": "1.1831"})), "2015-W02-3"),
    "text rate": (ecb(("2015-01-07", {"USD": "abc"})), "'abc'"),
    "empty rate": (ecb(("2015-01-07", {"USD": ""})), "USD"),
    "negative rate": (ecb(("2015-01-07", {"USD": "-1.1831"})), "negative"),
    "zero rate": (ecb(("2015-01-07", {"USD": "0.0000"})), "zero"),
    "exponent rate": (ecb(("2015-01-07", {"USD": "1e3"})), "'1e3'"),
    "nan rate": (ecb(("2015-01-07", {"USD": "NaN"})), "'NaN'"),
    "too precise": (ecb(("2015-01-07", {"USD": "1.18310000001"})), "decimal places"),
    "lower-case code": (ecb(("2015-01-07", {"usd": "1.1831"})), "'usd'"),
    "short code": (ecb(("2015-01-07", {"US": "1.1831"})), "'US'"),
    "long code": (ecb(("2015-01-07", {"EURO": "1"})), "'EURO'"),
    "eur listed": (ecb(("2015-01-07", {"EUR": "1"})), "EUR"),
    "duplicate currency": (
        FIXTURE.replace(b"<Cube currency='JPY'", b"<Cube currency='USD'"),
        "USD appears twice",
    ),
    "duplicate day": (
        ecb(("2015-01-07", {"USD": "1.1831"}), ("2015-01-07", {"GBP": "0.7823"})),
        "twice",
    ),
    "day without rates": (ecb(("2015-01-07", {})), "no rates"),
    "missing rate": (FIXTURE.replace(b" rate='1.1831'", b""), "without both"),
    "stray rate": (
        ENVELOPE.format(
            "<Cube time='2015-01-07'><Cube currency='USD' rate='1.1'/></Cube>"
            "<Cube currency='GBP' rate='0.7'/>"
        ).encode(),
        "outside",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_XML))
def test_bad_xml_raises_fx_error_naming_the_source(case: str) -> None:
    data, what = BAD_XML[case]
    with pytest.raises(FxError) as caught:
        parse_ecb_xml(data, source="ecb-test-feed")
    message = str(caught.value)
    assert message.startswith("ecb-test-feed: ")
    assert what in message


def test_fx_error_is_a_pricing_error() -> None:
    with pytest.raises(PricingError):
        parse_ecb_xml(b"")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
 xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
<Cube><Cube time='2015-01-07'><Cube currency='USD' rate='1.1831'/></Cube></Cube>
<gesmes:subject>&lol3;</gesmes:subject></gesmes:Envelope>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
 xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
<gesmes:subject>&x;</gesmes:subject>
<Cube><Cube time='2015-01-07'><Cube currency='USD' rate='1.1831'/></Cube></Cube>
</gesmes:Envelope>"""

PLAIN_DOCTYPE = FIXTURE.replace(
    b"<gesmes:Envelope", b"<!DOCTYPE gesmes:Envelope>\n<gesmes:Envelope", 1
)


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, PLAIN_DOCTYPE])
def test_doctype_and_entities_are_refused(data: bytes) -> None:
    with pytest.raises(FxError, match=r"^ecb-eurofxref: .*DOCTYPE"):
        parse_ecb_xml(data)


def parse_or_error(data: bytes) -> pl.DataFrame | FxError:
    """The parsed frame, or the FxError raised; any other exception fails the test."""
    try:
        return parse_ecb_xml(data)
    except FxError as exc:
        return exc


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_give_a_frame_or_fx_error(data: bytes) -> None:
    result = parse_or_error(data)
    if isinstance(result, FxError):
        assert str(result).startswith("ecb-eurofxref: ")
    else:  # pragma: no cover - random bytes are almost never an ECB document
        assert result.columns == ["date", "currency", "per_eur", "source"]


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    """The fixture with a few bytes replaced, inserted or deleted."""
    data = bytearray(FIXTURE)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["replace", "insert", "delete"]))
        piece = draw(
            st.one_of(
                st.binary(min_size=1, max_size=4),
                st.sampled_from([b"'", b"<", b">", b"-", b"0", b".", b"&", b"/", b"Cube", b"x"]),
            )
        )
        if kind == "replace":
            data[at : at + len(piece)] = piece
        elif kind == "insert":
            data[at:at] = piece
        else:
            del data[at : at + len(piece)]
    return bytes(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_fixture())
def test_mutated_fixture_gives_a_valid_frame_or_fx_error(data: bytes) -> None:
    fx = parse_or_error(data)
    if isinstance(fx, FxError):
        assert str(fx).startswith("ecb-eurofxref: ")
        return
    # Whatever survived is a complete, valid table: never partial.
    assert fx.columns == ["date", "currency", "per_eur", "source"]
    assert fx.height > 0
    assert fx.select(pl.col("per_eur") > 0).to_series().all()
    assert fx.filter(currency="EUR").height == fx["date"].n_unique()
    assert not fx.select("date", "currency").is_duplicated().any()


# --------------------------------------------------------------------------- fx_rate


def test_cross_rate_usd_to_gbp_via_eur() -> None:
    fx = parse_ecb_xml(FIXTURE)
    assert fx_rate("USD", "GBP", DAY, fx=fx) == GBP / USD
    assert fx_rate("GBP", "USD", DAY, fx=fx) == USD / GBP
    assert fx_rate("USD", "JPY", DAY, fx=fx) == JPY / USD
    # 100 USD in GBP, by hand: 100 / 1.1831 * 0.78230 = 66.1229... GBP
    assert round(Decimal(100) * fx_rate("USD", "GBP", DAY, fx=fx), 4) == Decimal("66.1229")


def test_rates_to_and_from_eur() -> None:
    fx = parse_ecb_xml(FIXTURE)
    assert fx_rate("EUR", "USD", DAY, fx=fx) == USD
    assert fx_rate("EUR", "GBP", DAY, fx=fx) == GBP
    assert fx_rate("USD", "EUR", DAY, fx=fx) == Decimal(1) / USD


def test_same_currency_is_one_without_any_data() -> None:
    empty = parse_ecb_xml(FIXTURE).clear()
    assert fx_rate("USD", "USD", DAY, fx=empty) == 1
    assert fx_rate("XAU", "XAU", date(1990, 1, 1), fx=empty) == 1


def test_weekend_uses_the_last_business_day() -> None:
    fx = parse_ecb_xml(FIXTURE)
    saturday, sunday = date(2015, 1, 10), date(2015, 1, 11)
    assert fx_rate("USD", "GBP", saturday, fx=fx) == GBP / USD
    assert fx_rate("USD", "GBP", sunday, fx=fx) == GBP / USD


def test_latest_rate_on_or_before_the_day_wins() -> None:
    fx = parse_ecb_xml(TWO_DAYS)
    friday = Decimal("0.78090") / Decimal("1.1814")
    monday = Decimal("0.78000") / Decimal("1.1834")
    assert fx_rate("USD", "GBP", date(2015, 1, 9), fx=fx) == friday
    assert fx_rate("USD", "GBP", date(2015, 1, 11), fx=fx) == friday
    assert fx_rate("USD", "GBP", date(2015, 1, 12), fx=fx) == monday
    assert fx_rate("USD", "GBP", date(2015, 1, 19), fx=fx) == monday


def test_stale_rate_names_currency_dates_and_the_fix() -> None:
    fx = parse_ecb_xml(FIXTURE)
    assert fx_rate("USD", "GBP", DAY + timedelta(days=7), fx=fx) == GBP / USD
    with pytest.raises(FxError) as caught:
        fx_rate("USD", "GBP", date(2015, 1, 15), fx=fx)
    message = str(caught.value)
    for part in ("USD", "2015-01-15", "2015-01-07", "8 days", "pricing fx pull", "max_age_days"):
        assert part in message
    assert fx_rate("USD", "GBP", date(2015, 1, 15), fx=fx, max_age_days=8) == GBP / USD


def test_day_before_any_rate_is_an_error() -> None:
    fx = parse_ecb_xml(FIXTURE)
    with pytest.raises(FxError) as caught:
        fx_rate("USD", "GBP", date(2015, 1, 6), fx=fx, max_age_days=10_000)
    message = str(caught.value)
    assert "USD" in message
    assert "2015-01-06" in message
    assert "2015-01-07" in message


def test_unknown_currency_is_named() -> None:
    fx = parse_ecb_xml(FIXTURE)
    with pytest.raises(FxError) as caught:
        fx_rate("USD", "XAU", DAY, fx=fx)
    message = str(caught.value)
    assert "XAU" in message
    assert "pricing fx pull" in message
    assert "GBP" in message  # lists what is known


@pytest.mark.parametrize("code", ["usd", "US", "DOLLAR", ""])
def test_bad_currency_code_is_refused(code: str) -> None:
    with pytest.raises(FxError, match="ISO 4217"):
        fx_rate(code, "GBP", DAY, fx=parse_ecb_xml(FIXTURE))


def test_float_rates_are_refused_on_the_exact_path() -> None:
    fx = parse_ecb_xml(FIXTURE).with_columns(pl.col("per_eur").cast(pl.Float64))
    with pytest.raises(FxError, match="Decimal"):
        fx_rate("USD", "GBP", DAY, fx=fx)


# --------------------------------------------------------------------------- fx_days


def test_fx_days_forward_fills_up_to_max_age() -> None:
    fx = parse_ecb_xml(TWO_DAYS)
    days = fx_days(fx, ["USD", "EUR", "USD"], date(2015, 1, 8), date(2015, 1, 20), max_age_days=3)
    assert days.schema == pl.Schema({"date": pl.Date, "currency": pl.String, "per_eur": pl.Float64})
    usd = dict(days.filter(currency="USD").select("date", "per_eur").iter_rows())
    assert len(usd) == 13
    assert usd[date(2015, 1, 8)] is None  # no rate on or before
    assert usd[date(2015, 1, 9)] == 1.1814
    assert usd[date(2015, 1, 11)] == 1.1814
    assert usd[date(2015, 1, 12)] == 1.1834
    assert usd[date(2015, 1, 15)] == 1.1834  # 3 days old
    assert usd[date(2015, 1, 16)] is None  # 4 days old: too old
    eur = days.filter(currency="EUR")["per_eur"].to_list()
    assert eur == [1.0] * 13
    assert days.select("currency", "date").rows() == sorted(days.select("currency", "date").rows())


def test_fx_days_counts_rates_before_start_and_leaves_unknown_null() -> None:
    days = fx_days(parse_ecb_xml(FIXTURE), ["GBP", "XAU"], date(2015, 1, 10), date(2015, 1, 15))
    gbp = days.filter(currency="GBP")["per_eur"].to_list()
    assert gbp == [0.7823] * 5 + [None]  # 2015-01-10..14 within 7 days of 2015-01-07
    assert days.filter(currency="XAU")["per_eur"].null_count() == 6


def test_fx_days_rejects_reversed_range() -> None:
    with pytest.raises(FxError, match="before start"):
        fx_days(parse_ecb_xml(FIXTURE), ["USD"], date(2015, 1, 8), date(2015, 1, 7))


# --------------------------------------------------------------------------- data/fx/*.csv

FX_SOURCES = (
    SOURCES
    + """
[[source]]
id = "ecb-eurofxref"
title = "Euro foreign exchange reference rates"
publisher = "European Central Bank"
kind = "official"
seen = 2015-01-07
"""
)
HEADER = "date,currency,per_eur,source\n"


def fx_dir(root: Path, files: dict[str, str], *, sources: str = FX_SOURCES) -> Path:
    """A data directory holding ``sources.toml`` and ``fx/<name>`` for each file."""
    (root / "fx").mkdir(parents=True, exist_ok=True)
    (root / "sources.toml").write_text(sources, encoding="utf-8")
    for name, text in files.items():
        (root / "fx" / name).write_text(text, encoding="utf-8")
    return root


def fx_problems(root: Path) -> list[Problem]:
    with pytest.raises(RateCardError) as caught:
        load_fx(root)
    return caught.value.problems


def test_load_fx_reads_every_csv(tmp_path: Path) -> None:
    root = fx_dir(
        tmp_path,
        {
            "a.csv": HEADER
            + "2015-01-07,USD,1.1831,ecb-eurofxref\n2015-01-07,EUR,1,ecb-eurofxref\n",
            "b.csv": HEADER + "2015-01-07,GBP,0.78230,acme-docs\n2015-01-06,USD,1.1830,blog\n",
        },
    )
    fx = load_fx(root)
    assert fx.schema == parse_ecb_xml(FIXTURE).schema
    assert fx.rows() == [
        (DAY, "EUR", Decimal(1), "ecb-eurofxref"),
        (DAY, "GBP", GBP, "acme-docs"),
        (date(2015, 1, 6), "USD", Decimal("1.1830"), "blog"),
        (DAY, "USD", USD, "ecb-eurofxref"),
    ]
    assert fx_rate("USD", "GBP", DAY, fx=fx) == GBP / USD


def test_missing_fx_directory_gives_an_empty_frame(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text(FX_SOURCES, encoding="utf-8")
    fx = load_fx(tmp_path)
    assert fx.is_empty()
    assert fx.schema == parse_ecb_xml(FIXTURE).schema


def test_bad_rows_are_all_reported_with_file_line_and_field(tmp_path: Path) -> None:
    text = (
        HEADER
        + "2015-01-07,USD,1.1831,ecb-eurofxref\n"  # line 2 fine
        + "2015-1-7,GBP,0.7823,ecb-eurofxref\n"  # line 3 date
        + "2015-01-07,gbp,0.7823,ecb-eurofxref\n"  # line 4 currency
        + "2015-01-07,JPY,-141.17,ecb-eurofxref\n"  # line 5 negative
        + "2015-01-07,CHF,0,ecb-eurofxref\n"  # line 6 zero
        + "2015-01-07,SEK,9.3989,nowhere\n"  # line 7 source
        + "2015-01-07,NOK,9.15\n"  # line 8 field count
        + "2015-01-07,EUR,2,ecb-eurofxref\n"  # line 9 EUR must be 1
        + "2015-01-07,USD,1.1831,ecb-eurofxref\n"  # line 10 duplicate of line 2
    )
    found = fx_problems(fx_dir(tmp_path, {"rates.csv": text}))
    located = {(p.line, p.field) for p in found}
    assert located == {
        (3, "date"),
        (4, "currency"),
        (5, "per_eur"),
        (6, "per_eur"),
        (7, "source"),
        (8, None),
        (9, "per_eur"),
        (10, "currency"),
    }
    assert all(p.file == "data/fx/rates.csv" for p in found)
    by_line = {p.line: p for p in found}
    assert "negative" in by_line[5].message
    assert "'nowhere'" in by_line[7].message
    assert "sources.toml" in by_line[7].fix
    assert "line 2" in by_line[10].message
    assert str(by_line[3]).startswith("data/fx/rates.csv line 3: field `date`: ")


def test_duplicate_across_files_names_both(tmp_path: Path) -> None:
    row = "2015-01-07,USD,1.1831,ecb-eurofxref\n"
    found = fx_problems(fx_dir(tmp_path, {"a.csv": HEADER + row, "b.csv": HEADER + row}))
    assert len(found) == 1
    assert (found[0].file, found[0].line) == ("data/fx/b.csv", 2)
    assert "data/fx/a.csv line 2" in found[0].message


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "empty"),
        ("date,currency,rate,source\n2015-01-07,USD,1.1831,ecb-eurofxref\n", "header"),
        ("2015-01-07,USD,1.1831,ecb-eurofxref\n", "header"),
        ("Date,Currency,Per_eur,Source\n", "header"),
    ],
)
def test_bad_or_missing_header(tmp_path: Path, text: str, what: str) -> None:
    found = fx_problems(fx_dir(tmp_path, {"x.csv": text}))
    assert len(found) == 1
    assert what in found[0].message
    assert "date,currency,per_eur,source" in found[0].fix


def test_cache_follows_file_changes(tmp_path: Path) -> None:
    root = fx_dir(tmp_path, {"a.csv": HEADER + "2015-01-07,USD,1.1831,ecb-eurofxref\n"})
    assert load_fx(root)["per_eur"].to_list() == [USD]
    path = root / "fx" / "a.csv"
    path.write_text(HEADER + "2015-01-07,USD,1.18,ecb-eurofxref\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_fx(root)["per_eur"].to_list() == [Decimal("1.18")]


def test_write_then_load_round_trips_exactly(tmp_path: Path) -> None:
    root = fx_dir(tmp_path, {})
    parsed = parse_ecb_xml(FIXTURE)
    write_fx_csv(parsed, root / "fx" / "ecb.csv")
    text = (root / "fx" / "ecb.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "date,currency,per_eur,source"
    assert "2015-01-07,GBP,0.7823,ecb-eurofxref" in lines
    assert "2015-01-07,IDR,15041.65,ecb-eurofxref" in lines
    assert "2015-01-07,RUB,75,ecb-eurofxref" in lines
    assert "2015-01-07,EUR,1,ecb-eurofxref" in lines
    assert len(lines) == 33
    assert load_fx(root).equals(parsed)
    assert sorted(p.name for p in (root / "fx").iterdir()) == ["ecb.csv"]  # no temp file left


def test_write_refuses_bad_frames_and_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "fx.csv"
    path.write_text("old\n", encoding="utf-8")
    parsed = parse_ecb_xml(FIXTURE)
    with pytest.raises(FxError, match="not Decimal"):
        write_fx_csv(parsed.with_columns(pl.col("per_eur").cast(pl.Float64)), path)
    with pytest.raises(FxError, match="twice"):
        write_fx_csv(pl.concat([parsed, parsed.head(1)]), path)
    with pytest.raises(FxError, match="lacks column"):
        write_fx_csv(parsed.drop("source"), path)
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["fx.csv"]


def test_bundled_fx_data_is_the_ecb_fixture() -> None:
    # The fixture's day is in the bundled ECB history (data/fx/ecb-history.parquet), rate for
    # rate; data/fx/ecb.csv no longer repeats it.
    fx = load_fx()
    assert fx.filter(date=DAY).drop("source").equals(parse_ecb_xml(FIXTURE).drop("source"))
    assert set(fx.filter(date=DAY)["source"]) == {"ecb-eurofxref-hist"}


# --------------------------------------------------------------------------- pricing fx rate


def test_cli_fx_rate_converts_with_the_dated_rates(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pricing.cli import app

    runner = CliRunner()
    # USD 1.20 per EUR on Friday 2026-03-06, 1.10 on Monday 03-09; GBP 0.80 on 03-06
    root = fx_dir(
        tmp_path,
        {
            "ecb.csv": HEADER
            + "2026-03-06,USD,1.20,ecb-eurofxref\n2026-03-09,USD,1.10,ecb-eurofxref\n"
            + "2026-03-06,GBP,0.80,ecb-eurofxref\n"
        },
    )
    data = ["--data", str(root)]
    # Sunday 03-08: Friday's rates; 1,200 USD / 1.20 = 1,000 EUR
    result = runner.invoke(
        app, ["fx", "rate", "usd", "EUR", "--amount", "1200", "--on", "2026-03-08", *data]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "1,200 USD = 1,000.0000 EUR on 2026-03-08" in text
    assert "USD: 1.2 per EUR, rate of 2026-03-06 (source ecb-eurofxref)" in text

    # GBP to USD goes through the euro: 1.20 / 0.80 = 1.5 USD per GBP
    cross = runner.invoke(app, ["fx", "rate", "GBP", "USD", "--on", "2026-03-08", "--json", *data])
    assert cross.exit_code == 0, cross.output
    payload = json.loads(cross.stdout)
    assert Decimal(payload["factor"]) == Decimal("1.5")
    assert [(r["currency"], r["date"]) for r in payload["rates"]] == [
        ("GBP", "2026-03-06"),
        ("USD", "2026-03-06"),
    ]

    # Monday: the new USD rate; GBP's Friday rate is 3 days old, within the default 7
    monday = runner.invoke(app, ["fx", "rate", "GBP", "USD", "--on", "2026-03-09", "--json", *data])
    assert Decimal(json.loads(monday.stdout)["factor"]) == Decimal("1.10") / Decimal("0.80")

    # too old a rate, a bad amount: exit 2, saying what to do
    stale = runner.invoke(
        app, ["fx", "rate", "GBP", "EUR", "--on", "2026-03-09", "--max-age-days", "2", *data]
    )
    assert stale.exit_code == 2
    assert "pricing fx pull" in stale.stderr
    bad = runner.invoke(app, ["fx", "rate", "USD", "EUR", "--amount", "1,2", *data])
    assert bad.exit_code == 2
    assert "--amount '1,2' is not a number" in bad.stderr
