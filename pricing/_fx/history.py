"""The European Central Bank's full reference-rate history (``eurofxref-hist.zip``) as an FX frame.

The ECB publishes every TARGET business day since 1999-01-04 in one CSV, ``eurofxref-hist.csv``,
zipped at https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip: a ``Date`` column, then
one column per currency in units per 1 EUR [currency/EUR], ``N/A`` where a currency has no rate
that day (legacy currencies, currencies added later), newest day first, and a comma ending
every line. :func:`parse_ecb_history` reads it, zipped or bare, into the FX frame of
:mod:`pricing._fx.frame`, checking what :func:`pricing._fx.ecb.parse_ecb_xml` checks.

:func:`build_history_file` writes the bundled ``data/fx/ecb-history.parquet`` from the zip::

    uv run python -m pricing._fx.history eurofxref-hist.zip data/fx/ecb-history.parquet

A download is untrusted: an archive may hold at most :data:`MAX_MEMBERS` members and its CSV
at most :data:`MAX_UNZIPPED` bytes once inflated (a zip bomb is refused, never inflated past
that), and the CSV at most :data:`MAX_DAYS` lines.
"""

from __future__ import annotations

import io
import lzma
import sys
import zipfile
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import polars as pl

from pricing._base.atomic import atomic_write
from pricing._fx.frame import (
    PER_EUR,
    bad_rate_text,
    check_currency,
    check_date,
    check_rate,
    sort_fx,
)
from pricing.errors import FxError

#: Source id of the bundled history in ``data/sources.toml``.
HISTORY_SOURCE = "ecb-eurofxref-hist"
#: Where the ECB publishes the history (updated every business day around 16:00 CET).
HISTORY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip"
#: The CSV inside the zip.
MEMBER = "eurofxref-hist.csv"
MAX_UNZIPPED = 64 * 1024 * 1024  # [bytes] of the CSV once inflated (the ECB's is ~2 MB)
MAX_MEMBERS = 16  # files in the zip (the ECB's holds one)
MAX_DAYS = 100_000  # lines of the CSV (the ECB adds ~256 a year)
MAX_COLUMNS = 400  # fields of a line
NO_RATE = "N/A"
_END = "_end"  # name of the empty field after the trailing comma
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,  # an unsupported compression method
    RuntimeError,  # encrypted
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
)

Fail = Callable[[str], NoReturn]


