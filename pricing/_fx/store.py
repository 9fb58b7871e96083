"""The FX data files ``data/fx/*.csv`` and ``data/fx/*.parquet``: format, reading and checking.

Every rate is stored as ``per_eur``: units of a currency per 1 EUR [currency/EUR], exactly as
published (Decimal), with the id of its source in ``data/sources.toml``, one row
``date,currency,per_eur,source`` per day and currency. The bundled ECB history since 1999
(~230,000 rows) is the Parquet file ``fx/ecb-history.parquet`` (columns ``date`` Date,
``currency`` String, ``per_eur`` Decimal(38, 10), ``source`` String; built by
:func:`pricing._fx.history.build_history_file`), checked column-wise at load; ``fx/ecb.csv`` is
where ``pricing fx pull`` appends the days published since. A day and currency is given once
across all the files. :func:`fx_days` reads the rates as one per calendar day for vectorised
conversion (the scalar lookups are in :mod:`pricing._fx.rates`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import polars as pl

from pricing._base.atomic import atomic_write
from pricing._cards.files import read_text
from pricing._cards.loader import bundled_data_dir, load_model, relative_path
from pricing._cards.schema import SourcesFile
from pricing._fx.frame import (
    FX_SCHEMA,
    PER_EUR,
    PER_EUR_PLACES,
    as_code,
    as_day,
    check_currency,
    check_date,
    check_rate,
    empty_fx,
    fx_columns,
    require_columns,
    valid_fx_rows,
)
from pricing.errors import FxError, Problem, RateCardError

CSV_HEADER = ("date", "currency", "per_eur", "source")
FX_DIR = "fx"
#: How a Parquet FX file is made again (the bundled one: data/fx/ecb-history.parquet).
PARQUET_FIX = (
    "rebuild it with `python -m pricing._fx.history eurofxref-hist.zip <file>` "
    "(pricing._fx.history.build_history_file)"
)
SHOWN = 20  # duplicate rows reported one by one; the rest are counted
_FILE = "_file"  # column: index of the file a row was read from
_LINE = "_line"  # column: its CSV line, or Parquet row (from 1)
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def _decimal_text(value: Decimal) -> str:
    """Exact plain text of a decimal: no exponent, no trailing zeros (``0.7823``, ``141.17``)."""
    return format(value.normalize(), "f")


def fx_csv_line(day: date, currency: str, per_eur: Decimal, source: str) -> str:
    """One CSV row of ``data/fx`` (no newline): ``2015-01-07,USD,1.1831,ecb-eurofxref``."""
    return f"{day.isoformat()},{currency},{_decimal_text(per_eur)},{source}"


def load_fx(root: Path | None = None) -> pl.DataFrame:
    """Load and validate every ``fx/*.csv`` and ``fx/*.parquet`` of a data directory.

    Parameters
    ----------
    root
        The data directory (the one holding ``sources.toml``); default: the bundled ``data/``,
        whose ``fx/ecb-history.parquet`` holds the ECB's reference rates since 1999-01-04.

    Returns
    -------
    polars.DataFrame
        Columns ``date``, ``currency``, ``per_eur`` (Decimal(38, 10) [currency/EUR]) and
        ``source``, sorted by currency then date; empty (same schema) when ``fx/`` is absent.
        Cached until an FX file or ``sources.toml`` changes.

    Raises
    ------
    RateCardError
        Listing every problem found, each with its file, line (CSV) or row (Parquet), field
        and fix: a CSV header other than ``date,currency,per_eur,source``, Parquet columns
        other than those four with their types, a bad date, currency code or rate, EUR other
        than 1, a source id missing from ``sources.toml``, or the same (date, currency) twice
        across the files.
    """
    root = Path(root) if root is not None else bundled_data_dir()
    if not root.is_dir():
        raise RateCardError(
            [Problem(str(root), "not a directory", "pass the path of a data/ directory")]
        )
    try:
        resolved = root.resolve()
    except (OSError, RuntimeError):  # pragma: no cover - is_dir() above refuses a link loop
        resolved = root.absolute()
    return _load_fx_cached(resolved, _fx_stamp(root)).clone()


def fx_files(root: Path) -> list[Path]:
    """The FX files of a data directory, ``fx/*.csv`` and ``fx/*.parquet``, sorted by name: a
    (date, currency) given twice is reported in the later file."""
    fx_dir = root / FX_DIR
    if not fx_dir.is_dir():
        return []
    return sorted([*fx_dir.glob("*.csv"), *fx_dir.glob("*.parquet")])


def _fx_stamp(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cache key that changes whenever an FX file or the sources file changes."""
    stamp = []
    for path in [*fx_files(root), root / "sources.toml"]:
        try:
            st = path.stat()
            stamp.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:  # missing, or a link loop: the loader names the problem
            stamp.append((str(path), -1, -1))
    return tuple(stamp)


@lru_cache(maxsize=8)
def _load_fx_cached(root: Path, stamp: tuple[tuple[str, int, int], ...]) -> pl.DataFrame:
    files = fx_files(root)
    if not files:
        return empty_fx()
    problems: list[Problem] = []
    sources = load_model(root / "sources.toml", SourcesFile, root, problems)
    source_ids = {s.id for s in sources.source} if sources is not None else None
    names = [relative_path(path, root) for path in files]
    frames: list[pl.DataFrame] = []
    for number, (path, rel) in enumerate(zip(files, names, strict=True)):
        if path.suffix == ".parquet":
            frame = _parquet_frame(path, rel, source_ids, problems)
        else:
            frame = _csv_frame(path, rel, source_ids, problems)
        if frame is not None:
            number_col = pl.lit(number, pl.UInt32).alias(_FILE)
            frames.append(frame.select(*FX_SCHEMA, pl.col(_LINE).cast(pl.UInt32), number_col))
    if not frames:
        raise RateCardError(problems)
    # Stable: rows of one (date, currency) stay in file order, the first one given first.
    rows = pl.concat(frames).sort(["currency", "date"], maintain_order=True)
    problems.extend(_duplicates(rows, names))
    if problems:
        raise RateCardError(problems)
    return rows.select(list(FX_SCHEMA))


def _csv_frame(
    path: Path, rel: str, source_ids: set[str] | None, problems: list[Problem]
) -> pl.DataFrame:
    """The valid rows of one CSV file, in file order, with their line numbers (``_LINE``)."""
    lines: list[int] = []
    dates: list[date] = []
    currencies: list[str] = []
    rates: list[Decimal] = []
    source_col: list[str] = []
    for line, row in _read_csv(path, rel, problems):
        parsed = _check_row(rel, line, row, source_ids, problems)
        if parsed is not None:
            lines.append(line)
            dates.append(parsed[0])
            currencies.append(parsed[1])
            rates.append(parsed[2])
            source_col.append(parsed[3])
    columns = {"date": dates, "currency": currencies, "per_eur": rates, "source": source_col}
    return pl.DataFrame(columns, schema=FX_SCHEMA).with_columns(
        pl.Series(_LINE, lines, dtype=pl.UInt32)
    )


def _duplicates(rows: pl.DataFrame, names: list[str]) -> list[Problem]:
    """A problem for each (date, currency) given again after its first row (the first
    :data:`SHOWN` of them, then their count), naming where it was given first. ``rows`` are
    sorted by currency and date, rows of a pair in file order."""
    repeat = (pl.col("currency") == pl.col("currency").shift()) & (
        pl.col("date") == pl.col("date").shift()
    )
    if not rows.select(repeat.any()).item():
        return []
    again = ~pl.struct("date", "currency").is_first_distinct()
    twice = rows.filter(again).sort(_FILE, _LINE)
    first = rows.filter(~again).select(
        "date", "currency", pl.col(_FILE, _LINE).name.suffix("_first")
    )
    shown = twice.head(SHOWN).join(
        first,
        on=["date", "currency"],
        how="left",
        maintain_order="left",
    )
    fix = "keep one row per date and currency across data/fx/*.csv and data/fx/*.parquet"
    found = []
    for row in shown.iter_rows(named=True):
        rel = names[row[_FILE]]
        earlier = _where(names[row[f"{_FILE}_first"]], row[f"{_LINE}_first"])
        message = f"{row['currency']} on {row['date']} is also given in {earlier}"
        if rel.endswith(".parquet"):
            found.append(Problem(rel, f"row {row[_LINE]}: {message}", fix, field="currency"))
        else:
            found.append(Problem(rel, message, fix, field="currency", line=row[_LINE]))
    if twice.height > SHOWN:
        more = f"and {twice.height - SHOWN:,} more rows repeat a (date, currency) given earlier"
        found.append(Problem(names[twice[_FILE][SHOWN]], more, fix))
    return found


def _parquet_frame(
    path: Path, rel: str, source_ids: set[str] | None, problems: list[Problem]
) -> pl.DataFrame | None:
    """The valid rows of one Parquet file with their row numbers (``_LINE``, from 1); the
    columns and every row checked at once, each kind of problem reported with its first rows."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        problems.append(Problem(rel, "is a directory, not a file", f"replace {rel} with a file"))
        return None
    except OSError as exc:
        problems.append(Problem(rel, f"cannot be read ({exc.strerror or exc})", "check it"))
        return None
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        why = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        problems.append(Problem(rel, f"is not a readable Parquet file ({why})", PARQUET_FIX))
        return None
    typed = fx_columns(frame, rel, PARQUET_FIX, problems)
    if typed is None:
        return None
    return valid_fx_rows(typed.with_row_index(_LINE, offset=1), rel, _LINE, source_ids, problems)


def _where(rel: str, line: int) -> str:
    """``data/fx/a.csv line 2`` or ``data/fx/b.parquet row 2``."""
    return f"{rel} {'row' if rel.endswith('.parquet') else 'line'} {line}"


def _read_csv(path: Path, rel: str, problems: list[Problem]) -> Iterable[tuple[int, list[str]]]:
    """Yield (line number, fields) of the data rows after checking the header."""
    header = ",".join(CSV_HEADER)
    text = read_text(path, rel, problems)
    if text is None:
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
    day = check_date(day_text)
    if isinstance(day, str):
        bad(day, "write the date as YYYY-MM-DD", "date")
    currency_problem = check_currency(code)
    if currency_problem is not None:
        bad(currency_problem, "use the three-letter ISO 4217 code in upper case", "currency")
    rate = check_rate(rate_text)
    if isinstance(rate, str):
        bad(
            rate,
            "write units of currency per 1 EUR as a positive decimal "
            f"(at most {PER_EUR_PLACES} places)",
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
    require_columns(frame, CSV_HEADER, "write_fx_csv")
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
        problem = check_currency(code)
        if problem is not None:
            errors.append(f"{where}: {problem}")
        if rate <= 0:
            errors.append(f"{where}: rate {rate} is not positive")
        if not _SOURCE_ID.match(sid):
            errors.append(f"{where}: source {sid!r} is not a source id")
        if (day, code) in seen:
            errors.append(f"{where}: appears twice")
        seen.add((day, code))
        lines.append(fx_csv_line(day, code, rate, sid))
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise FxError(f"write_fx_csv: not writing {path}: " + "; ".join(errors[:5]) + more)
    atomic_write(path, "\n".join(lines) + "\n")


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
    first = as_day(start, "start")
    last = as_day(end, "end")
    if last < first:
        raise FxError(f"fx_days: end {last} is before start {first}")
    if max_age_days < 0:
        raise FxError(f"max_age_days must be 0 or more, got {max_age_days}")
    codes = list(dict.fromkeys(as_code(c) for c in currencies))
    frame = load_fx() if fx is None else fx
    require_columns(frame, ("date", "currency", "per_eur"), "fx_days")
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
