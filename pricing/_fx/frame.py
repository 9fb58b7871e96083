"""The FX frame: its columns and exact types, and the checks of the values it holds.

An FX frame has one row per day and currency: ``per_eur`` is units of the currency per 1 EUR
[currency/EUR], exact (Decimal) as published, with the id of its source. The ECB parser, the
``data/fx`` CSV store and the rate lookups all build and check frames with these helpers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import polars as pl

from pricing.errors import FxError, Problem

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


def bad_rate_text(text: pl.Expr) -> pl.Expr:
    """Vectorised :func:`check_rate`: true where the text is not a rate ``check_rate`` accepts
    (not a plain decimal, zero, more places or digits than ``PER_EUR`` holds)."""
    whole = text.str.extract(r"^([0-9]+)", 1).str.strip_chars_start("0").str.len_chars()
    frac = text.str.extract(r"\.([0-9]+)$", 1).fill_null("").str.strip_chars_end("0")
    return (
        ~text.str.contains(_RATE.pattern)
        | text.str.contains(r"^0+(\.0+)?$")
        | (frac.str.len_chars() > PER_EUR_PLACES)
        | (whole > PER_EUR_DIGITS)
    ).fill_null(value=True)


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
    return sort_fx(frame)


def sort_fx(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame``'s FX columns in order, sorted by currency then date (the order every FX frame
    is returned in, which the rate lookups use to find a currency by binary search)."""
    return frame.select(list(FX_SCHEMA)).sort(["currency", "date"])


def fx_columns(
    frame: pl.DataFrame, rel: str, fix_all: str, problems: list[Problem]
) -> pl.DataFrame | None:
    """``frame`` (read from the file ``rel``) with the FX columns in order, ``per_eur`` as
    ``PER_EUR``; None when a column is missing, extra or of another type, each recorded with
    ``fix_all`` (how the file is made again)."""
    if sorted(frame.columns) != sorted(FX_SCHEMA):
        problems.append(
            Problem(
                rel,
                f"has the columns {', '.join(frame.columns) or 'none'}",
                f"write exactly the columns {', '.join(FX_SCHEMA)}; {fix_all}",
            )
        )
        return None
    before = len(problems)
    for name, want in FX_SCHEMA.items():
        got = frame.schema[name]
        ok = got == want
        if name == "per_eur":
            ok = isinstance(got, pl.Decimal) and (got.scale or 0) <= PER_EUR_PLACES
        if not ok:
            fix = f"store it as {want} (exact decimals for per_eur, never floats); {fix_all}"
            problems.append(Problem(rel, f"column {name} is {got}, not {want}", fix, field=name))
    if len(problems) > before:
        return None
    try:
        return frame.select(list(FX_SCHEMA)).cast({"per_eur": PER_EUR})
    except pl.exceptions.PolarsError:
        what = f"a per_eur value has more than {PER_EUR_DIGITS} digits before the point"
        problems.append(Problem(rel, what, fix_all, field="per_eur"))
        return None


#: (mask of bad rows, field, what is wrong (given the bad rows), fix) of a check of FX rows.
_Check = tuple[pl.Expr, str | None, Callable[[pl.DataFrame], str], str]


def _row_checks(source_ids: set[str] | None) -> list[_Check]:
    """The checks of :func:`valid_fx_rows`."""
    code, rate, sid = pl.col("currency"), pl.col("per_eur"), pl.col("source")
    known = sid.is_in(sorted(source_ids)) if source_ids is not None else pl.lit(value=True)
    return [
        (
            pl.any_horizontal(pl.col(list(FX_SCHEMA)).is_null()),
            None,
            lambda _: "a value is missing (null)",
            "give every row a date, currency, per_eur and source",
        ),
        (
            ~code.str.contains(r"^[A-Z]{3}$"),
            "currency",
            lambda _: "the currency is not an ISO 4217 code (three upper-case letters)",
            "use the three-letter ISO 4217 code in upper case",
        ),
        (
            rate <= 0,
            "per_eur",
            lambda _: "the rate is zero or negative",
            "store units of currency per 1 EUR as a positive decimal",
        ),
        (
            (code == "EUR") & (rate != 1),
            "per_eur",
            lambda _: "EUR per EUR is not 1",
            "store 1 (EUR is the base currency)",
        ),
        (
            (sid == "") | ~known,
            "source",
            lambda bad: (
                "unknown source "
                + ", ".join(repr(s) for s in bad["source"].unique(maintain_order=True).head(5))
            ),
            "add it to data/sources.toml or cite an existing source id",
        ),
    ]


def _rows(bad: pl.DataFrame, line: str) -> str:
    """``2 rows, e.g. row 5 (USD on 2015-01-07, per_eur 0, source 'x'); row 9 (...)``: how
    many bad rows, and the first three."""
    shown = [
        f"row {r[line]} ({r['currency']} on {r['date']}, per_eur "
        f"{format(r['per_eur'].normalize(), 'f') if r['per_eur'] is not None else None}, "
        f"source {r['source']!r})"
        for r in bad.head(3).iter_rows(named=True)
    ]
    count = f"{bad.height:,} row{'s' if bad.height > 1 else ''}"
    return f"{count}, e.g. {'; '.join(shown)}" if bad.height > 1 else shown[0]


def valid_fx_rows(
    frame: pl.DataFrame,
    rel: str,
    line: str,
    source_ids: set[str] | None,
    problems: list[Problem],
) -> pl.DataFrame:
    """The rows of ``frame`` (typed by :func:`fx_columns`) that pass every check, at once.

    The checks are those of a CSV row: no null, an ISO 4217 code, a positive rate, EUR = 1 and
    a source id of ``source_ids`` (``None``: not checked). Each kind of problem is recorded
    once for ``rel``, with the number of rows and the first few by their ``line`` column (a
    null is reported by the first check only).
    """
    checks = _row_checks(source_ids)
    flags = frame.select(
        [mask.fill_null(value=False).alias(str(i)) for i, (mask, *_) in enumerate(checks)]
    )
    for i, (_, field, what, fix) in enumerate(checks):
        bad = frame.filter(flags[str(i)])
        if not bad.is_empty():
            problems.append(Problem(rel, f"{what(bad)} in {_rows(bad, line)}", fix, field=field))
    return frame.filter(~pl.any_horizontal(flags))


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
