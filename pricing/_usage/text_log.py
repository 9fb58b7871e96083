"""Text logs read a line at a time, so that one malformed line never stops the rest; CSV here.

A text log (CSV, TSV, NDJSON; gzipped or not) is read once, as bytes: each record becomes a
row of text values with its 1-based file line (``_line``), and each line that is not a
record goes aside with its line and the reason, to the quarantine:

- a line that is not UTF-8 (Latin-1 bytes, a binary file);
- a CSV row with more or fewer fields than the header, or broken quoting (a quoted field
  that never closes swallows no further lines: the line is set aside and reading goes on
  with the next one);
- an NDJSON line that is not JSON, not a JSON object, or names a key twice
  (:mod:`pricing._usage.json_log`).

Blank lines are skipped (they hold no call). Values stay text, as the log spells them, so
every format is checked by one number guard. Blocks of plain lines (no quotes) are read at
once by polars, the others a line at a time. Rows are handed on in blocks: written to Arrow
IPC files in a spill directory (a log larger than memory), or kept in memory when no
directory is given.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

import polars as pl

from pricing.errors import PricingError

#: The column of a read log holding each row's 1-based line in the file (row in a table).
LINE = "_line"
#: Schema of the lines that are not rows: line, reason, value (the line as text).
MALFORMED_SCHEMA = {"line": pl.Int64, "reason": pl.String, "value": pl.String}
#: A quoted CSV field may run over this many lines before its opening line is set aside.
MAX_SPAN = 64
_BLOCK = 100_000  # rows per block written to the spill
_CHUNK = 1 << 22  # [bytes] read at a time

#: The field separators a CSV log may use: the one its header line holds is read.
SEPARATOR_CHOICES = (",", ";", "\t", "|")

NOT_UTF8 = "line is not UTF-8 text; save the log as UTF-8"
UNBALANCED = 'unbalanced quote: a quoted field (") opens and never closes'


@dataclass(frozen=True)
class TextLog:
    """A text log read: its rows (``_line`` and the columns, as text), its column names and
    the lines that are not rows (:data:`MALFORMED_SCHEMA`)."""

    rows: pl.LazyFrame
    names: list[str]
    malformed: pl.DataFrame


class RowBlocks:
    """Rows gathered into blocks: Arrow IPC files in ``spill``, or frames in memory."""

    def __init__(self, spill: Path | None) -> None:
        self.spill = spill
        if spill is not None:
            spill.mkdir(parents=True, exist_ok=True)
        self.lines: list[int] = []
        self.rows: list[Sequence[str | None]] = []
        self.frames: list[pl.DataFrame] = []
        self.files: list[Path] = []

    def add(self, line: int, row: Sequence[str | None], names: list[str]) -> None:
        self.lines.append(line)
        self.rows.append(row)
        if len(self.rows) >= _BLOCK:
            self.flush(names)

    def flush(self, names: list[str]) -> None:
        """Hand on the rows added one by one."""
        if not self.rows:
            return
        width = len(names)
        lines = pl.Series(LINE, self.lines, dtype=pl.Int64)
        if width:
            rows = [[*r, *[None] * (width - len(r))] if len(r) < width else r for r in self.rows]
            frame = pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String), orient="row")
            frame = frame.select(lines, *names)
        else:
            frame = lines.to_frame()
        self.lines, self.rows = [], []
        self.add_frame(frame, names)

    def add_frame(self, frame: pl.DataFrame, names: list[str]) -> None:
        """Hand on a frame of rows (``_line`` and text columns)."""
        # an empty field is no value, as polars' own CSV reader has it
        frame = frame.with_columns(pl.when(pl.col(n) != "").then(pl.col(n)).alias(n) for n in names)
        if self.spill is None:
            self.frames.append(frame)
            return
        path = self.spill / f"log-{len(self.files):06d}.arrow"
        frame.write_ipc(path, compression="lz4")
        self.files.append(path)

    def frame(self, names: list[str]) -> pl.LazyFrame:
        self.flush(names)
        schema = {LINE: pl.Int64, **dict.fromkeys(names, pl.String)}
        parts = [pl.scan_ipc(path, glob=False) for path in self.files]
        parts += [frame.lazy() for frame in self.frames]
        if not parts:
            return pl.DataFrame(schema=schema).lazy()
        # an NDJSON block lacks the keys first seen after it: null there
        return pl.concat(
            [_with_columns(part, schema) for part in parts], how="vertical", rechunk=False
        )


def _with_columns(part: pl.LazyFrame, schema: dict[str, type[pl.DataType]]) -> pl.LazyFrame:
    """``part`` with every column of ``schema``, in its order (null where it has none)."""
    have = part.collect_schema().names()
    return part.select(
        pl.col(n) if n in have else pl.lit(None, dtype=dtype).alias(n)
        for n, dtype in schema.items()
    )


def _open(path: Path, gz: bool) -> BinaryIO:
    if gz:
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


class Feed:
    """The lines of a binary file: in blocks of about :data:`_CHUNK` bytes (whole lines), or
    one at a time (lines put back come first). Lines are bytes without their line end; a
    UTF-8 BOM at the start is dropped."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.next_number = 1
        self.queue: deque[tuple[int, bytes]] = deque()

    def block(self) -> tuple[int, list[bytes]] | None:
        """The next lines (their first line's number), when no single lines are queued."""
        if self.queue:
            return None
        data = self.handle.read(_CHUNK)
        if not data:
            return None
        data += self.handle.readline()
        if self.next_number == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        lines = data.split(b"\n")
        if lines[-1] == b"" and len(lines) > 1:
            lines.pop()  # the block ends with a line end
        lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        first = self.next_number
        self.next_number += len(lines)
        return first, lines

    def line(self) -> tuple[int, bytes] | None:
        """The next line, one at a time."""
        if not self.queue:
            got = self.block()
            if got is None:
                return None
            first, lines = got
            self.queue.extend(zip(range(first, first + len(lines)), lines, strict=True))
        return self.queue.popleft()

    def put_back(self, lines: list[tuple[int, bytes]]) -> None:
        self.queue.extendleft(reversed(lines))

    def queued(self) -> tuple[int, list[bytes]] | None:
        """The queued lines as a block (they follow each other), taken off the queue."""
        if not self.queue:
            return None
        first = self.queue[0][0]
        lines = [line for _, line in self.queue]
        self.queue.clear()
        return first, lines


