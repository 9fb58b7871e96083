"""The number guard as polars expressions: each request number read in its range, or refused.

:data:`pricing._price.bounds.BOUNDS` gives every request number's range; here a column of any
type (integers, floats, decimals, text as a CSV gives it) is read against it in one way, so
``price_requests`` and ``replay`` refuse the same values whatever the table or log format:

- text is parsed as a number ("12", " 12 ", "12.0" and "1.2e1" are 12; "abc" is not a number);
- NaN and infinities are not finite; 2.7 images is not a whole number (never truncated to 2);
- values outside the range are refused, before any arithmetic could overflow on them;
- booleans, dates, lists and other types are not numbers.

:func:`guarded` gives a number's problem code per row (null: in range, or absent) and its
value; :func:`guarded_value` gives the value with :data:`REFUSED` in place of a refused one,
which every range check of the engine then fails.

On the way out, :func:`finite_money` takes out any amount that is NaN, infinite or negative
(unpriced, with the reason), and :func:`check_rates` refuses exchange rates that would make one.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from polars import col

from pricing._price.bounds import BOUNDS, Bound
from pricing.errors import PricingError

#: What is wrong with a number (the problem codes of :func:`guarded`).
NOT_A_NUMBER, NOT_FINITE, NOT_WHOLE, TOO_SMALL, TOO_LARGE = 1, 2, 3, 4, 5
PROBLEMS = (NOT_A_NUMBER, NOT_FINITE, NOT_WHOLE, TOO_SMALL, TOO_LARGE)
#: The value that stands for a refused number: below every range, so every check refuses it.
REFUSED = -1


@dataclass(frozen=True)
class Guarded:
    """A number column read against its range (over the columns :func:`guarded` adds).

    ``value`` is the number in its type (Int64 for whole numbers, Float64 otherwise), null
    where the row has none or it is refused; ``problem`` is null where the number is in range
    or absent, else the code of what is wrong with it (``NOT_A_NUMBER``...); ``blank`` is true
    where the row has no value (null, or only spaces in text).
    """

    value: pl.Expr
    problem: pl.Expr
    blank: pl.Expr


def _textual(dtype: pl.DataType) -> bool:
    return dtype == pl.String or dtype == pl.Categorical or isinstance(dtype, pl.Enum)


def guarded(
    name: str,
    source: pl.Expr,
    dtype: pl.DataType,
    bound: Bound | None = None,
    *,
    inline: bool = False,
) -> tuple[list[pl.Expr], Guarded]:
    """``source`` (of type ``dtype``) read as request number ``name`` (range ``BOUNDS[name]``).

    Returns the columns to add to the frame first (text and floats read once, named
    ``_<name>:...``), and the guard's expressions, which read them; with ``inline``, no
    columns and expressions that read ``source`` itself (slower on text: parsed each time).
    """
    bound = bound or BOUNDS[name]
    out_type = pl.Int64 if bound.whole else pl.Float64
    none = pl.lit(None, dtype=pl.Int8)
    if dtype.is_integer():
        small = source < bound.least
        if bound.above:
            small = small | (source == bound.least)
        ranged = (
            pl.when(small)
            .then(TOO_SMALL)
            .when(source > bound.most)
            .then(TOO_LARGE)
            .otherwise(none)
            .cast(pl.Int8)
        )
        value = pl.when(ranged.is_null()).then(source.cast(out_type, strict=False))
        return [], Guarded(value, ranged, source.is_null())
    key = f"_{name}:"
    if _textual(dtype):
        text = source.cast(pl.String).str.strip_chars()
        parts, (blank, whole, number) = _parts(
            {
                f"{key}blank": text.is_null() | (text == ""),
                f"{key}int": text.cast(pl.Int64, strict=False),
                f"{key}float": text.cast(pl.Float64, strict=False),
            },
            inline,
        )
        exact = whole if bound.whole else None
        unreadable = ~blank & number.is_null()
        return parts, _from_float(number, unreadable, blank, bound, out_type, exact)
    if dtype.is_float() or dtype.is_decimal():
        parts, (number,) = _parts({f"{key}float": source.cast(pl.Float64)}, inline)
        return parts, _from_float(number, pl.lit(False), number.is_null(), bound, out_type, None)
    # booleans, dates, lists...: present but not a number
    blank = source.is_null()
    flagged: pl.Expr = pl.when(~blank).then(pl.lit(NOT_A_NUMBER, dtype=pl.Int8))
    return [], Guarded(pl.lit(None, dtype=out_type), flagged, blank)


def _parts(exprs: dict[str, pl.Expr], inline: bool) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Columns to add (``exprs`` by name) and the references to them; or, ``inline``, no
    columns and the expressions themselves."""
    if inline:
        return [], list(exprs.values())
    return [e.alias(n) for n, e in exprs.items()], [pl.col(n) for n in exprs]


