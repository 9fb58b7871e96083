"""Dates and times: today in UTC, parsing ``as_of`` values, days and months as numbers.

Every calculation takes an explicit day; naive datetimes are refused rather than guessed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pricing.errors import PricingError

if TYPE_CHECKING:
    import polars as pl

DAY_US = 86_400_000_000  # [µs] in a day
HOURS_PER_MONTH = Decimal(730)  # [h] 8,760 h / 12: the average month, as GPU clouds quote it


def today_utc() -> date:
    """Today's date in UTC."""
    return datetime.now(UTC).date()


def to_date(value: date | datetime | str | None) -> date:
    """Accept a date, an aware datetime or an ISO string; ``None`` means today (UTC)."""
    if value is None:
        return today_utc()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PricingError(
                f"naive datetime {value.isoformat()} is ambiguous; pass a timezone-aware datetime "
                "(e.g. datetime(..., tzinfo=UTC)) or a date"
            )
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise PricingError(f"as_of {value!r} is not a date; write it as YYYY-MM-DD") from exc


def day_number(ts: pl.Expr) -> pl.Expr:
    """The UTC day of a UTC timestamp of any time unit, as days since 1970-01-01 (integer
    floor division: no calendar)."""
    return ts.dt.cast_time_unit("us").to_physical() // DAY_US


def day_of(ts: pl.Expr) -> pl.Expr:
    """The UTC day of a UTC timestamp, as a date (:func:`day_number`, no calendar)."""
    import polars as pl

    return day_number(ts).cast(pl.Int32).cast(pl.Date)


def month_window(month: str) -> tuple[date, date]:
    """First day of ``month`` (``YYYY-MM``) and first day of the month after."""
    try:
        year, mon = (int(p) for p in month.split("-"))
        start = date(year, mon, 1)
    except ValueError:
        raise PricingError(f"month {month!r} is not YYYY-MM (e.g. 2026-03)") from None
    end = date(year + 1, 1, 1) if mon == 12 else date(year, mon + 1, 1)
    return start, end
