"""The FX frame: its columns and exact types, and the checks of the values it holds.

An FX frame has one row per day and currency: ``per_eur`` is units of the currency per 1 EUR
[currency/EUR], exact (Decimal) as published, with the id of its source. The ECB parser, the
``data/fx`` CSV store and the rate lookups all build and check frames with these helpers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import polars as pl

from pricing.errors import FxError

#: Columns of every FX frame; ``per_eur`` is exact [currency/EUR].
PER_EUR = pl.Decimal(38, 10)
FX_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "date": pl.Date,
    "currency": pl.String,
    "per_eur": PER_EUR,
    "source": pl.String,
}

PER_EUR_PLACES = 10  # decimal places kept by PER_EUR
PER_EUR_DIGITS = 38 - PER_EUR_PLACES  # digits before the point
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_RATE = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def check_date(text: str) -> date | str:
    """A calendar date written ``YYYY-MM-DD``, or the reason it is not one."""
    if not _DATE.match(text):
        return f"date {text!r} is not written YYYY-MM-DD"
    try:
        return date.fromisoformat(text)
    except ValueError:
        return f"date {text!r} is not a calendar date"


def check_currency(text: str) -> str | None:
    """``None`` when ``text`` is an ISO 4217 code (three upper-case letters), else why not."""
    if _CURRENCY.match(text):
        return None
    return f"currency {text!r} is not an ISO 4217 code (three upper-case letters, e.g. USD)"


def check_rate(text: str) -> Decimal | str:
    """A positive exact rate [currency/EUR] that fits ``PER_EUR``, or the reason it is not."""
    if not _RATE.match(text):
        try:
            if Decimal(text.strip()) < 0:
                return f"rate {text!r} is negative"
        except (InvalidOperation, ValueError):
            pass
        return f"rate {text!r} is not a plain decimal number (digits and one '.')"
    value = Decimal(text)
    if value == 0:
        return f"rate {text!r} is zero"
    whole, _, frac = text.partition(".")
    if len(frac.rstrip("0")) > PER_EUR_PLACES:
        return f"rate {text!r} has more than {PER_EUR_PLACES} decimal places"
    if len(whole.lstrip("0")) > PER_EUR_DIGITS:
        return f"rate {text!r} has more than {PER_EUR_DIGITS} digits before the point"
    return value


def empty_fx() -> pl.DataFrame:
    """An FX frame without rows."""
    return pl.DataFrame(schema=FX_SCHEMA)


def fx_frame(
    dates: list[date], currencies: list[str], rates: list[Decimal], sources: list[str]
) -> pl.DataFrame:
    """An FX frame of these columns, sorted by currency then date."""
    frame = pl.DataFrame(
        {"date": dates, "currency": currencies, "per_eur": rates, "source": sources},
        schema=FX_SCHEMA,
    )
    return frame.sort(["currency", "date"])


def require_columns(frame: pl.DataFrame, columns: Sequence[str], who: str) -> None:
    """:class:`FxError` naming ``who`` when ``frame`` lacks any of ``columns``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FxError(
            f"{who}: the FX frame lacks column(s) {missing}; pass a frame from load_fx() or "
            "parse_ecb_xml() (columns date, currency, per_eur, source)"
        )


def as_day(value: date, name: str) -> date:
    """``value`` when it is a date (not a datetime); else :class:`FxError` naming ``name``."""
    if isinstance(value, datetime):
        raise FxError(f"{name} must be a date, not a datetime ({value!r}); pass value.date()")
    if not isinstance(value, date):
        raise FxError(f"{name} must be a date, got {value!r}")
    return value


def as_code(value: str) -> str:
    """``value`` when it is an ISO 4217 code; else :class:`FxError`."""
    problem = check_currency(value) if isinstance(value, str) else f"{value!r} is not a str"
    if problem is not None:
        raise FxError(f"{problem}; write it like 'USD'")
    return value
