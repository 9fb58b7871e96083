"""NDJSON logs read a line at a time: a JSON object per line, or the line set aside.

A line that is not UTF-8, not JSON, not a JSON object, or names a key twice goes to the
quarantine with its line and the reason; the other lines are rows, their columns every key
any line has. Values stay text as a CSV would hold them. Blocks of flat objects of plain
values are read at once by polars (:func:`_plain_objects`); the other lines one by one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from pricing._usage.text_log import (
    LINE,
    NOT_UTF8,
    Feed,
    RowBlocks,
    TextLog,
    check_names,
    lossy,
    malformed_frame,
)

NOT_JSON = "line is not valid JSON"
NOT_OBJECT = "line is not a JSON object"


class _RepeatedKeyError(ValueError):
    """A JSON object names a key twice."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKeyError(key)
            seen.add(key)
    return out


#: One decoder for every line (``json.loads`` with a hook builds one per call); numbers and
#: NaN or Infinity are kept as the line spells them, as a CSV would hold them.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_float=str, parse_int=str, parse_constant=str
)


def _json_text(value: Any) -> str | None:
    """A JSON value as the text a CSV would hold: numbers in their JSON spelling."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def read_ndjson(feed: Feed, spill: Path | None) -> TextLog:
    """The objects of an NDJSON log, a row each; its columns are every key any line has, in
    the order they first appear. Flat objects of plain values are read a block at a time
    (:func:`_plain_objects`), the other lines one by one."""
    names: dict[str, int] = {}
    order: list[str] = []
    block = RowBlocks(spill)
    bad: list[tuple[int, str, str]] = []

    def known(keys: Iterable[str]) -> None:
        for key in keys:
            if key not in names:
                check_names([key], "key")
                names[key] = len(order)
                order.append(key)

    while (got := feed.block()) is not None:
        plain, others = _plain_objects(*got)
        if plain is not None:
            known(plain.columns[1:])
            block.flush(order)
            block.add_frame(plain, plain.columns[1:])
        for number, raw in others:
            record = _json_record(number, raw, bad)
            if record is None:
                continue
            if not record.keys() <= names.keys():
                known(record)
            row: list[str | None] = [None] * len(order)
            for key, value in record.items():
                row[names[key]] = value if type(value) is str else _json_text(value)
            block.add(number, row, order)
    return TextLog(block.frame(order), list(order), malformed_frame(bad))


#: JSON text of a flat object of plain values: strings without escapes or control
#: characters, numbers (exponents of at most two digits), true, false and null, JSON
#: whitespace only and none between a key and its colon.
_WS = r"[ \t\r]*"
_STRING = r'"[^"\\\x00-\x1f]*"'
_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,2})?"
_PAIR = rf"{_WS}{_STRING}:{_WS}(?:{_STRING}|{_NUMBER}|true|false|null){_WS}"
_FLAT = rf"^{_WS}\{{(?:{_PAIR}(?:,{_PAIR})*|{_WS})\}}{_WS}$"


def _plain_objects(
    first: int, lines: list[bytes]
) -> tuple[pl.DataFrame | None, list[tuple[int, bytes]]]:
    """The lines of a block that are flat objects of plain values with no key twice, read at
    once (``_line`` and a text column per key: numbers as polars writes them, e.g. 2.7 for
    2.70); and the other lines, to read one by one. A block that is not UTF-8 is all other
    lines."""
    try:
        text = b"\n".join(lines).decode("utf-8")
    except UnicodeDecodeError:
        return None, list(zip(range(first, first + len(lines)), lines, strict=True))
    line, keys = pl.col("_text"), pl.col("_keys")
    frame = (
        pl.DataFrame(
            {
                LINE: pl.int_range(first, first + len(lines), dtype=pl.Int64, eager=True),
                "_text": text.split("\n"),
            }
        )
        .filter(line.str.strip_chars(" \t\n\r\x0b\x0c") != "")  # blank lines hold no call
        .with_columns(_keys=line.str.extract_all(rf"{_STRING}:"))  # '"key":' each
        .with_columns(_plain=line.str.contains(_FLAT) & (keys.list.n_unique() == keys.list.len()))
    )
    others = frame.filter(~pl.col("_plain")).select(LINE, "_text").rows()
    plain = frame.filter("_plain")
    rows = None
    if plain.height:
        found = plain["_keys"].explode().drop_nulls().unique(maintain_order=True)
        names = found.str.slice(1, found.str.len_chars() - 3).to_list()
        check_names([k for k in names if k == LINE], "key")
        struct = pl.Struct(dict.fromkeys(names, pl.String))
        rows = plain.select(LINE, line.str.json_decode(struct).alias("_row")).unnest("_row")
    return rows, [(n, t.encode("utf-8")) for n, t in others]


def _json_record(number: int, raw: bytes, bad: list[tuple[int, str, str]]) -> dict[str, Any] | None:
    """The JSON object on line ``number``; None for a blank line, or one set aside in ``bad``."""
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        bad.append((number, NOT_UTF8, lossy(raw)))
        return None
    try:
        record = _DECODER.decode(text)
    except _RepeatedKeyError as exc:
        bad.append((number, f"key {exc.args[0]!r} appears more than once", text))
        return None
    except (ValueError, RecursionError):
        bad.append((number, NOT_JSON, text))
        return None
    if not isinstance(record, dict):
        bad.append((number, NOT_OBJECT, text))
        return None
    return record
