"""A usage log read and checked: its columns, and why a row goes to the quarantine.

A log is CSV, Parquet or NDJSON with one row per call (:data:`LOG_COLUMNS`). :func:`scan_log`
reads it lazily under the standard column names; :func:`checked_log` types the columns and
marks each row that cannot be read with the first check it fails, whose reason
(:func:`quarantine_reason`) is a fixed text so that rows count by reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from functools import reduce
from operator import or_
from pathlib import Path
from typing import Any

import polars as pl

from pricing._cards.catalog import Catalog
from pricing._cards.fields import OPERATIONS
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
#: Why a row is quarantined (a fixed text) and the offending value (or None).
Message = tuple[pl.Expr, pl.Expr | None]


def scan_log(
    log: str | Path | pl.DataFrame | pl.LazyFrame, mapping: Mapping[str, str] | None = None
) -> pl.LazyFrame:
    """The log as a LazyFrame with standard column names (``mapping``: log name -> standard).

    OpenAI's ``n`` is read as ``count`` when the log has no ``count`` column, and ``size`` is
    kept for :func:`checked_log` (see :data:`LOG_ALIASES`); other columns are kept as they are
    (:func:`unknown_columns` names them).
    CSV is read as text, so a malformed value reaches the quarantine rather than failing the
    whole read; Parquet and NDJSON keep their types.
    """
    lf = _scan(log)
    if mapping:
        names = lf.collect_schema().names()
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
        lf = lf.rename(dict(mapping))
    names = lf.collect_schema().names()
    if "n" in names and "count" not in names:
        lf = lf.rename({"n": "count"})  # OpenAI's name; read like a mapping
        names = lf.collect_schema().names()
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
    return lf


def _scan(log: str | Path | pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The log as it is, read lazily by its file's extension."""
    if isinstance(log, pl.DataFrame):
        return log.lazy()
    if isinstance(log, pl.LazyFrame):
        return log
    path = Path(log)
    if not path.exists():
        raise PricingError(f"usage log {path} does not exist")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix
    if suffix in (".csv", ".tsv", ".csv.gz"):
        return pl.scan_csv(path, infer_schema=False, separator="\t" if suffix == ".tsv" else ",")
    if suffix in (".parquet", ".pq"):
        return pl.scan_parquet(path)
    if suffix in (".ndjson", ".jsonl", ".json"):
        return pl.scan_ndjson(path, infer_schema_length=10_000)
    raise PricingError(f"cannot tell the format of {path.name}; name it .csv, .parquet or .ndjson")


