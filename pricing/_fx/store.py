"""Dated foreign-exchange rates: ECB reference-rate XML, ``data/fx/*.csv``, lookups.

Every rate is stored as ``per_eur``: units of a currency per 1 EUR [currency/EUR], exactly as
published (Decimal), with the id of its source in ``data/sources.toml``. The European Central
Bank publishes on TARGET business days only, so a lookup takes the latest rate dated on or
before the day asked, and refuses one older than ``max_age_days`` [days].

Conversions go through EUR: ``amount [from] * fx_rate(from, to, on) = amount [to]`` with
``fx_rate = to_per_eur / from_per_eur``.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import NoReturn
from xml.parsers import expat

import polars as pl

from pricing._base.atomic import atomic_write
from pricing._cards.loader import _load_model, _rel, bundled_data_dir
from pricing._cards.schema import SourcesFile
from pricing.errors import FxError, Problem, RateCardError

#: Namespace of the ECB ``eurofxref`` vocabulary (daily, 90-day and historical files).
ECB_NS = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
_CUBE = f"{{{ECB_NS}}}Cube"

#: Columns of every FX frame; ``per_eur`` is exact [currency/EUR].
PER_EUR = pl.Decimal(38, 10)
FX_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "date": pl.Date,
    "currency": pl.String,
    "per_eur": PER_EUR,
    "source": pl.String,
}
CSV_HEADER = ("date", "currency", "per_eur", "source")
FX_DIR = "fx"

_SCALE = 10  # decimal places kept by PER_EUR
_INT_DIGITS = 38 - _SCALE
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_RATE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
#: Fixed arithmetic for cross rates, so a result never depends on the caller's decimal context.
_CTX = Context(prec=28, rounding=ROUND_HALF_EVEN)
_REFRESH = "run `pricing fx pull` to refresh data/fx"


# --------------------------------------------------------------------------- values


def _check_date(text: str) -> date | str:
    """A calendar date written ``YYYY-MM-DD``, or the reason it is not one."""
    if not _DATE.match(text):
        return f"date {text!r} is not written YYYY-MM-DD"
    try:
        return date.fromisoformat(text)
    except ValueError:
        return f"date {text!r} is not a calendar date"


def _check_currency(text: str) -> str | None:
    """``None`` when ``text`` is an ISO 4217 code (three upper-case letters), else why not."""
    if _CURRENCY.match(text):
        return None
    return f"currency {text!r} is not an ISO 4217 code (three upper-case letters, e.g. USD)"


def _check_rate(text: str) -> Decimal | str:
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
    if len(frac.rstrip("0")) > _SCALE:
        return f"rate {text!r} has more than {_SCALE} decimal places"
    if len(whole.lstrip("0")) > _INT_DIGITS:
        return f"rate {text!r} has more than {_INT_DIGITS} digits before the point"
    return value


def _decimal_text(value: Decimal) -> str:
    """Exact plain text of a decimal: no exponent, no trailing zeros (``0.7823``, ``141.17``)."""
    return format(value.normalize(), "f")


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=FX_SCHEMA)


def _frame(
    dates: list[date], currencies: list[str], rates: list[Decimal], sources: list[str]
) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"date": dates, "currency": currencies, "per_eur": rates, "source": sources},
        schema=FX_SCHEMA,
    )
    return frame.sort(["currency", "date"])


# --------------------------------------------------------------------------- ECB XML


class _DtdRefusedError(Exception):
    """A DTD construct found while pre-scanning the XML."""


def _reject_dtd(data: bytes) -> None:
    """Scan ``data`` with expat, refusing DOCTYPE and ENTITY declarations before any expansion.

    Raises ``_DtdRefusedError`` naming the construct, or ``expat.ExpatError`` when it is not XML.
    """
    parser = expat.ParserCreate()

    def doctype(*_: object) -> NoReturn:
        raise _DtdRefusedError("a DOCTYPE declaration")

    def entity(*_: object) -> NoReturn:
        raise _DtdRefusedError("an ENTITY declaration")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = entity
    parser.Parse(data, True)


def parse_ecb_xml(data: bytes, *, source: str = "ecb-eurofxref") -> pl.DataFrame:
    """Parse European Central Bank reference rates (``eurofxref-daily.xml``, ``-hist.xml``).

    Parameters
    ----------
    data
        The XML document as downloaded (bytes). Each ``<Cube time="YYYY-MM-DD">`` holds
        ``<Cube currency="USD" rate="1.1831"/>`` children: units of currency per 1 EUR.
    source
        Source id written in the ``source`` column (an id of ``data/sources.toml``).

    Returns
    -------
    polars.DataFrame
        Columns ``date`` (Date), ``currency`` (String, ISO 4217), ``per_eur``
        (Decimal(38, 10), exact from the text [currency/EUR]) and ``source``; one extra row
        ``EUR`` = 1 per day. Sorted by currency, then date.

    Raises
    ------
    FxError
        Naming ``source`` and what is wrong: empty, not XML, DOCTYPE/ENTITY declarations
        (refused to avoid entity expansion), no ``<Cube time=...>``, a bad date, a bad, zero or
        negative rate, a bad currency code or a currency twice on one day. Nothing is returned
        unless the whole document is valid.
    """

    def fail(what: str) -> NoReturn:
        raise FxError(
            f"{source}: ECB reference-rate XML {what}; nothing was read (check the download "
            "or the file, e.g. https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml)"
        )

    if not data.strip():
        fail("is empty")
    try:
        _reject_dtd(data)
        root = ET.fromstring(data)
    except _DtdRefusedError as exc:
        fail(f"contains {exc} (refused: entity expansion is not allowed)")
    except (expat.ExpatError, ET.ParseError, ValueError, LookupError) as exc:
        fail(f"is not well-formed XML ({exc})")

    days = [c for c in root.iter(_CUBE) if "time" in c.attrib]
    if not days:
        fail(f'has no <Cube time="YYYY-MM-DD"> element in namespace {ECB_NS}')
    used: set[int] = set()
    dates: list[date] = []
    currencies: list[str] = []
    rates: list[Decimal] = []
    seen_days: set[date] = set()
    for day_cube in days:
        day = _check_date(day_cube.attrib["time"])
        if isinstance(day, str):
            fail(f"has a bad <Cube time>: {day}")
        if day in seen_days:
            fail(f"lists day {day} twice")
        seen_days.add(day)
        children = [c for c in day_cube if c.tag == _CUBE]
        if not children:
            fail(f"has no rates for day {day}")
        on_day: set[str] = set()
        for cube in children:
            used.add(id(cube))
            code = cube.attrib.get("currency")
            text = cube.attrib.get("rate")
            if code is None or text is None:
                fail(f"has a <Cube> on {day} without both `currency` and `rate` attributes")
            bad_code = _check_currency(code)
            if bad_code is not None:
                fail(f"on {day}: {bad_code}")
            if code == "EUR":
                fail(f"on {day}: lists EUR itself (the base currency has no rate)")
            if code in on_day:
                fail(f"on {day}: currency {code} appears twice")
            on_day.add(code)
            rate = _check_rate(text)
            if isinstance(rate, str):
                fail(f"on {day}: {code} {rate}")
            dates.append(day)
            currencies.append(code)
            rates.append(rate)
        dates.append(day)
        currencies.append("EUR")
        rates.append(Decimal(1))
    stray = [c for c in root.iter(_CUBE) if "currency" in c.attrib and id(c) not in used]
    if stray:
        code = stray[0].attrib["currency"]
        fail(f'has a rate for {code!r} outside a dated <Cube time="...">')
    return _frame(dates, currencies, rates, [source] * len(dates))


# --------------------------------------------------------------------------- data/fx/*.csv


def load_fx(root: Path | None = None) -> pl.DataFrame:
    """Load and validate every ``fx/*.csv`` of a data directory.

    Parameters
    ----------
    root
        The data directory (the one holding ``sources.toml``); default: the bundled ``data/``.

    Returns
    -------
    polars.DataFrame
        Columns ``date``, ``currency``, ``per_eur`` (Decimal(38, 10) [currency/EUR]) and
        ``source``, sorted by currency then date; empty (same schema) when ``fx/`` is absent.
        Cached until a CSV file or ``sources.toml`` changes.

    Raises
    ------
    RateCardError
        Listing every problem found, each with its file, line, field and fix: a header other
        than ``date,currency,per_eur,source``, a bad date, currency code or rate, a source id
        missing from ``sources.toml``, or the same (date, currency) twice across the files.
    """
    root = Path(root) if root is not None else bundled_data_dir()
    if not root.is_dir():
        raise RateCardError(
            [Problem(str(root), "not a directory", "pass the path of a data/ directory")]
        )
    return _load_fx_cached(root.resolve(), _fx_stamp(root)).clone()


def _fx_stamp(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cache key that changes whenever an FX file or the sources file changes."""
    fx_dir = root / FX_DIR
    files = sorted(fx_dir.glob("*.csv")) if fx_dir.is_dir() else []
    stamp = []
    for path in [*files, root / "sources.toml"]:
        try:
            st = path.stat()
            stamp.append((str(path), st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            stamp.append((str(path), -1, -1))
    return tuple(stamp)


@lru_cache(maxsize=8)
def _load_fx_cached(root: Path, stamp: tuple[tuple[str, int, int], ...]) -> pl.DataFrame:
    fx_dir = root / FX_DIR
    files = sorted(fx_dir.glob("*.csv")) if fx_dir.is_dir() else []
    if not files:
        return _empty()
    problems: list[Problem] = []
    sources = _load_model(root / "sources.toml", SourcesFile, root, problems)
    source_ids = {s.id for s in sources.source} if sources is not None else None
    first_seen: dict[tuple[date, str], tuple[str, int]] = {}
    dates: list[date] = []
    currencies: list[str] = []
    rates: list[Decimal] = []
    source_col: list[str] = []
    for path in files:
        rel = _rel(path, root)
        for line, row in _read_csv(path, rel, problems):
            parsed = _check_row(rel, line, row, source_ids, problems)
            if parsed is None:
                continue
            day, code, rate, sid = parsed
            earlier = first_seen.get((day, code))
            if earlier is not None:
                problems.append(
                    Problem(
                        rel,
                        f"{code} on {day} is also given in {earlier[0]} line {earlier[1]}",
                        "keep one row per date and currency across data/fx/*.csv",
                        field="currency",
                        line=line,
                    )
                )
                continue
            first_seen[(day, code)] = (rel, line)
            dates.append(day)
            currencies.append(code)
            rates.append(rate)
            source_col.append(sid)
    if problems:
        raise RateCardError(problems)
    return _frame(dates, currencies, rates, source_col)


def _read_csv(path: Path, rel: str, problems: list[Problem]) -> Iterable[tuple[int, list[str]]]:
    """Yield (line number, fields) of the data rows after checking the header."""
    header = ",".join(CSV_HEADER)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(rel, f"not UTF-8 text ({exc})", "save the file as UTF-8"))
        return
    if not text.strip():
        problems.append(
            Problem(rel, "file is empty", f"write the header `{header}` and rows, or delete it")
        )
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        first = next(reader)
        if tuple(first) != CSV_HEADER:
            problems.append(
                Problem(
                    rel,
                    f"header is {','.join(first)!r}",
                    f"make line 1 exactly `{header}`",
                    line=1,
                )
            )
            return
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        problems.append(
            Problem(rel, f"not valid CSV ({exc})", "fix the quoting", line=reader.line_num)
        )


def _check_row(
    rel: str,
    line: int,
    row: list[str],
    source_ids: set[str] | None,
    problems: list[Problem],
) -> tuple[date, str, Decimal, str] | None:
    """Validate one data row; record every problem and return ``None`` if there is any."""

    def bad(message: str, fix: str, field: str | None = None) -> None:
        problems.append(Problem(rel, message, fix, field=field, line=line))

    if len(row) != len(CSV_HEADER):
        what = "blank line" if not row else f"{len(row)} fields instead of {len(CSV_HEADER)}"
        bad(what, "write four values, e.g. `2015-01-07,USD,1.1831,ecb-eurofxref`, or delete it")
        return None
    day_text, code, rate_text, sid = row
    before = len(problems)
    day = _check_date(day_text)
    if isinstance(day, str):
        bad(day, "write the date as YYYY-MM-DD", "date")
    currency_problem = _check_currency(code)
    if currency_problem is not None:
        bad(currency_problem, "use the three-letter ISO 4217 code in upper case", "currency")
    rate = _check_rate(rate_text)
    if isinstance(rate, str):
        bad(
            rate,
            f"write units of currency per 1 EUR as a positive decimal (at most {_SCALE} places)",
            "per_eur",
        )
    elif code == "EUR" and rate != 1:
        bad(f"EUR per EUR is {rate_text!r}", "write 1 (EUR is the base currency)", "per_eur")
    if not sid:
        bad("source is empty", "cite a source id of data/sources.toml", "source")
    elif source_ids is not None and sid not in source_ids:
        bad(
            f"unknown source {sid!r}",
            "add it to data/sources.toml or cite an existing source id",
            "source",
        )
    if len(problems) > before or isinstance(day, str) or isinstance(rate, str):
        return None
    return day, code, rate, sid


def write_fx_csv(frame: pl.DataFrame, path: Path) -> None:
    """Write an FX frame as ``date,currency,per_eur,source`` CSV, atomically.

    Rows are sorted by currency then date; ``per_eur`` is written as exact plain decimal text
    (``0.7823``, ``141.17``). The file is written next to ``path`` and moved over it with
    ``os.replace``, so readers see the old file or the new one, never a partial one.

    Raises
    ------
    FxError
        When the frame lacks a column, ``per_eur`` is not a Decimal column, or a row is invalid
        (bad currency code, non-positive rate, empty source, a (date, currency) twice).
        Nothing is written then.
    """
    path = Path(path)
    _require_columns(frame, CSV_HEADER, "write_fx_csv")
    if not isinstance(frame.schema["per_eur"], pl.Decimal):
        raise FxError(
            f"write_fx_csv: per_eur is {frame.schema['per_eur']}, not Decimal; cast it with "
            f"pl.col('per_eur').cast({PER_EUR}) from exact values (floats are not exact)"
        )
    ordered = frame.select(CSV_HEADER).sort(["currency", "date"])
    lines = [",".join(CSV_HEADER)]
    errors: list[str] = []
    seen: set[tuple[date, str]] = set()
    for i, (day, code, rate, sid) in enumerate(ordered.iter_rows(), start=1):
        where = f"row {i} ({code} on {day})"
        if day is None or code is None or rate is None or sid is None:
            errors.append(f"{where}: has a null value")
            continue
        problem = _check_currency(code)
        if problem is not None:
            errors.append(f"{where}: {problem}")
        if rate <= 0:
            errors.append(f"{where}: rate {rate} is not positive")
        if not _SOURCE_ID.match(sid):
            errors.append(f"{where}: source {sid!r} is not a source id")
        if (day, code) in seen:
            errors.append(f"{where}: appears twice")
        seen.add((day, code))
        lines.append(f"{day.isoformat()},{code},{_decimal_text(rate)},{sid}")
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise FxError(f"write_fx_csv: not writing {path}: " + "; ".join(errors[:5]) + more)
    atomic_write(path, "\n".join(lines) + "\n")


def _require_columns(frame: pl.DataFrame, columns: Sequence[str], who: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FxError(
            f"{who}: the FX frame lacks column(s) {missing}; pass a frame from load_fx() or "
            "parse_ecb_xml() (columns date, currency, per_eur, source)"
        )


def _as_day(value: date, name: str) -> date:
    if isinstance(value, datetime):
        raise FxError(f"{name} must be a date, not a datetime ({value!r}); pass value.date()")
    if not isinstance(value, date):
        raise FxError(f"{name} must be a date, got {value!r}")
    return value


def _as_code(value: str) -> str:
    problem = _check_currency(value) if isinstance(value, str) else f"{value!r} is not a str"
    if problem is not None:
        raise FxError(f"{problem}; write it like 'USD'")
    return value


def _per_eur(fx: pl.DataFrame, currency: str, on: date, max_age_days: int) -> Decimal:
    """Latest ``per_eur`` of ``currency`` dated in [on - max_age_days, on] [currency/EUR]."""
    if currency == "EUR":
        return Decimal(1)
    return rate_used(fx, currency, on, max_age_days)[1]


def rate_used(
    fx: pl.DataFrame, currency: str, on: date, max_age_days: int
) -> tuple[date, Decimal, str]:
    """The rate a conversion on ``on`` uses for ``currency`` (not EUR): its day, ``per_eur``
    [currency/EUR] and source; :class:`FxError` when there is none or it is too old."""
    rows = fx.filter(pl.col("currency") == currency)
    if rows.is_empty():
        known = sorted(set(fx["currency"].to_list()) | {"EUR"})
        shown = ", ".join(known[:40]) + (", ..." if len(known) > 40 else "")
        raise FxError(
            f"no exchange rate for {currency} in the FX data (asked for {on}; known currencies: "
            f"{shown}); {_REFRESH}, or add {currency} rates to data/fx"
        )
    first: date = rows["date"].min()  # type: ignore[assignment]
    last: date = rows["date"].max()  # type: ignore[assignment]
    before = rows.filter(pl.col("date") <= on)
    if before.is_empty():
        raise FxError(
            f"no {currency} rate on or before {on}: the FX data for {currency} runs from "
            f"{first} to {last} (latest available {last}); add older rates to data/fx "
            "(e.g. from eurofxref-hist.xml)"
        )
    day: date = before["date"].max()  # type: ignore[assignment]
    age = (on - day).days
    if age > max_age_days:
        raise FxError(
            f"the latest {currency} rate on or before {on} is from {day}, {age} days earlier "
            f"(more than max_age_days={max_age_days}; latest available {last}); {_REFRESH}, "
            "or pass a larger max_age_days"
        )
    values = set(before.filter(pl.col("date") == day)["per_eur"].to_list())
    if len(values) != 1:
        raise FxError(
            f"the FX data holds {len(values)} different {currency} rates on {day}; keep one row "
            "per date and currency"
        )
    (value,) = values
    if not isinstance(value, Decimal) or value <= 0:
        raise FxError(f"the {currency} rate on {day} is {value!r}, not a positive Decimal")
    source = before.filter(pl.col("date") == day)["source"][0] if "source" in fx.columns else ""
    return day, value, str(source)


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
    src = _as_code(from_currency)
    dst = _as_code(to_currency)
    day = _as_day(on, "on")
    if max_age_days < 0:
        raise FxError(f"max_age_days must be 0 or more, got {max_age_days}")
    if src == dst:
        return Decimal(1)
    frame = load_fx() if fx is None else fx
    _require_columns(frame, ("date", "currency", "per_eur"), "fx_rate")
    if not isinstance(frame.schema["per_eur"], pl.Decimal):
        raise FxError(
            f"fx_rate needs exact rates: per_eur is {frame.schema['per_eur']}, not Decimal; "
            "pass the frame from load_fx() or parse_ecb_xml()"
        )
    from_per_eur = _per_eur(frame, src, day, max_age_days)
    to_per_eur = _per_eur(frame, dst, day, max_age_days)
    return _CTX.divide(to_per_eur, from_per_eur)


def fx_days(
    fx: pl.DataFrame | None,
    currencies: Iterable[str],
    start: date,
    end: date,
    max_age_days: int = 7,
) -> pl.DataFrame:
    """One rate per calendar day and currency, for vectorised conversion by join.

    Parameters
    ----------
    fx
        Rates as returned by :func:`load_fx` (``None``: the bundled ``data/fx``).
    currencies
        ISO 4217 codes wanted; duplicates are ignored.
    start, end
        First and last day, inclusive.
    max_age_days
        Oldest rate carried forward [days]; rates dated before ``start`` count too.

    Returns
    -------
    polars.DataFrame
        Columns ``date`` (Date), ``currency`` (String), ``per_eur`` (Float64
        [currency/EUR]), one row per day in [start, end] per currency, sorted by currency then
        date. ``per_eur`` is the latest rate dated on or before the day and at most
        ``max_age_days`` old, null when there is none (never guessed); EUR is always 1.
    """
    first = _as_day(start, "start")
    last = _as_day(end, "end")
    if last < first:
        raise FxError(f"fx_days: end {last} is before start {first}")
    if max_age_days < 0:
        raise FxError(f"max_age_days must be 0 or more, got {max_age_days}")
    codes = list(dict.fromkeys(_as_code(c) for c in currencies))
    frame = load_fx() if fx is None else fx
    _require_columns(frame, ("date", "currency", "per_eur"), "fx_days")
    days = pl.DataFrame({"date": pl.date_range(first, last, eager=True)})
    grid = pl.DataFrame({"currency": codes}, schema={"currency": pl.String}).join(days, how="cross")
    rates = (
        frame.lazy()
        .filter(pl.col("currency").is_in(codes) & (pl.col("date") <= last))
        .select(
            pl.col("date").cast(pl.Date),
            pl.col("currency").cast(pl.String),
            pl.col("per_eur").cast(pl.Float64),
        )
        .sort("date")
        .collect()
    )
    out = grid.sort("date").join_asof(
        rates,
        on="date",
        by="currency",
        strategy="backward",
        tolerance=timedelta(days=max_age_days),
        check_sortedness=False,  # both sides are sorted by date just above
    )
    eur = pl.when(pl.col("currency") == "EUR").then(pl.lit(1.0)).otherwise(pl.col("per_eur"))
    return out.select("date", "currency", eur.alias("per_eur")).sort(["currency", "date"])
