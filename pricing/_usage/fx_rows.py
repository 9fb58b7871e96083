"""A usage log's costs in another currency: each call at the exchange rate of its own day.

Usage happened on its day, so the rate it converts at is known, never assumed: the ECB
reference rate of the call's UTC day (on a weekend or holiday the last business day's, at most
``max_fx_age_days`` old) or a rate you gave. A priced call whose day has no such rate is left
unpriced with the reason (:func:`fx_reason`), never guessed and never 0. Each conversion made
is kept (:meth:`UsageFx.used`) and tabled by :func:`fx_rates_frame`.

Two ways in: :meth:`UsageFx.rows` converts priced rows (``price_requests``' output, float money,
before the ledger sums) in one join on their (day, currency); :meth:`UsageFx.days` converts
day sums (``Replay.days``, exact Decimal at ledger scale) exactly, for a budget.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal

import polars as pl

from pricing._base.money import LEDGER_PLACES
from pricing._cards.catalog import Catalog
from pricing._fx.convert import Conversion, Converter
from pricing._quote.compare import FX_RATE
from pricing._quote.fx import times
from pricing.errors import FxError

#: The money columns of a priced request table, converted together [currency].
MONEY_COLUMNS = ("list_cost", "cost", "cost_high", "fee", "top_up")
#: ``fx_rates_frame``: one row per (day, currency) converted.
FX_RATES_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "day": pl.Date,
    "from": pl.String,
    "to": pl.String,
    "rate": FX_RATE,
    "rate_day": pl.Date,
    "source": pl.String,
    "kind": pl.String,
}
_PLACES = Decimal(1).scaleb(-LEDGER_PLACES)
_WIDE = Context(prec=80, rounding=ROUND_HALF_EVEN)


class UsageFx:
    """Converts usage into ``converter``'s currency at each day's rate (it must not plan)."""

    def __init__(self, converter: Converter) -> None:
        if converter.planning:
            raise FxError(
                "usage converts at the rate of each call's own day, never a planning rate: "
                "pass a Converter made with planning=False"
            )
        self.converter = converter
        self.target = converter.target
        self._found: dict[tuple[date, str], Conversion | str] = {}
        #: Calls that :meth:`rows` left unpriced for want of a rate [calls] (``count=True``).
        self.unpriced_calls = 0

    def lookup(self, day: date, currency: str) -> Conversion | str:
        """The conversion of ``currency`` on ``day``, or why there is none (a reason)."""
        key = (day, currency)
        if key not in self._found:
            try:
                self._found[key] = self.converter.convert(currency, day)
            except FxError:
                self._found[key] = fx_reason(self.converter, currency)
        return self._found[key]

    def used(self) -> tuple[Conversion, ...]:
        """The conversions made so far (not same-currency ones), by currency then day."""
        made = [c for c in self._found.values() if isinstance(c, Conversion) and c.kind != "same"]
        return tuple(sorted(made, key=lambda c: (c.from_currency, c.asked)))

    def rows(self, priced: pl.DataFrame, *, count: bool = False) -> pl.DataFrame:
        """Priced request rows with their money columns in the target currency, each at the
        rate of its ``priced_on`` day, and ``currency`` the target; a priced row with no rate
        loses its price (``reason`` says why). ``count`` adds those rows to
        :attr:`unpriced_calls`."""
        present = [c for c in MONEY_COLUMNS if c in priced.columns]
        wanted = (
            priced.lazy()
            .filter(pl.col("reason").is_null() & pl.col("currency").is_not_null())
            .select(pl.col("priced_on"), pl.col("currency").cast(pl.String))
            .unique()
            .collect()
        )
        table = self._table(wanted.iter_rows())
        rated = priced.with_columns(_fx_cur=pl.col("currency").cast(pl.String)).join(
            table,
            left_on=["priced_on", "_fx_cur"],
            right_on=["_fx_day", "_fx_cur"],
            how="left",
            maintain_order="left",
        )
        lost = pl.col("reason").is_null() & pl.col("_fx_reason").is_not_null()
        if count:
            self.unpriced_calls += int(rated.select(lost.sum()).item())
        reason = (
            pl.when(lost).then(pl.col("_fx_reason")).otherwise(pl.col("reason").cast(pl.String))
        )
        target = pl.when(pl.col("currency").is_not_null()).then(pl.lit(self.target))
        return rated.with_columns(
            *[pl.when(~lost).then(pl.col(c) * pl.col("_fx_rate")).alias(c) for c in present],
            reason.cast(priced.schema["reason"]).alias("reason"),
            target.cast(priced.schema["currency"]).alias("currency"),
        ).drop("_fx_cur", "_fx_rate", "_fx_reason")

    def _table(self, keys: Iterable[tuple[date, str]]) -> pl.DataFrame:
        """_fx_day, _fx_cur, _fx_rate (float [target/currency]; 1 for the target itself) and
        _fx_reason (why there is no rate) of each (day, currency)."""
        rows: list[tuple[date, str, float | None, str | None]] = []
        for day, cur in keys:
            found = self.lookup(day, cur)
            if isinstance(found, Conversion):
                rows.append((day, cur, float(found.rate), None))
            else:
                rows.append((day, cur, None, found))
        return pl.DataFrame(
            rows,
            schema={
                "_fx_day": pl.Date,
                "_fx_cur": pl.String,
                "_fx_rate": pl.Float64,
                "_fx_reason": pl.String,
            },
            orient="row",
        )

    def days(self, days: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, Decimal]]:
        """Day sums (``Replay.days``) in the target currency, exactly: each priced group's
        cost x the rate of its day, at ledger scale (half even); a group whose day has no rate
        loses its price (``reason`` says why). Also the cost converted, per currency it was
        priced in [that currency] (the target's own included)."""
        out: list[tuple[object, ...]] = []
        listed: dict[str, Decimal] = {}
        for row in days.iter_rows(named=True):
            cur, cost = row["currency"], row["cost"]
            if row["reason"] is None and cur is not None and cost is not None:
                found = self.lookup(row["day"], cur)
                if isinstance(found, Conversion):
                    listed[cur] = listed.get(cur, Decimal(0)) + cost
                    cost = times(cost, found.rate).quantize(_PLACES, context=_WIDE)
                    row = {**row, "cost": cost}
                else:
                    row = {**row, "cost": None, "reason": found}
            row = {**row, "currency": self.target if cur is not None else None}
            out.append(tuple(row[c] for c in days.columns))
        return pl.DataFrame(out, schema=days.schema, orient="row"), listed


def priced_elsewhere(cat: Catalog, currency: str) -> bool:
    """Whether any price of the catalog is in another currency than ``currency``."""
    return any(v.currency != currency for _, o in cat.all_offers() for v in o.versions)


def fx_reason(converter: Converter, currency: str) -> str:
    """Why calls in ``currency`` cannot be converted on their day: one text per currency (so
    calls count together by reason), saying what rates there are and how to get more."""
    target = converter.target
    legs = [c for c in dict.fromkeys((currency, target)) if c != "EUR"]
    held = []
    for leg in legs:
        days = converter.fx.filter(pl.col("currency") == leg)["date"]
        first, last = days.min(), days.max()
        span = "none" if days.is_empty() else f"{first!s} to {last!s}"
        held.append(f"{leg} rates: {span}")
    pair = f"EUR{currency}" if currency != "EUR" else f"EUR{target}"
    return (
        f"no {currency} to {target} exchange rate within {converter.max_age_days} day(s) "
        f"before the call's day ({'; '.join(held)}); usage is never converted at a guessed "
        f"rate: run `pricing fx pull`, allow older rates (--max-fx-age-days), or give a "
        f"rate, e.g. --fx {pair}=..."
    )


def fx_rates_frame(conversions: Iterable[Conversion]) -> pl.DataFrame:
    """day (asked), from, to, rate [to/from], rate_day (the rate's own day; null for yours),
    source and kind of each conversion."""
    rows = [
        (c.asked, c.from_currency, c.to_currency, c.rate, c.day, c.source, c.kind)
        for c in conversions
    ]
    return pl.DataFrame(rows, schema=FX_RATES_SCHEMA, orient="row")
