"""Exchange-rate lookups: the rate in force on a day, and exact cross rates through EUR.

The European Central Bank publishes on TARGET business days only, so a lookup takes the latest
rate dated on or before the day asked, and refuses one older than ``max_age_days`` [days].
Conversions go through EUR: ``amount [from] * fx_rate(from, to, on) = amount [to]`` with
``fx_rate = to_per_eur / from_per_eur``.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Literal

import polars as pl

from pricing._fx.frame import as_code, as_day, require_columns
from pricing._fx.store import load_fx
from pricing.errors import FxError

#: Fixed arithmetic for cross rates, so a result never depends on the caller's decimal context.
_CTX = Context(prec=28, rounding=ROUND_HALF_EVEN)
_REFRESH = "run `pricing fx pull` to refresh data/fx"


def _per_eur(fx: pl.DataFrame, currency: str, on: date, max_age_days: int) -> Decimal:
    """Latest ``per_eur`` of ``currency`` dated in [on - max_age_days, on] [currency/EUR]."""
    if currency == "EUR":
        return Decimal(1)
    return rate_used(fx, currency, on, max_age_days)[1]


def rate_used(
    fx: pl.DataFrame, currency: str, on: date, max_age_days: int
) -> tuple[date, Decimal, str]:
    """The rate a conversion on ``on`` uses for ``currency`` (not EUR): its day, ``per_eur``
    [currency/EUR] and source; :class:`FxError` when there is none or it is too old.

    The currency's rows are found by binary search when ``fx`` is sorted by currency, as
    :func:`load_fx` and the parsers return it (about 0.3 ms on the ~230,000 rows of the
    bundled history, against 1 ms for a filter of the whole frame), the day within them too.
    """
    rows = _currency_rows(fx, currency)
    if rows.is_empty():
        known = sorted({*fx["currency"].drop_nulls().unique().to_list(), "EUR"})
        shown = ", ".join(known[:40]) + (", ..." if len(known) > 40 else "")
        raise FxError(
            f"no exchange rate for {currency} in the FX data (asked for {on}; known currencies: "
            f"{shown}); {_REFRESH}, or add {currency} rates to data/fx"
        )
    dates = rows["date"]
    first: date = dates[0]
    last: date = dates[-1]
    end = _position(dates, on, "right")  # rows dated on or before ``on``
    if end == 0:
        raise FxError(
            f"no {currency} rate on or before {on}: the FX data for {currency} runs from "
            f"{first} to {last} (latest available {last}); add older rates to data/fx "
            "(e.g. from eurofxref-hist.zip, `pricing fx pull --history`)"
        )
    day: date = dates[end - 1]
    age = (on - day).days
    if age > max_age_days:
        raise FxError(
            f"the latest {currency} rate on or before {on} is from {day}, {age} days earlier "
            f"(more than max_age_days={max_age_days}; latest available {last}); {_REFRESH}, "
            "or pass a larger max_age_days"
        )
    start = _position(dates, day, "left")
    values = set(rows["per_eur"][start:end].to_list())
    if len(values) != 1:
        raise FxError(
            f"the FX data holds {len(values)} different {currency} rates on {day}; keep one row "
            "per date and currency"
        )
    (value,) = values
    if not isinstance(value, Decimal) or value <= 0:
        raise FxError(f"the {currency} rate on {day} is {value!r}, not a positive Decimal")
    source = rows["source"][start] if "source" in fx.columns else ""
    return day, value, str(source)


def _currency_rows(fx: pl.DataFrame, currency: str) -> pl.DataFrame:
    """The rows of ``currency`` with a date, sorted by date: a slice found by binary search
    when ``fx`` is flagged sorted by currency, else a filter of the whole frame."""
    codes = fx["currency"]
    if codes.flags["SORTED_ASC"] and codes.null_count() == 0:
        col = pl.col("currency")
        lo, hi = fx.select(
            col.search_sorted(currency, side="left").alias("lo"),
            col.search_sorted(currency, side="right").alias("hi"),
        ).row(0)
        rows = fx.slice(lo, hi - lo)
    else:
        rows = fx.filter(pl.col("currency") == currency)
    if rows["date"].null_count():
        rows = rows.filter(pl.col("date").is_not_null())
    if not rows["date"].is_sorted():
        rows = rows.sort("date", maintain_order=True)
    return rows


def _position(dates: pl.Series, day: date, side: Literal["left", "right"]) -> int:
    """Where ``day`` goes in the sorted ``dates`` (no nulls): before equal days, or after."""
    import numpy as np  # here, not at the top: a command that converts nothing never loads it

    return int(np.searchsorted(dates.to_numpy(), np.datetime64(day, "D"), side=side))


def fx_rate(
    from_currency: str,
    to_currency: str,
    on: date,
    *,
    fx: pl.DataFrame | None = None,
    max_age_days: int = 7,
) -> Decimal:
    """Exact conversion factor [to/from] on a day: ``amount_from * result = amount_to``.

    Parameters
    ----------
    from_currency, to_currency
        ISO 4217 codes, e.g. ``"USD"``, ``"GBP"``.
    on
        The day of the conversion. Each currency uses its latest rate dated on or before it.
    fx
        Rates as returned by :func:`load_fx` (default: the bundled ``data/fx``).
    max_age_days
        Oldest acceptable rate [days before ``on``]; the ECB publishes on business days only,
        so the default 7 bridges weekends and holidays.

    Returns
    -------
    Decimal
        ``to_per_eur / from_per_eur`` (cross rate via EUR, 28 significant digits);
        ``Decimal(1)`` for the same currency, without reading any data.

    Raises
    ------
    FxError
        When a currency is unknown, has no rate on or before ``on``, or its latest rate is
        more than ``max_age_days`` old; the message names the currency, the day asked and the
        latest day available.
    """
    src = as_code(from_currency)
    dst = as_code(to_currency)
    day = as_day(on, "on")
    if max_age_days < 0:
        raise FxError(f"max_age_days must be 0 or more, got {max_age_days}")
    if src == dst:
        return Decimal(1)
    frame = load_fx() if fx is None else fx
    require_columns(frame, ("date", "currency", "per_eur"), "fx_rate")
    if not isinstance(frame.schema["per_eur"], pl.Decimal):
        raise FxError(
            f"fx_rate needs exact rates: per_eur is {frame.schema['per_eur']}, not Decimal; "
            "pass the frame from load_fx() or parse_ecb_xml()"
        )
    from_per_eur = _per_eur(frame, src, day, max_age_days)
    to_per_eur = _per_eur(frame, dst, day, max_age_days)
    return _CTX.divide(to_per_eur, from_per_eur)