def _timestamp(schema: pl.Schema) -> pl.Expr:
    dtype = schema["timestamp"]
    col = pl.col("timestamp")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return col.dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if dtype == pl.Date:
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    text = col.cast(pl.String).str.strip_chars().str.replace(r"[Zz]$", "+00:00")
    # ISO 8601 without seconds (10:00) reads as 10:00:00
    text = text.str.replace(
        r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})(?:([+-]\d{2}:\d{2})?)$", "${1}:00${2}"
    )
    aware = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_zone="UTC")
    aware_space = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%:z", strict=False, time_zone="UTC")
    naive = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False).dt.replace_time_zone("UTC")
    naive_space = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False).dt.replace_time_zone(
        "UTC"
    )
    day = (
        text.str.to_date("%Y-%m-%d", strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )
    return pl.coalesce(aware, aware_space, naive, naive_space, day).dt.cast_time_unit("us")


def _textual(dtype: pl.DataType) -> bool:
    return dtype == pl.String or dtype == pl.Categorical or isinstance(dtype, pl.Enum)


def _blank(name: str, schema: pl.Schema) -> pl.Expr:
    """Whether a log column is empty: null, or only spaces in a text column (a number
    column has no text to check, and writing every number as text is slow)."""
    raw = pl.col(name)
    if not _textual(schema[name]):
        return raw.is_null()
    return raw.is_null() | (raw.cast(pl.String).str.strip_chars() == "")


def _text(name: str) -> pl.Expr:
    """A log column as the offending value of a quarantined row."""
    return pl.col(name).cast(pl.String).fill_null("(empty)")


def checked_log(lf: pl.LazyFrame, cat: Catalog) -> tuple[pl.LazyFrame, list[Message]]:
    """Typed standard columns plus ``_line`` and ``_bad``: null, or the index of the message
    (returned alongside) that says why the row cannot be read."""
    schema = lf.collect_schema()
    names = schema.names()
    lf = lf.with_row_index("_line", offset=1)
    typed: list[pl.Expr] = [_timestamp(schema).alias("_ts")]
    for name, dtype in NUMERIC_COLUMNS.items():
        if name in names:
            typed.append(
                pl.col(name)
                .cast(pl.String)
                .str.strip_chars()
                .cast(dtype, strict=False)
                .alias(f"_{name}")
                if _textual(schema[name])
                else pl.col(name).cast(dtype, strict=False).alias(f"_{name}")
            )
    for name in ("provider", "model", "offer_id", "operation", "quality", "account"):
        if name in names:
            typed.append(pl.col(name).cast(pl.String).str.strip_chars().alias(f"_{name}"))
    if _reads_size(names):
        typed.extend(_size(i).alias(f"_{name}") for i, name in ((1, "width"), (2, "height")))
    lf = lf.with_columns(typed)

    checks: list[tuple[pl.Expr, Message]] = [
        (
            pl.col("_ts").is_null(),
            (pl.lit("unparseable timestamp"), _text("timestamp")),
        ),
        *_identity_checks(names, cat),
        *_number_checks(schema),
        *_size_checks(names),
    ]
    code: Any = pl.when(checks[0][0]).then(pl.lit(0, dtype=pl.Int32))
    for i, (cond, _) in enumerate(checks[1:], start=1):
        code = code.when(cond).then(pl.lit(i, dtype=pl.Int32))
    lf = lf.with_columns(_bad=code.otherwise(pl.lit(None, dtype=pl.Int32)))
    return lf, [message for _, message in checks]


def _identity_checks(names: list[str], cat: Catalog) -> list[tuple[pl.Expr, Message]]:
    """Checks that the row names an offer, or a provider and model, and an operation known to
    the catalog."""
    models = sorted(cat.models)
    providers = sorted(cat.cards)
    offers = [o.id for _, o in cat.all_offers()]
    checks: list[tuple[pl.Expr, Message]] = []
    if "offer_id" in names:
        given = pl.col("_offer_id").is_not_null()
        checks.append(
            (
                given & ~pl.col("_offer_id").is_in(offers),
                (pl.lit("unknown offer_id"), _text("offer_id")),
            )
        )
    else:
        given = pl.lit(False)
    if "provider" in names:
        checks.append((~given & pl.col("_provider").is_null(), (pl.lit("missing provider"), None)))
        checks.append(
            (
                ~given & pl.col("_provider").is_not_null() & ~pl.col("_provider").is_in(providers),
                (pl.lit("unknown provider"), _text("provider")),
            )
        )
    if "model" in names:
        checks.append((~given & pl.col("_model").is_null(), (pl.lit("missing model"), None)))
        checks.append(
            (
                pl.col("_model").is_not_null() & ~pl.col("_model").is_in(models),
                (pl.lit("unknown model"), _text("model")),
            )
        )
    if "operation" in names:
        checks.append(
            (
                pl.col("_operation").is_not_null() & ~pl.col("_operation").is_in(OPERATIONS),
                (pl.lit("unknown operation"), _text("operation")),
            )
        )
    return checks


def _number_checks(schema: pl.Schema) -> list[tuple[pl.Expr, Message]]:
    """Checks that sizes and counts are positive whole numbers, and other numbers readable and
    not negative."""
    names = schema.names()
    checks: list[tuple[pl.Expr, Message]] = []
    for name in ("width", "height", "count"):
        if name in names:
            value = pl.col(f"_{name}")
            checks.append((_blank(name, schema), (pl.lit(f"missing {name}"), None)))
            checks.append((value.is_null(), (pl.lit(f"{name} is not a whole number"), _text(name))))
            checks.append((value <= 0, (pl.lit(f"zero or negative {name}"), _text(name))))
    for name in ("steps", "input_images", "seconds", "prompt_tokens", "input_image_tokens"):
        if name in names:
            checks.append(
                (
                    ~_blank(name, schema) & pl.col(f"_{name}").is_null(),
                    (pl.lit(f"{name} is not a number"), _text(name)),
                )
            )
            checks.append((pl.col(f"_{name}") < 0, (pl.lit(f"negative {name}"), _text(name))))
    if "billed_cost" in names:
        checks.append(
            (
                ~_blank("billed_cost", schema) & pl.col("_billed_cost").is_null(),
                (pl.lit("billed_cost is not a number"), _text("billed_cost")),
            )
        )
    return checks


def _reads_size(names: Sequence[str]) -> bool:
    """Whether the size of a call comes from a ``size`` column (no width or height column)."""
    return "size" in names and "width" not in names and "height" not in names


def _size_text() -> pl.Expr:
    return pl.col("size").cast(pl.String).str.strip_chars().str.to_lowercase()


def _size(group: int) -> pl.Expr:
    """Width (``group`` 1) or height (2) [px] of a "WIDTHxHEIGHT" size; null otherwise."""
    pattern = r"^(\d+)\s*x\s*(\d+)$"
    return _size_text().str.extract(pattern, group).cast(pl.Int64, strict=False)


def _size_checks(names: Sequence[str]) -> list[tuple[pl.Expr, Message]]:
    """Checks that a ``size`` read as width and height is "WIDTHxHEIGHT" of positive sizes
    [px], or "auto" or empty (the default size, counted by :func:`defaulted`)."""
    if not _reads_size(names):
        return []
    text = _size_text()
    unsized = text.is_null() | text.is_in(["", "auto"])
    width, height = pl.col("_width"), pl.col("_height")
    return [
        (
            ~unsized & (width.is_null() | height.is_null()),
            (pl.lit('size is not "WIDTHxHEIGHT" or "auto"'), _text("size")),
        ),
        ((width <= 0) | (height <= 0), (pl.lit("zero or negative size"), _text("size"))),
    ]


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
    standard column it is likely meant to be, or None.

    ``n`` or ``size`` beside the standard column(s) they stand for are not read either: the
    standard column wins, and the hint names it.
    """
    known = [*LOG_COLUMNS, *LOG_ALIASES]
    unknown: dict[str, str | None] = {}
    for name in names:
        if name in LOG_COLUMNS or (name == "size" and _reads_size(names)):
            continue
        if name in LOG_ALIASES:
            unknown[name] = next((c for c in LOG_ALIASES[name] if c in names), None)
            continue
        close = difflib.get_close_matches(name.strip().lower(), known, n=1)
        unknown[name] = close[0] if close else None
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