def _from_float(
    number: pl.Expr,
    unreadable: pl.Expr,
    blank: pl.Expr,
    bound: Bound,
    out_type: type[pl.DataType],
    exact: pl.Expr | None,
) -> Guarded:
    """A number read as Float64 (null where ``unreadable`` or ``blank``) against ``bound``.

    ``exact`` is the same number read as an integer where the text is one, so that a whole
    number keeps every digit (a float64 has 53 bits).
    """
    small = number < bound.least
    if bound.above:
        small = small | (number == bound.least)
    fractional = (number != number.floor()) if bound.whole else pl.lit(False)
    problem = (
        pl.when(unreadable)
        .then(NOT_A_NUMBER)
        .when(number.is_nan() | number.is_infinite())
        .then(NOT_FINITE)
        .when(fractional)
        .then(NOT_WHOLE)
        .when(small)
        .then(TOO_SMALL)
        .when(number > bound.most)
        .then(TOO_LARGE)
        .otherwise(pl.lit(None, dtype=pl.Int8))
        .cast(pl.Int8)
    )
    typed = number.cast(out_type, strict=False)
    if exact is not None:
        typed = pl.coalesce(exact, typed)
    value = pl.when(problem.is_null() & ~blank).then(typed)
    return Guarded(value, problem, blank)


def guarded_value(name: str, schema: pl.Schema, default: object) -> pl.Expr:
    """Request column ``name`` as a number in its range: :data:`REFUSED` where the row's value
    is refused, null where it has none, ``default`` when the table has no such column.

    One expression, so a text column is parsed in it more than once: tables of numbers (as
    ``replay`` hands on) are read without parsing."""
    bound = BOUNDS[name]
    out_type = pl.Int64 if bound.whole else pl.Float64
    if name not in schema:
        return pl.lit(default, dtype=out_type)
    _, g = guarded(name, pl.col(name), schema[name], inline=True)
    refused = pl.lit(REFUSED, dtype=out_type)
    return pl.when(g.problem.is_not_null()).then(refused).otherwise(g.value)


# --------------------------------------------------------------------------- money out

#: The money columns of a priced table [currency].
_MONEY = ("list_cost", "cost", "cost_high", "fee", "top_up")
#: The reason of a row whose money came out non-finite or negative: it is left unpriced.
NOT_FINITE_MONEY = (
    "the price is not a finite, non-negative amount in float64 (too large a price or "
    "volume); quote() prices the call exactly"
)


def finite_money(out: pl.DataFrame) -> pl.DataFrame:
    """``out`` with the money of any row whose money is NaN, infinite or negative taken out
    (null) and the reason said: no such amount ever leaves the engine as a price."""
    present = [n for n in _MONEY if n in out.columns]
    bad = pl.any_horizontal(
        [(~col(n).is_finite() | (col(n) < 0)).fill_null(False) for n in present]
    )
    if not out.select(bad.any()).item():
        return out
    reason = out.schema["reason"]
    return out.with_columns(
        *(pl.when(bad).then(None).otherwise(col(n)).alias(n) for n in present),
        pl.when(bad)
        .then(pl.lit(NOT_FINITE_MONEY))
        .otherwise(col("reason").cast(pl.String))
        .cast(reason)
        .alias("reason"),
    )


def check_rates(fx: pl.DataFrame) -> None:
    """Refuse exchange rates given as a table that are not positive, finite numbers: a zero
    rate would price calls at 0, a NaN or negative one at NaN or below 0."""
    if "per_eur" not in fx.columns:
        raise PricingError(
            "fx has no per_eur column; pass rates as pricing.load_fx() returns them "
            "(date, currency, per_eur: units of the currency per euro)"
        )
    rate = fx["per_eur"].cast(pl.Float64, strict=False)
    bad = fx.filter((~rate.is_finite() | (rate <= 0)).fill_null(True))
    if bad.height:
        first = bad.row(0, named=True)
        raise PricingError(
            f"fx has {bad.height:,} rate(s) that are not positive, finite numbers, e.g. "
            f"{first.get('currency')} on {first.get('date')}: per_eur {first['per_eur']!r}; "
            "give units of the currency per euro (e.g. 1.08 for USD)"
        )