def parse_ecb_history(
    data: bytes, source: str = HISTORY_SOURCE, *, today: date | None = None
) -> pl.DataFrame:
    """Parse the ECB's reference-rate history (``eurofxref-hist.zip`` or its CSV).

    Parameters
    ----------
    data
        The zip as downloaded (holding ``eurofxref-hist.csv``), or the CSV itself (bytes).
    source
        Source id written in the ``source`` column (an id of ``data/sources.toml``).
    today
        The day a rate may not be dated more than one day after (default: today, UTC).

    Returns
    -------
    polars.DataFrame
        Columns ``date`` (Date), ``currency`` (String, ISO 4217), ``per_eur``
        (Decimal(38, 10), exact as published [currency/EUR]) and ``source``; one row per day
        and currency with a rate (``N/A`` cells are left out) and one ``EUR`` = 1 row per day.
        Sorted by currency, then date.

    Raises
    ------
    FxError
        Naming ``source`` and what is wrong: empty, a zip that cannot be read or holds too many
        members, no CSV or one too large once inflated, not UTF-8, a header other than
        ``Date,<ISO 4217 codes>``, a line with the wrong number of fields, a bad or future
        date, a day twice or without any rate, a bad, zero or negative rate. Nothing is returned
        unless the whole file is valid.
    """

    def fail(what: str) -> NoReturn:
        raise FxError(
            f"{source}: ECB reference-rate history {what}; nothing was read (check the download "
            f"or the file, e.g. {HISTORY_URL})"
        )

    if not data.strip():
        fail("is empty")
    raw = _unzip(data, fail) if data.startswith(b"PK") else data
    if len(raw) > MAX_UNZIPPED:
        fail(f"is {len(raw):,} bytes of CSV (at most {MAX_UNZIPPED:,}; the ECB's is about 2 MB)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"is not UTF-8 text ({exc})")
    wide = _wide(text, fail)
    long = _rates(wide, fail, today if today is not None else datetime.now(UTC).date())
    eur = wide.select("date", pl.lit("EUR").alias("currency"), pl.lit(1).alias("per_eur"))
    frame = pl.concat(
        [long.select("date", "currency", "per_eur"), eur.cast({"per_eur": PER_EUR})],
        how="vertical",
    )
    return sort_fx(frame.with_columns(pl.lit(source).alias("source")))


def _unzip(data: bytes, fail: Fail) -> bytes:
    """The CSV inside the zip ``data``, inflated to at most :data:`MAX_UNZIPPED` bytes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                fail(f"is a zip of {len(members)} files (at most {MAX_MEMBERS}; expected {MEMBER})")
            member = _member(members, fail)
            if member.file_size > MAX_UNZIPPED:
                fail(_too_large(member.filename, f"says it holds {member.file_size:,} bytes"))
            with archive.open(member) as fh:
                out = fh.read(MAX_UNZIPPED + 1)
    except _ZIP_ERRORS as exc:
        fail(f"is not a readable zip archive ({type(exc).__name__}: {exc})")
    if len(out) > MAX_UNZIPPED:
        fail(_too_large(member.filename, "inflates past the limit"))
    return out


def _too_large(name: str, what: str) -> str:
    return (
        f"zip member {name!r} {what}: more than {MAX_UNZIPPED:,} bytes once inflated "
        "(refused as a possible zip bomb; the ECB's file is about 2 MB)"
    )


def _member(members: list[zipfile.ZipInfo], fail: Fail) -> zipfile.ZipInfo:
    """The zip member to read: ``eurofxref-hist.csv``, or the only ``.csv`` file."""
    files = [m for m in members if not m.is_dir()]
    csvs = [m for m in files if m.filename.rsplit("/", 1)[-1].lower().endswith(".csv")]
    named = [m for m in csvs if m.filename.rsplit("/", 1)[-1] == MEMBER]
    if len(named) == 1:
        return named[0]
    if len(csvs) == 1 and not named:
        return csvs[0]
    listed = ", ".join(repr(m.filename) for m in files[:5]) or "nothing"
    fail(f"is a zip holding {listed}; expected one CSV file, {MEMBER}")


def _header(line: str, fail: Fail) -> list[str]:
    """The column names of the header line: ``Date``, the currency codes, then ``_end`` for the
    empty field after a trailing comma."""
    names = line.split(",")
    if names[0] != "Date":
        fail(
            f"does not start with the ECB history header: line 1 is {line[:60]!r}, expected "
            "'Date,USD,JPY,...' (neither a zip archive nor eurofxref-hist.csv)"
        )
    if len(names) > MAX_COLUMNS:
        fail(f"has {len(names)} columns (at most {MAX_COLUMNS})")
    trailing = names[-1] == ""
    codes = names[1:-1] if trailing else names[1:]
    if not codes:
        fail("has no currency columns after 'Date'")
    seen: set[str] = set()
    for code in codes:
        problem = check_currency(code)
        if problem is not None:
            fail(f"header: column {problem}")
        if code == "EUR":
            fail("header: lists EUR itself (the base currency has no rate)")
        if code in seen:
            fail(f"header: currency {code} appears twice")
        seen.add(code)
    return ["Date", *codes, *([_END] if trailing else [])]


def _wide(text: str, fail: Fail) -> pl.DataFrame:
    """One row per line: ``line`` (its number in the file), ``date`` (Date), ``Date`` and
    one String column per currency, every line checked to have the header's fields."""
    if text.count("\n") > MAX_DAYS:
        fail(f"has more than {MAX_DAYS:,} lines")
    lines = text.replace("\r\n", "\n").split("\n")
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    names = _header(lines[0], fail)
    rows = lines[1:]
    if not rows:
        fail("has a header but no days")
    commas = len(names) - 1
    for number, line in enumerate(rows, start=2):
        if line.count(",") != commas:
            what = "is blank" if not line.strip() else f"has {line.count(',') + 1} fields"
            fail(f"line {number} {what}; the header has {len(names)} (check the download)")
    split = pl.Series("row", rows, dtype=pl.String).str.split_exact(",", commas)
    wide = split.struct.rename_fields(names).struct.unnest().with_row_index("line", offset=2)
    if _END in names:
        extra = wide.filter(pl.col(_END) != "")
        if not extra.is_empty():
            fail(f"line {extra['line'][0]} has a value after the trailing comma")
        wide = wide.drop(_END)
    return _dated(wide, fail)


def _dated(wide: pl.DataFrame, fail: Fail) -> pl.DataFrame:
    """``wide`` with its ``Date`` text checked and parsed into ``date``; each day once."""
    text = pl.col("Date")
    parsed = text.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    wide = wide.with_columns(
        pl.when(text.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")).then(parsed).alias("date")
    )
    bad = wide.filter(pl.col("date").is_null())
    if not bad.is_empty():
        line, value = bad.row(0, named=True)["line"], bad.row(0, named=True)["Date"]
        fail(f"line {line}: {check_date(value) if value else 'the date is empty'}")
    twice = wide.filter(pl.col("date").is_duplicated()).sort("date", "line")
    if not twice.is_empty():
        day = twice["date"][0]
        lines = twice.filter(pl.col("date") == day)["line"].to_list()
        fail(f"lists day {day} twice (lines {lines[0]} and {lines[1]})")
    return wide


def _rates(wide: pl.DataFrame, fail: Fail, today: date) -> pl.DataFrame:
    """One row per day and currency with a rate: ``line, date, currency, per_eur`` checked."""
    latest = wide.sort("date").row(-1, named=True)
    if latest["date"] > today + timedelta(days=1):
        fail(
            f"line {latest['line']}: day {latest['date']} is in the future (today is {today}; "
            "a rate cannot be published before its day)"
        )
    codes = [c for c in wide.columns if c not in ("line", "date", "Date")]
    long = wide.unpivot(
        on=codes, index=["line", "date"], variable_name="currency", value_name="text"
    ).filter(pl.col("text") != NO_RATE)
    empty = wide.join(long.select("date").unique(), on="date", how="anti").sort("line")
    if not empty.is_empty():
        row = empty.row(0, named=True)
        fail(f"line {row['line']}: day {row['date']} has no rate (every column is {NO_RATE})")
    bad = long.filter(bad_rate_text(pl.col("text"))).sort("line", "currency")
    if not bad.is_empty():
        row = bad.row(0, named=True)
        reason = check_rate(row["text"]) if row["text"] else "rate is empty (no rate is N/A)"
        more = f" (and {bad.height - 1:,} more bad rates)" if bad.height > 1 else ""
        fail(f"line {row['line']} ({row['date']}), {row['currency']}: {reason}{more}")
    return long.with_columns(pl.col("text").cast(PER_EUR).alias("per_eur"))


def build_history_file(
    zip_path: str | Path, out_path: str | Path, *, source: str = HISTORY_SOURCE
) -> pl.DataFrame:
    """Write the history zip (or CSV) at ``zip_path`` as the Parquet FX file ``out_path``.

    The file holds the frame of :func:`parse_ecb_history` (columns ``date`` Date, ``currency``
    String, ``per_eur`` Decimal(38, 10) [currency/EUR], ``source``), sorted by currency then
    date, zstd-compressed; it is written beside ``out_path`` and moved over it, so a reader sees
    the old file or the new one. Returns the frame written.

    Raises
    ------
    FxError
        When the input cannot be read or is not a valid ECB history; nothing is written then.
    """
    try:
        data = Path(zip_path).read_bytes()
    except OSError as exc:
        raise FxError(f"cannot read {zip_path} ({exc.strerror or exc})") from None
    frame = parse_ecb_history(data, source)
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", compression_level=22, statistics=True)
    atomic_write(Path(out_path), buffer.getvalue())
    return frame


def main(argv: list[str] | None = None) -> int:
    """``python -m pricing._fx.history ZIP OUT``: :func:`build_history_file`; 0 on success."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(
            "usage: python -m pricing._fx.history eurofxref-hist.zip out.parquet", file=sys.stderr
        )
        return 2
    try:
        frame = build_history_file(args[0], args[1])
    except (FxError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    first, last = frame.select(pl.col("date").min(), pl.col("date").max()).row(0)
    print(f"wrote {args[1]}: {frame.height:,} rates, {first} to {last}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
