"""A usage log read: its columns, its rows with their lines, and the quarantine's reasons.

A log is CSV, Parquet or NDJSON with one row per call (:data:`LOG_COLUMNS`), or a polars
table. A path names one file, read as it is spelt (never a glob pattern), or a directory of
Parquet files (:mod:`pricing._usage.parquet_dir`). :func:`read_log` reads it under the
standard column names, each row with its line (``_line``): Parquet lazily, CSV and NDJSON a
line at a time (:mod:`pricing._usage.text_log`), which sets aside the lines that are not
rows; a column named twice is refused. The checks of each row are in
:mod:`pricing._usage.row_checks`; a quarantined row's reason (:func:`quarantine_reason`) is a
fixed text so that rows count by reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial, reduce
from operator import or_
from pathlib import Path

import polars as pl

from pricing._usage.column_hints import likely_column
from pricing._usage.json_log import read_ndjson
from pricing._usage.parquet_check import check_parquet
from pricing._usage.parquet_dir import scan_parquet_dir
from pricing._usage.text_log import (
    LINE,
    MALFORMED_SCHEMA,
    check_names,
    read_csv,
    read_text_log,
    sniff_separator,
)
from pricing.errors import PricingError

#: Standard log columns: name -> (required, meaning). Map other names with ``mapping=``.
LOG_COLUMNS: dict[str, tuple[bool, str]] = {
    "timestamp": (True, "ISO 8601 time of the call; without an offset it is taken as UTC"),
    "provider": (True, 'provider id as in `pricing cards list`, e.g. "bfl"'),
    "model": (True, 'model id, e.g. "flux-2-pro"'),
    "offer_id": (False, "the exact offer, where a provider has several for one model"),
    "operation": (False, "generate (default), edit, inpaint, upscale, ..."),
    "width": (False, "output width [px]; default 1024"),
    "height": (False, "output height [px]; default 1024"),
    "count": (False, "images made by the call; default 1"),
    "steps": (False, "inference steps"),
    "quality": (False, "quality level (low, medium, high, hd, ...)"),
    "input_images": (False, "reference images sent with the call; default 0"),
    "seconds": (False, "run time per image [s], for per-GPU-second offers"),
    "prompt_tokens": (False, "prompt text tokens, for token-priced offers"),
    "input_image_tokens": (False, "image-input tokens of the call, for token-priced edits"),
    "account": (False, 'billing account; default "default"'),
    "billed_cost": (False, "what the provider billed for the call, for reconciliation"),
}
#: OpenAI's request names, read as the standard columns when the log has none of those:
#: ``n`` is ``count``, ``size`` ("1536x1024", or "auto": unknown) gives ``width`` and ``height``.
LOG_ALIASES: dict[str, tuple[str, ...]] = {"n": ("count",), "size": ("width", "height")}
#: The log's number columns and their types (each typed as ``_<name>`` by :func:`checked_log`).
NUMERIC_COLUMNS = {
    "width": pl.Int64,
    "height": pl.Int64,
    "count": pl.Int64,
    "steps": pl.Int64,
    "input_images": pl.Int64,
    "seconds": pl.Float64,
    "prompt_tokens": pl.Int64,
    "input_image_tokens": pl.Int64,
    "billed_cost": pl.Float64,
}
#: The field separator of each text format read as CSV, unless its header line holds another
#: (:func:`pricing._usage.text_log.sniff_separator`: ``;``, tab or ``|``).
SEPARATORS = {"csv": ",", "tsv": "\t"}
#: Why a row is quarantined (a fixed text) and the offending value (or None).
Message = tuple[pl.Expr, pl.Expr | None]


@dataclass(frozen=True)
class LogFrame:
    """A log read under the standard column names.

    ``frame`` has the log's columns (``names``) and ``_line``: each row's 1-based line in its
    file (a text log's header is line 1), or its 1-based row in a table or Parquet file.
    ``malformed`` holds the lines of a text log that are not rows: line, reason, value (the
    line as text), for the quarantine.
    """

    frame: pl.LazyFrame
    names: list[str]
    malformed: pl.DataFrame


def scan_log(
    log: str | Path | pl.DataFrame | pl.LazyFrame, mapping: Mapping[str, str] | None = None
) -> pl.LazyFrame:
    """The log as a LazyFrame with standard column names (``mapping``: log name -> standard).

    OpenAI's ``n`` is read as ``count`` when the log has no ``count`` column, and ``size`` is
    kept for the checks (see :data:`LOG_ALIASES`); other columns are kept as they are
    (:func:`unknown_columns` names them). A path is one file, never a pattern. CSV and NDJSON
    are read as text, a line at a time, so a malformed value reaches the checks rather than
    failing the whole read; Parquet keeps its types.

    Raises
    ------
    PricingError
        The log cannot be read, or has lines that are not rows (a ragged CSV row, a line
        that is not UTF-8 or not JSON...): :func:`pricing.replay` quarantines those instead.
    """
    read = read_log(log, mapping, spill=None)
    if read.malformed.height:
        first = read.malformed.row(0, named=True)
        raise PricingError(
            f"the usage log has {read.malformed.height:,} line(s) that are not rows, the first "
            f"at line {first['line']}: {first['reason']}; replay() prices the other lines and "
            "lists these in its quarantine"
        )
    return read.frame.drop(LINE)


def read_log(
    log: str | Path | pl.DataFrame | pl.LazyFrame,
    mapping: Mapping[str, str] | None,
    spill: Path | None,
) -> LogFrame:
    """The log under standard names, with each row's line and the lines that are not rows.

    A text log's rows are written to files in ``spill`` (kept in memory when None);
    the caller removes the directory when it is done with the frame.
    """
    frame, names, malformed = _source(log, spill)
    renames = dict(mapping or {})
    if renames:
        _check_mapping(renames, names)
    if "n" in names and "count" not in names and "count" not in renames.values():
        renames["n"] = "count"  # OpenAI's name; read like a mapping
    if renames:
        names = [renames.get(n, n) for n in names]
        check_names(names, "column")
        frame = frame.rename(renames)
    has_offer = "offer_id" in names
    missing = [
        n
        for n, (required, _) in LOG_COLUMNS.items()
        if required and n not in names and not (has_offer and n in ("provider", "model"))
    ]
    if missing:
        raise PricingError(
            f"the log has no {', '.join(missing)} column; its columns are {', '.join(names)}. "
            'Rename them with mapping={"your_name": "timestamp", ...}'
        )
    return LogFrame(frame, names, malformed)


def _check_mapping(mapping: Mapping[str, str], names: list[str]) -> None:
    missing = [k for k in mapping if k not in names]
    if missing:
        raise PricingError(
            f"mapping names columns the log does not have: {', '.join(missing)}; "
            f"its columns are {', '.join(names)}"
        )
    unknown = [v for v in mapping.values() if v not in LOG_COLUMNS and v not in LOG_ALIASES]
    if unknown:
        raise PricingError(
            f"mapping targets {', '.join(unknown)} are not log columns; "
            f"use {', '.join([*LOG_COLUMNS, *LOG_ALIASES])}"
        )
    kept = [n for n in names if n not in mapping]
    clash = sorted(
        {v for v in mapping.values() if v in kept or list(mapping.values()).count(v) > 1}
    )
    if clash:
        raise PricingError(
            f"mapping would give the log two {', '.join(clash)} columns (the log has one "
            "already, or two columns map to it); map only one column to each name"
        )


def _source(
    log: str | Path | pl.DataFrame | pl.LazyFrame, spill: Path | None
) -> tuple[pl.LazyFrame, list[str], pl.DataFrame]:
    """The log as it is, with ``_line``; its columns; its lines that are not rows."""
    none = pl.DataFrame(schema=MALFORMED_SCHEMA)
    if isinstance(log, pl.DataFrame | pl.LazyFrame):
        lf = log.lazy()
        names = lf.collect_schema().names()
        check_names(names, "column")
        return (
            lf.with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64)),
            names,
            none,
        )
    path = Path(log)
    kind, gz = _format(path)
    if kind == "directory":  # of Parquet files, Hive-partitioned or not
        lf, names = scan_parquet_dir(path)
        check_names(names, "column")
        return (
            lf.with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64)),
            names,
            none,
        )
    if kind in ("csv", "tsv", "ndjson"):
        if kind == "ndjson":
            reader = read_ndjson
        else:
            sep = sniff_separator(path, gz=gz, default=SEPARATORS[kind])
            reader = partial(read_csv, sep=sep)
        text = read_text_log(path, reader, gz=gz, spill=spill)
        return text.rows, text.names, text.malformed
    check_parquet(path)
    try:
        lf = pl.scan_parquet(path, glob=False)
        names = lf.collect_schema().names()
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
        raise PricingError(
            f"cannot read the usage log {path} as Parquet: {first_line(exc)}; check that "
            "it is a valid Parquet file"
        ) from exc
    check_names(names, "column")
    return lf.with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64)), names, none


def _format(path: Path) -> tuple[str, bool]:
    """The log's format by its file's extension, and whether it is gzipped; "directory" for a
    directory (of Parquet files: :mod:`pricing._usage.parquet_dir`). The path is taken as it
    is spelt: ``usage[1].csv`` is that file, never a pattern."""
    if path.is_dir():
        return "directory", False
    if not path.exists():
        raise PricingError(f"usage log {path} does not exist (the path is read as it is spelt)")
    gz = path.suffix.lower() == ".gz"
    suffix = (path.with_suffix("").suffix if gz else path.suffix).lower()
    kinds = {".csv": "csv", ".tsv": "tsv", ".ndjson": "ndjson", ".jsonl": "ndjson"}
    kinds |= {".json": "ndjson", ".parquet": "parquet", ".pq": "parquet"}
    kind = kinds.get(suffix)
    if kind is None or (gz and kind == "parquet"):
        raise PricingError(
            f"cannot tell the format of {path.name}; name it .csv, .parquet or .ndjson "
            "(.tsv, .jsonl, and the text formats gzipped as .csv.gz... are read too)"
        )
    return kind, gz


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def reads_size(names: Sequence[str]) -> bool:
    """Whether the size of a call comes from a ``size`` column (no width or height column)."""
    return "size" in names and "width" not in names and "height" not in names


def defaulted(checked: Sequence[str], columns: Sequence[str]) -> pl.Expr:
    """Whether a checked row (of columns ``checked``) has none of its value of any of
    ``columns`` (e.g. width, height) and is priced at the default."""
    every_row = pl.col("_line").is_not_null()
    return reduce(
        or_,
        [pl.col(f"_{c}").is_null() if f"_{c}" in checked else every_row for c in columns],
    )


def unknown_columns(names: Sequence[str]) -> dict[str, str | None]:
    """The columns of a log (read by :func:`scan_log`) that are not read, each with the
    standard column it is likely meant to be (:func:`pricing._usage.column_hints.likely_column`:
    never one the log has), or None.

    ``n`` or ``size`` beside the standard column(s) they stand for are not read either: the
    standard column wins, and the hint names it.
    """
    aliases = [a for a, stands in LOG_ALIASES.items() if not set(stands) & set(names)]
    known = [*LOG_COLUMNS, *aliases]
    unknown: dict[str, str | None] = {}
    for name in names:
        if name in LOG_COLUMNS or (name == "size" and reads_size(names)):
            continue
        if name in LOG_ALIASES:
            unknown[name] = next((c for c in LOG_ALIASES[name] if c in names), None)
            continue
        unknown[name] = likely_column(name, names, known)
    return unknown


def quarantine_reason(messages: list[Message]) -> tuple[pl.Expr, pl.Expr]:
    """A quarantined row's reason and offending value (built only on quarantined rows)."""
    reason = pl.lit(None, dtype=pl.String)
    value = pl.lit(None, dtype=pl.String)
    for i, (text, bad) in reversed(list(enumerate(messages))):
        hit = pl.col("_bad") == i
        reason = pl.when(hit).then(text).otherwise(reason)
        value = pl.when(hit).then(bad if bad is not None else pl.lit(None)).otherwise(value)
    return reason, value