def lossy(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def read_text_log(
    path: Path, reader: Callable[[Feed, Path | None], TextLog], *, gz: bool, spill: Path | None
) -> TextLog:
    """Read the text log at ``path`` (gzipped when ``gz``) with ``reader``: :func:`read_csv`
    or :func:`pricing._usage.json_log.read_ndjson`."""
    try:
        with _open(path, gz) as handle:
            return reader(Feed(handle), spill)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise PricingError(f"cannot read the usage log {path}: {exc}") from exc


# --------------------------------------------------------------------------- CSV


def sniff_separator(path: Path, *, gz: bool, default: str) -> str:
    """The field separator of the CSV log at ``path``: of :data:`SEPARATOR_CHOICES`, the one
    its header line (the first line that is not blank) holds most often outside quotes
    (``default`` on a tie, or when it holds none: a log of one column). A semicolon CSV, as
    spreadsheets write it where the decimal mark is a comma, is read like any other."""
    try:
        with _open(path, gz) as handle:
            line = handle.readline(_CHUNK)
            while line and not line.strip():
                line = handle.readline(_CHUNK)
    except (OSError, EOFError, gzip.BadGzipFile):
        return default  # reading the log says what is wrong
    text = re.sub(r'"[^"]*"', "", lossy(line.removeprefix(b"\xef\xbb\xbf")))
    counts = {sep: text.count(sep) for sep in SEPARATOR_CHOICES}
    best = max(counts.values())
    if best == 0 or counts[default] == best:
        return default
    return next(sep for sep in SEPARATOR_CHOICES if counts[sep] == best)


def _header(feed: Feed, sep: str) -> list[str]:
    """The column names of the first non-blank line; a clear error when there is none, it is
    not text, or it names a column twice."""
    while (item := feed.line()) is not None and not item[1].strip():
        pass
    if item is None:
        raise PricingError(
            "the usage log is empty; it needs a header line naming its columns "
            "(timestamp, provider, model, ...)"
        )
    try:
        text = item[1].decode("utf-8")
        names = next(csv.reader([text], delimiter=sep, strict=True))
    except (UnicodeDecodeError, csv.Error, StopIteration) as exc:
        raise PricingError(
            f"the header line of the usage log cannot be read ({exc}); save the log as UTF-8 "
            "CSV with one header line of column names"
        ) from exc
    names = [name if name else f"column_{i}" for i, name in enumerate(names, start=1)]
    check_names(names, "column")
    return names


def check_names(names: list[str], what: str) -> None:
    """Refuse a log whose columns repeat a name, or use the name reserved for lines."""
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise PricingError(
            f"the usage log names the {what}(s) {', '.join(map(repr, twice))} more than once, so "
            "it is ambiguous which value is meant; rename or drop the repeats"
        )
    if LINE in names:
        raise PricingError(
            f"the usage log has a {what} named {LINE!r}, a name replay() keeps for line "
            "numbers; rename it"
        )


def _ragged(fields: int, width: int) -> str:
    return f"row has {fields} field(s); the header has {width}"


class _CsvRecords:
    """CSV records read a line at a time (the lines that are not records set aside)."""

    def __init__(self, feed: Feed, sep: str, width: int) -> None:
        self.feed = feed
        self.sep = sep
        self.width = width
        self.bad: list[tuple[int, str, str]] = []

    def next(self) -> tuple[int, list[str]] | None:
        """The next record of the queued lines (None: a line set aside or skipped)."""
        item = self.feed.line()
        if item is None:
            return None
        number, raw = item
        if not raw.strip():
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.bad.append((number, NOT_UTF8, lossy(raw)))
            return None
        fields = self._fields(number, text)
        if fields is None:
            return None
        if len(fields) != self.width:
            self.bad.append((number, _ragged(len(fields), self.width), text))
            return None
        return number, fields

    def _fields(self, number: int, text: str) -> list[str] | None:
        """The fields of the record starting at line ``number`` (None: set aside)."""
        if '"' not in text:
            return text.split(self.sep)
        try:
            return next(csv.reader([text], delimiter=self.sep, strict=True), [])
        except csv.Error as exc:
            if "unexpected end of data" not in str(exc):
                self.bad.append((number, f"row cannot be read as CSV: {exc}", text))
                return None
        return self._spanning(number, text)

    def _spanning(self, number: int, text: str) -> list[str] | None:
        """The fields of a record whose quoted field runs over the next lines; when it does not
        close into a row of the header's width within :data:`MAX_SPAN` lines, its first line
        is set aside and the lines after it are read again as records of their own."""
        ahead: list[tuple[int, bytes]] = []
        parts = [text]
        while len(ahead) < MAX_SPAN and (item := self.feed.line()) is not None:
            ahead.append(item)
            try:
                parts.append(item[1].decode("utf-8"))
            except UnicodeDecodeError:
                break
            if item[1].count(b'"') % 2 == 0:
                continue  # the quote is still open
            try:
                record = ["\n".join(parts)]
                fields = next(csv.reader(record, delimiter=self.sep, strict=True), [])
            except csv.Error:
                break
            if len(fields) == self.width:
                return fields
            break
        self.bad.append((number, UNBALANCED, text))
        self.feed.put_back(ahead)
        return None


def _plain_block(
    first: int, lines: list[bytes], sep: str, names: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """A block of lines without quotes, read at once: its rows, and its ragged rows as
    malformed lines; None when the block has a quote or is not UTF-8 (read a line at a
    time)."""
    raw = b"\n".join(lines)
    if b'"' in raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    width = len(names)
    frame = pl.DataFrame(
        {
            LINE: pl.int_range(first, first + len(lines), dtype=pl.Int64, eager=True),
            "_text": text.split("\n"),
        }
    ).filter(pl.col("_text").str.strip_chars() != "")
    fields = pl.col("_text").str.count_matches(sep, literal=True) + 1
    frame = frame.with_columns(_fields=fields)
    ragged = frame.filter(pl.col("_fields") != width).select(
        pl.col(LINE).alias("line"),
        pl.format("row has {} field(s); the header has {}", "_fields", pl.lit(width)).alias(
            "reason"
        ),
        pl.col("_text").alias("value"),
    )
    good = frame.filter(pl.col("_fields") == width)
    split = pl.col("_text").str.split_exact(sep, width - 1).struct.rename_fields(names)
    rows = good.select(LINE, split.alias("_row")).unnest("_row")
    return rows, ragged


def read_csv(feed: Feed, spill: Path | None, sep: str = ",") -> TextLog:
    """The rows of a CSV log: blocks of plain lines read at once, lines with quotes or
    bytes that are not UTF-8 a line at a time."""
    names = _header(feed, sep)
    records = _CsvRecords(feed, sep, len(names))
    block = RowBlocks(spill)
    ragged: list[pl.DataFrame] = []
    got = feed.queued()  # the rest of the header's block
    while True:
        if got is None and feed.queue:  # lines to read one at a time
            record = records.next()
            if record is not None:
                block.add(record[0], record[1], names)
            continue
        got = got or feed.block()
        if got is None:
            break
        plain = _plain_block(*got, sep, names)
        if plain is None:
            feed.put_back(list(zip(range(got[0], got[0] + len(got[1])), got[1], strict=True)))
            got = None
            continue
        got = None
        block.flush(names)
        block.add_frame(plain[0], names)
        ragged.append(plain[1])
    malformed = pl.concat([malformed_frame(records.bad), *ragged])
    return TextLog(block.frame(names), names, malformed.sort("line"))


def malformed_frame(bad: list[tuple[int, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(bad, schema=MALFORMED_SCHEMA, orient="row").sort("line")
