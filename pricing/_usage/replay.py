"""Replay a usage log: what it cost, what it would have cost elsewhere, and what was billed.

A log is CSV, Parquet or NDJSON with one row per call. Rows are checked first: a row with an
unreadable timestamp, a missing or non-positive size or count, an unknown provider, model or
operation goes to the quarantine table with its line number and reason. Nothing is dropped
silently: ``rows_read == rows_priced + rows_unpriced + rows_quarantined`` always holds.

Logs larger than memory are read lazily in batches (the streaming engine); only aggregates are
kept. When an offer in use has volume tiers, allowances, plans or a minimum spend, its running
monthly volume needs every row of a month at once, so such logs are replayed month by month.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from pricing._base.dates import DAY_US, month_window
from pricing._base.money import LEDGER_MONEY
from pricing._base.progress import Progress
from pricing._cards.catalog import Catalog, load_catalog
from pricing._cards.schema import OPERATIONS
from pricing._vector.compiled import compile_catalog, needs_volume
from pricing._vector.requests import price_requests
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
_NUMERIC = {
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


@dataclass(frozen=True)
class Replay:
    """What a usage log cost, re-priced elsewhere, reconciled, and what could not be read.

    Attributes
    ----------
    costs : DataFrame
        month, provider, model, operation, offer_id, currency, requests, images, cost
        [currency, Decimal], unpriced (rows left unpriced in the group).
    alternatives : DataFrame
        The same usage on each alternative offer, per month and model: month, model,
        offer_id, provider, currency, requests, images, cost, unpriced, actual_cost (what the
        rows priced on both cost as logged), saving (actual_cost - cost), saving_pct.
    reconciliation : DataFrame or None
        With a ``billed_cost`` column: month, provider, currency, billed and computed (on the
        rows_compared calls that have both a bill and a price), variance (billed - computed),
        variance_pct; billed_unpriced / rows_unpriced for billed calls no price applies to,
        and rows_unbilled for priced calls without a billed cost.
    quarantine : DataFrame
        Rows that could not be read: line (1-based data row), reason (a fixed text, so rows
        count by reason), value (the offending value, if one), then the log's columns as
        text.
    unpriced : DataFrame
        reason, rows: readable rows that no price applies to (never counted as 0).
    """

    costs: pl.DataFrame
    alternatives: pl.DataFrame
    reconciliation: pl.DataFrame | None
    quarantine: pl.DataFrame
    unpriced: pl.DataFrame
    rows_read: int
    rows_priced: int
    months: tuple[str, ...]
    source: str
    notes: tuple[str, ...] = field(default=())

    @property
    def rows_quarantined(self) -> int:
        return self.quarantine.height

    @property
    def rows_unpriced(self) -> int:
        return int(self.unpriced["rows"].sum()) if self.unpriced.height else 0

    @property
    def quarantine_counts(self) -> pl.DataFrame:
        """reason, rows: quarantined rows counted by reason, most frequent first."""
        return (
            self.quarantine.group_by("reason")
            .agg(rows=pl.len())
            .sort(["rows", "reason"], descending=[True, False])
        )

    def total(self) -> dict[str, Decimal]:
        """Exact total cost per currency: the sum of ``costs`` (unpriced calls excluded)."""
        priced = self.costs.filter(pl.col("cost").is_not_null())
        totals = priced.group_by("currency").agg(pl.col("cost").sum())
        return {row["currency"]: row["cost"] for row in totals.iter_rows(named=True)}

    def by(self, *keys: str) -> pl.DataFrame:
        """Cost summed by any of month, provider, model, operation, offer_id (and currency).

        A group none of whose calls has a price has a null cost, never 0.
        """
        group = [*keys, "currency"]
        cost = pl.col("cost")
        return (
            self.costs.group_by(group)
            .agg(
                pl.col("requests", "images", "unpriced").sum(),
                pl.when(cost.is_not_null().any()).then(cost.sum()).alias("cost"),
            )
            .sort(group, nulls_last=True)
        )


# --------------------------------------------------------------------------- reading


def scan_log(
    log: str | Path | pl.DataFrame | pl.LazyFrame, mapping: Mapping[str, str] | None = None
) -> pl.LazyFrame:
    """The log as a LazyFrame with standard column names (``mapping``: log name -> standard).

    CSV is read as text, so a malformed value reaches the quarantine rather than failing the
    whole read; Parquet and NDJSON keep their types.
    """
    if isinstance(log, pl.DataFrame):
        lf = log.lazy()
    elif isinstance(log, pl.LazyFrame):
        lf = log
    else:
        path = Path(log)
        if not path.exists():
            raise PricingError(f"usage log {path} does not exist")
        suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix
        if suffix in (".csv", ".tsv", ".csv.gz"):
            lf = pl.scan_csv(path, infer_schema=False, separator="\t" if suffix == ".tsv" else ",")
        elif suffix in (".parquet", ".pq"):
            lf = pl.scan_parquet(path)
        elif suffix in (".ndjson", ".jsonl", ".json"):
            lf = pl.scan_ndjson(path, infer_schema_length=10_000)
        else:
            raise PricingError(
                f"cannot tell the format of {path.name}; name it .csv, .parquet or .ndjson"
            )
    if mapping:
        names = lf.collect_schema().names()
        missing = [k for k in mapping if k not in names]
        if missing:
            raise PricingError(
                f"mapping names columns the log does not have: {', '.join(missing)}; "
                f"its columns are {', '.join(names)}"
            )
        unknown = [v for v in mapping.values() if v not in LOG_COLUMNS]
        if unknown:
            raise PricingError(
                f"mapping targets {', '.join(unknown)} are not log columns; "
                f"use {', '.join(LOG_COLUMNS)}"
            )
        lf = lf.rename(dict(mapping))
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


def _checked(lf: pl.LazyFrame, cat: Catalog) -> tuple[pl.LazyFrame, list[Message]]:
    """Typed standard columns plus ``_line`` and ``_bad``: null, or the index of the message
    (returned alongside) that says why the row cannot be read."""
    schema = lf.collect_schema()
    names = schema.names()
    lf = lf.with_row_index("_line", offset=1)
    typed: list[pl.Expr] = [_timestamp(schema).alias("_ts")]
    for name, dtype in _NUMERIC.items():
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
    lf = lf.with_columns(typed)

    models = sorted(cat.models)
    providers = sorted(cat.cards)
    offers = [o.id for _, o in cat.all_offers()]

    def text(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.String).fill_null("(empty)")

    checks: list[tuple[pl.Expr, Message]] = [
        (
            pl.col("_ts").is_null(),
            (pl.lit("unparseable timestamp"), text("timestamp")),
        )
    ]

    if "offer_id" in names:
        given = pl.col("_offer_id").is_not_null()
        checks.append(
            (
                given & ~pl.col("_offer_id").is_in(offers),
                (pl.lit("unknown offer_id"), text("offer_id")),
            )
        )
    else:
        given = pl.lit(False)
    if "provider" in names:
        checks.append((~given & pl.col("_provider").is_null(), (pl.lit("missing provider"), None)))
        checks.append(
            (
                ~given & pl.col("_provider").is_not_null() & ~pl.col("_provider").is_in(providers),
                (pl.lit("unknown provider"), text("provider")),
            )
        )
    if "model" in names:
        checks.append((~given & pl.col("_model").is_null(), (pl.lit("missing model"), None)))
        checks.append(
            (
                pl.col("_model").is_not_null() & ~pl.col("_model").is_in(models),
                (pl.lit("unknown model"), text("model")),
            )
        )
    if "operation" in names:
        checks.append(
            (
                pl.col("_operation").is_not_null() & ~pl.col("_operation").is_in(OPERATIONS),
                (pl.lit("unknown operation"), text("operation")),
            )
        )
    for name in ("width", "height", "count"):
        if name in names:
            value = pl.col(f"_{name}")
            checks.append((_blank(name, schema), (pl.lit(f"missing {name}"), None)))
            checks.append((value.is_null(), (pl.lit(f"{name} is not a whole number"), text(name))))
            checks.append((value <= 0, (pl.lit(f"zero or negative {name}"), text(name))))
    for name in ("steps", "input_images", "seconds", "prompt_tokens", "input_image_tokens"):
        if name in names:
            checks.append(
                (
                    ~_blank(name, schema) & pl.col(f"_{name}").is_null(),
                    (pl.lit(f"{name} is not a number"), text(name)),
                )
            )
            checks.append((pl.col(f"_{name}") < 0, (pl.lit(f"negative {name}"), text(name))))
    if "billed_cost" in names:
        checks.append(
            (
                ~_blank("billed_cost", schema) & pl.col("_billed_cost").is_null(),
                (pl.lit("billed_cost is not a number"), text("billed_cost")),
            )
        )
    code: Any = pl.when(checks[0][0]).then(pl.lit(0, dtype=pl.Int32))
    for i, (cond, _) in enumerate(checks[1:], start=1):
        code = code.when(cond).then(pl.lit(i, dtype=pl.Int32))
    lf = lf.with_columns(_bad=code.otherwise(pl.lit(None, dtype=pl.Int32)))
    return lf, [message for _, message in checks]


def _reason(messages: list[Message]) -> tuple[pl.Expr, pl.Expr]:
    """A quarantined row's reason and offending value (built only on quarantined rows)."""
    reason = pl.lit(None, dtype=pl.String)
    value = pl.lit(None, dtype=pl.String)
    for i, (text, bad) in reversed(list(enumerate(messages))):
        hit = pl.col("_bad") == i
        reason = pl.when(hit).then(text).otherwise(reason)
        value = pl.when(hit).then(bad if bad is not None else pl.lit(None)).otherwise(value)
    return reason, value


def _offer_table(
    cat: Catalog, offer_map: Mapping[str, str] | None
) -> tuple[pl.DataFrame, dict[str, str]]:
    """(provider, model) -> offer_id where unambiguous; and the ambiguity messages."""
    by_pair: dict[tuple[str, str], list[str]] = {}
    for card, o in cat.all_offers():
        by_pair.setdefault((card.provider, o.model), []).append(o.id)
    chosen: dict[tuple[str, str], str] = {}
    ambiguous: dict[str, str] = {}
    for (provider, model), ids in by_pair.items():
        key = f"{provider}/{model}"
        if offer_map and key in offer_map:
            chosen[(provider, model)] = offer_map[key]
        elif len(ids) == 1:
            chosen[(provider, model)] = ids[0]
        elif key in ids:
            chosen[(provider, model)] = key
        else:
            ambiguous[key] = (
                f"{provider} serves {model} as {', '.join(ids)}; add an offer_id column "
                f'or pass offer_map={{"{key}": "<offer id>"}}'
            )
    for key, target in (offer_map or {}).items():
        cat.offer(target)  # raises with hints for a wrong target
        if "/" not in key:
            raise PricingError(f'offer_map keys are "provider/model"; got {key!r}')
    frame = pl.DataFrame(
        {
            "_provider": [p for p, _ in chosen],
            "_model": [m for _, m in chosen],
            "_resolved": list(chosen.values()),
        },
        schema={"_provider": pl.String, "_model": pl.String, "_resolved": pl.String},
    )
    return frame, ambiguous


# --------------------------------------------------------------------------- replay


def replay(
    log: str | Path | pl.DataFrame | pl.LazyFrame,
    *,
    against: Sequence[str] | None = None,
    month: str | None = None,
    mapping: Mapping[str, str] | None = None,
    offer_map: Mapping[str, str] | None = None,
    catalog: Catalog | None = None,
    alternatives: bool = True,
    batch_rows: int = 1_000_000,
    progress: Progress | None = None,
) -> Replay:
    """Price a usage log as logged, on alternative offers, and against what was billed.

    Parameters
    ----------
    log : path or DataFrame/LazyFrame
        CSV, Parquet or NDJSON (by extension) with the columns of ``LOG_COLUMNS``.
    against : list of offer ids, optional
        Re-price every row on these offers, whatever model they serve (substitutes). Default:
        every offer that serves the row's model.
    month : "YYYY-MM", optional
        Replay only this calendar month (UTC).
    mapping : dict, optional
        Log column name -> standard name, e.g. ``{"ts": "timestamp", "vendor": "provider"}``.
    offer_map : dict, optional
        ``"provider/model"`` -> offer id, for providers with several offers of one model.
    alternatives : bool
        Set False to skip re-pricing (faster on very large logs).
    batch_rows : int
        Rows per batch when the log is streamed. Rows that need whole months (volume-priced
        offers) are spilled to a temporary directory (``TMPDIR``) and priced a month, or a
        group of its accounts of about this many rows, at a time.
    progress : callable(done, total, label), optional
        Called after each batch or month; the CLI draws a progress bar with it.
    """
    cat = catalog if catalog is not None else load_catalog()
    source = str(log) if isinstance(log, str | Path) else type(log).__name__
    if against is not None:
        for offer_id in against:
            cat.offer(offer_id)
    resolved, messages, names, ambiguous = _prepare(log, cat, month, mapping, offer_map)
    reason, value = _reason(messages)
    bad = resolved.filter(pl.col("_bad").is_not_null()).select(
        pl.col("_line").alias("line"),
        reason.alias("reason"),
        value.alias("value"),
        *[pl.col(n).cast(pl.String) for n in names],
    )
    good = resolved.filter(pl.col("_bad").is_null())
    requests = _requests(good, names)
    # rows per offer and day, and how many are bad, in one pass; the bad rows themselves in
    # a second only if there are any
    day = (pl.col("_ts").dt.cast_time_unit("us").to_physical() // DAY_US).alias("day")
    tally = (
        resolved.group_by(pl.col("_bad").is_not_null().alias("bad"), "_offer", day)
        .agg(rows=pl.len())
        .collect(engine="streaming")
    )
    quarantine = (
        bad.collect(engine="streaming")
        if tally["bad"].any()
        else pl.DataFrame(schema=bad.collect_schema())
    )
    counts = (
        tally.filter(~pl.col("bad"))
        .group_by(
            pl.col("_offer").alias("offer_id"),
            pl.col("day")
            .cast(pl.Int32)
            .cast(pl.Date)
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC")
            .dt.truncate("1mo")
            .alias("month"),
        )
        .agg(pl.col("rows").sum())
    )

    # Offers in use decide whether months must be replayed whole (running volumes).
    in_use = counts["offer_id"].unique()
    pairs = _alternative_pairs(cat, in_use, against) if alternatives else None
    month_offers = _month_offers(cat, set(in_use.to_list()), pairs, against)

    parts_costs: list[pl.DataFrame] = []
    parts_alt: list[pl.DataFrame] = []
    parts_unpriced: list[pl.DataFrame] = []
    parts_billed: list[pl.DataFrame] = []
    rows_read = quarantine.height
    for chunk, label, done, total in _chunks(requests, counts, month_offers, batch_rows):
        rows_read += chunk.height
        priced = price_requests(chunk, cat)
        # Kept as fresh copies: a batch's small aggregates must not pin its big buffers.
        parts_costs.append(_detached(_costs(priced)))
        parts_unpriced.append(_detached(_unpriced(priced)))
        if "billed_cost" in chunk.columns:
            parts_billed.append(_detached(_billed(priced)))
        if pairs is not None and chunk.height:
            parts_alt.append(
                _detached(_alternative_costs(chunk, priced, pairs, cat, against is not None))
            )
        if progress is not None:
            progress(done, total, label)

    costs = _sum(parts_costs, ["month", "provider", "model", "operation", "offer_id", "currency"])
    unpriced = _sum(parts_unpriced, ["reason"]).sort(["rows", "reason"], descending=[True, False])
    reconciliation = None
    if "billed_cost" in names:
        billed = _sum(parts_billed, ["month", "provider", "currency"])
        billed = billed.select(
            "month",
            "provider",
            "currency",
            "billed",
            "computed",
            "billed_unpriced",
            "rows_compared",
            "rows_unpriced",
            "rows_unbilled",
        )
        reconciliation = billed.with_columns(
            variance=pl.col("billed") - pl.col("computed"),
        ).with_columns(
            variance_pct=pl.when(pl.col("computed") != 0).then(
                pl.col("variance").cast(pl.Float64) / pl.col("computed").cast(pl.Float64) * 100
            )
        )
    alt = _alt_frame(parts_alt)
    months = tuple(sorted({m.strftime("%Y-%m") for m in costs["month"].to_list()}))
    rows_priced = int(costs["requests"].sum()) if costs.height else 0
    rows_priced -= int(costs["unpriced"].sum()) if costs.height else 0
    # the providers with several offers of one model that the log's quarantined rows name
    reasons = set(quarantine["reason"].unique().to_list()) if quarantine.height else set()
    hit = sorted(key for key, message in ambiguous.items() if message in reasons)
    notes = []
    if hit:
        notes.append(
            "providers with several offers of one model need an offer_id column or offer_map: "
            + "; ".join(hit)
        )
    return Replay(
        costs=costs,
        alternatives=alt,
        reconciliation=reconciliation,
        quarantine=quarantine,
        unpriced=unpriced,
        rows_read=rows_read,
        rows_priced=rows_priced,
        months=months,
        source=source,
        notes=tuple(notes),
    )


def _prepare(
    log: str | Path | pl.DataFrame | pl.LazyFrame,
    cat: Catalog,
    month: str | None,
    mapping: Mapping[str, str] | None,
    offer_map: Mapping[str, str] | None,
) -> tuple[pl.LazyFrame, list[Message], list[str], dict[str, str]]:
    """The checked, offer-resolved log (``_bad`` marks rows to quarantine)."""
    lf = scan_log(log, mapping)
    checked, messages = _checked(lf, cat)
    if month is not None:
        start, end = month_window(month)
        day = pl.col("_ts").dt.date()
        checked = checked.filter(pl.col("_ts").is_null() | ((day >= start) & (day < end)))
    names = lf.collect_schema().names()
    table, ambiguous = _offer_table(cat, offer_map)
    resolved, messages = _resolve(checked, messages, table, ambiguous, names)
    return resolved, messages, names, ambiguous


def log_requests(
    log: str | Path | pl.DataFrame | pl.LazyFrame,
    *,
    month: str | None = None,
    mapping: Mapping[str, str] | None = None,
    offer_map: Mapping[str, str] | None = None,
    catalog: Catalog | None = None,
) -> pl.LazyFrame:
    """The readable rows of a usage log as a request table for :func:`price_requests`.

    The same reading, checks and offer resolution as :func:`replay` (whose quarantine lists
    the rows left out here), lazily: ``price_requests(log_requests(path).collect())`` prices
    every call of the log one by one, e.g. for ``to_focus``.
    """
    cat = catalog if catalog is not None else load_catalog()
    resolved, _, names, _ = _prepare(log, cat, month, mapping, offer_map)
    return _requests(resolved.filter(pl.col("_bad").is_null()), names)


def _resolve(
    checked: pl.LazyFrame,
    messages: list[Message],
    table: pl.DataFrame,
    ambiguous: dict[str, str],
    names: list[str],
) -> tuple[pl.LazyFrame, list[Message]]:
    """Add ``_offer`` from (provider, model), quarantining pairs no single offer serves."""
    given = pl.col("_offer_id").is_not_null() if "offer_id" in names else pl.lit(False)
    first = len(messages)
    if "provider" in names and "model" in names:
        lf = checked.with_columns(_resolved=_pair_offer(table))
        pair = pl.col("_provider") + "/" + pl.col("_model")
        ambiguity = pair.replace_strict(ambiguous or {"": ""}, default=None, return_dtype=pl.String)
        no_offer = pl.lit("the provider has no offer for the model")
        messages = [*messages, (pl.coalesce(ambiguity, no_offer), pair)]
        lf = lf.with_columns(
            _bad=pl.when(pl.col("_bad").is_null() & ~given & pl.col("_resolved").is_null())
            .then(pl.lit(first, dtype=pl.Int32))
            .otherwise(pl.col("_bad"))
        )
        offer = (
            pl.coalesce(pl.col("_offer_id"), pl.col("_resolved"))
            if "offer_id" in names
            else (pl.col("_resolved"))
        )
        return lf.with_columns(_offer=offer), messages
    messages = [*messages, (pl.lit("missing offer_id"), None)]
    lf = checked.with_columns(
        _bad=pl.when(pl.col("_bad").is_null() & ~given)
        .then(pl.lit(first, dtype=pl.Int32))
        .otherwise(pl.col("_bad")),
        _offer=pl.col("_offer_id"),
    )
    return lf, messages


def _pair_offer(table: pl.DataFrame) -> pl.Expr:
    """Each row's offer from ``table`` (``_provider``, ``_model`` -> ``_resolved``), null
    where the pair has none: a lookup by the two names' positions in ``table``, which is
    much quicker than joining on two text columns."""
    if table.height == 0:
        return pl.lit(None, dtype=pl.String)
    providers = sorted(set(table["_provider"].to_list()))
    models = sorted(set(table["_model"].to_list()))
    at_p = {name: i for i, name in enumerate(providers)}
    at_m = {name: i for i, name in enumerate(models)}
    slots: list[str | None] = [None] * (len(providers) * len(models))
    for provider, model, offer in table.iter_rows():
        slots[at_p[provider] * len(models) + at_m[model]] = offer
    p = pl.col("_provider").cast(pl.Enum(providers), strict=False).to_physical().cast(pl.Int64)
    m = pl.col("_model").cast(pl.Enum(models), strict=False).to_physical().cast(pl.Int64)
    lookup = pl.Series(slots, dtype=pl.String)
    return pl.lit(lookup).gather((p * len(models) + m).cast(pl.UInt32))


def _requests(good: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
    """The request table ``price_requests`` takes, from the checked log rows."""
    cols: list[pl.Expr] = [
        pl.col("_ts").alias("timestamp"),
        pl.col("_offer").alias("offer_id"),
    ]
    if "model" in names:
        cols.append(pl.col("_model").alias("model"))
    for name in ("operation", "quality", "account"):
        if name in names:
            cols.append(pl.col(f"_{name}").alias(name))
    for name in _NUMERIC:
        if name in names:
            cols.append(pl.col(f"_{name}").alias(name))
    frame = good.select(cols)
    fill = {"operation": "generate", "account": "default"}
    return frame.with_columns(
        [pl.col(n).fill_null(v) for n, v in fill.items() if n in frame.collect_schema().names()]
    )


def _volume_offers(cat: Catalog) -> set[str]:
    """Offers whose price depends on the month's running volume (tiers, allowances, plans)."""
    return {
        offer.id
        for _, offer in cat.all_offers()
        for v in offer.versions
        if needs_volume(v) or v.minimum_monthly_spend is not None
    }


def _month_offers(
    cat: Catalog, in_use: set[str], pairs: pl.DataFrame | None, against: Sequence[str] | None
) -> set[str]:
    """Offers in use whose rows must be priced a whole month at a time.

    A row needs its whole month when its own offer, or an offer it is re-priced on, runs a
    monthly volume: tiers, allowances and plans depend on every earlier call of the month.
    """
    compiled = compile_catalog(cat)
    if not (compiled.needs_volume or compiled.has_minimum):
        return set()
    volume = _volume_offers(cat)
    model_of = {o.id: o.model for _, o in cat.all_offers()}
    if against is not None and volume & set(against):
        return set(in_use)
    whole = in_use & volume
    if pairs is not None:  # rows re-priced on a volume-priced offer of their model
        models = {m for m, alt in pairs.iter_rows() if alt in volume}
        whole |= {o for o in in_use if model_of.get(o) in models}
    return whole


def _batches(lf: pl.LazyFrame, size: int) -> Iterator[pl.DataFrame]:
    """Batches of a lazy query, produced no faster than they are consumed.

    ``collect_batches`` lets the streaming engine run ahead and queue every batch the consumer
    has not taken yet, so a slow consumer (pricing) holds the whole log in memory. Here the
    engine runs in a thread whose callback blocks on a one-slot queue: memory stays at about
    one batch in flight.
    """
    slot: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def hand_over(item: object) -> bool | None:
        while not stop.is_set():
            try:
                slot.put(item, timeout=0.1)
                return None
            except queue.Full:
                continue
        return True  # the consumer has gone: stop the query

    def run() -> None:
        try:
            lf.sink_batches(hand_over, chunk_size=size, engine="streaming")
            hand_over(done)
        except BaseException as exc:  # handed to the consumer, raised there
            hand_over(exc)

    worker = threading.Thread(target=run, name="replay-batches", daemon=True)
    worker.start()
    try:
        while True:
            item = slot.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, pl.DataFrame)
            yield item
    finally:
        stop.set()
        worker.join()


def _chunks(
    requests: pl.LazyFrame, counts: pl.DataFrame, month_offers: set[str], batch_rows: int
) -> Iterator[tuple[pl.DataFrame, str, int, int]]:
    """Batches of rows streamed from the log, then whole calendar months of the rows whose
    offers run monthly volumes (``month_offers``); ``counts`` has the rows per offer and
    month.

    A month's running volumes are per account, so a month of more than ``batch_rows`` such
    rows is split into buckets of accounts (by hash). The one streaming pass that hands out
    the other rows spills every (month, bucket) to its own Parquet files in a temporary
    directory (removed afterwards), read back one at a time afterwards: the log is scanned
    once, not once per bucket, and the spill holds those rows on disk, compressed.
    """
    total = int(counts["rows"].sum())
    done = 0
    sizes = (
        counts.filter(pl.col("offer_id").is_in(sorted(month_offers)))
        .group_by("month")
        .agg(pl.col("rows").sum())
        .sort("month")
    )
    has_account = "account" in requests.collect_schema().names()
    buckets = [max(1, -(-n // batch_rows)) if has_account else 1 for n in sizes["rows"]]
    first = [sum(buckets[:i]) for i in range(len(buckets))]  # each month's first bucket
    starts = sizes["month"]
    # the bucket of each row of a month offer (null for the other rows): when/then on
    # scalars, not replace_strict on a Series, which the streaming engine would answer by
    # holding every row; months compared as microsecond ranges, not truncated per row
    whole = pl.col("offer_id").is_in(sorted(month_offers))
    us = pl.col("timestamp").dt.cast_time_unit("us").to_physical()
    part = pl.lit(None, dtype=pl.Int64)
    for start, b0, nb in zip(starts, first, buckets, strict=True):
        slot = pl.lit(b0, dtype=pl.Int64)
        if nb > 1:
            slot = slot + (pl.col("account").hash(11) % nb).cast(pl.Int64)
        lo, hi = _micros(start), _micros(_next_month(start))
        part = pl.when((us >= lo) & (us < hi)).then(slot).otherwise(part)
    marked = requests.with_columns(_part=pl.when(whole).then(part)) if month_offers else requests
    with tempfile.TemporaryDirectory(prefix="pricing-replay-") as tmp:
        spill = Path(tmp)
        for n, batch in enumerate(_batches(marked, batch_rows)):
            if month_offers:
                held = batch.filter(pl.col("_part").is_not_null())
                for (key,), piece in held.partition_by("_part", as_dict=True).items():
                    (spill / str(key)).mkdir(exist_ok=True)
                    piece.drop("_part").write_parquet(spill / str(key) / f"{n:06d}.parquet")
                batch = batch.filter(pl.col("_part").is_null()).drop("_part")
            if batch.height:
                done += batch.height
                yield batch, "rows", done, total
        batch = pl.DataFrame()  # not held while the months are read back
        for start, b0, nb in zip(starts, first, buckets, strict=True):
            for b in range(b0, b0 + nb):
                files = sorted((spill / str(b)).glob("*.parquet"))
                if not files:  # no account hashed to this bucket
                    continue
                chunk = pl.read_parquet(files)
                done += chunk.height
                yield chunk, start.strftime("%Y-%m"), done, total
    if total == 0:
        yield requests.collect(), "rows", 0, 0


def _micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _next_month(moment: datetime) -> datetime:
    return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)


def _detached(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of a small frame that shares no memory with the batch it was computed from."""
    return pl.DataFrame(frame.rows(), schema=frame.schema, orient="row")


def _money(expr: pl.Expr) -> pl.Expr:
    return expr.round(10).cast(LEDGER_MONEY)


def _costs(priced: pl.DataFrame) -> pl.DataFrame:
    """Requests, images and cost by month, provider, model, operation, offer and currency.

    Summed by day first (``priced_on`` is the row's UTC day, as replay gives no as_of), on
    the categorical columns as they are: cheaper keys than a month and strings per row.
    """
    keys = ["provider", "model", "operation", "offer_id", "currency"]
    texts = [pl.col(k).cast(pl.String) for k in keys]
    return (
        priced.lazy()
        .group_by("priced_on", *keys)
        .agg(
            requests=pl.len(),
            images=pl.col("count").filter(pl.col("reason").is_null()).sum(),
            cost=_sum_priced(pl.col("cost")),
            unpriced=pl.col("reason").is_not_null().sum(),
        )
        .group_by(pl.col("priced_on").dt.truncate("1mo").alias("month"), *texts)
        .agg(
            pl.col("requests", "images", "unpriced").sum(),
            cost=pl.when(pl.col("cost").is_not_null().any()).then(pl.col("cost").sum()),
        )
        .select("month", *keys, "requests", "images", "cost", "unpriced")
        .collect()
    )


def _sum_priced(cost: pl.Expr) -> pl.Expr:
    """Exact sum of the priced rows; null (never 0) when no row of the group has a price."""
    return pl.when(cost.is_not_null().any()).then(_money(cost).sum())


def _unpriced(priced: pl.DataFrame) -> pl.DataFrame:
    return (
        priced.lazy()
        .select(pl.col("reason").drop_nulls().cast(pl.String))
        .group_by("reason")
        .agg(rows=pl.len())
        .collect()
    )


def _billed(priced: pl.DataFrame) -> pl.DataFrame:
    """Billed against computed on the calls that have both; the others counted apart.

    Summed by day first, on the categorical columns as they are (as :func:`_costs`)."""
    has_price = pl.col("reason").is_null()
    has_bill = pl.col("billed_cost").is_not_null()
    both = has_price & has_bill
    sums = [
        "billed",
        "computed",
        "billed_unpriced",
        "rows_compared",
        "rows_unpriced",
        "rows_unbilled",
    ]
    return (
        priced.lazy()
        .group_by("priced_on", "provider")
        .agg(
            currency=pl.col("currency").drop_nulls().first(),
            billed=_money(pl.col("billed_cost").filter(both)).sum(),
            computed=_money(pl.col("cost").filter(both)).sum(),
            billed_unpriced=_money(pl.col("billed_cost").filter(~has_price)).sum(),
            rows_compared=both.sum(),
            rows_unpriced=(~has_price).sum(),
            rows_unbilled=(has_price & ~has_bill).sum(),
        )
        .sort("priced_on")
        .group_by(
            pl.col("priced_on").dt.truncate("1mo").alias("month"),
            pl.col("provider").cast(pl.String),
        )
        .agg(pl.col("currency").drop_nulls().first().cast(pl.String), pl.col(sums).sum())
        .collect()
    )


def _alternative_pairs(
    cat: Catalog, in_use: pl.Series, against: Sequence[str] | None
) -> pl.DataFrame:
    """(model, alt_offer) pairs to re-price on, for the models of the offers ``in_use``."""
    model_of = {o.id: o.model for _, o in cat.all_offers()}
    used_models = sorted({model_of[o] for o in in_use.to_list() if o in model_of})
    rows: list[tuple[str, str]] = []
    for m in used_models:
        targets = list(against) if against is not None else [o.id for o in cat.offers(model=m)]
        rows += [(m, t) for t in targets]
    return pl.DataFrame(rows, schema={"_model": pl.String, "alt_offer": pl.String}, orient="row")


def _alternative_costs(
    chunk: pl.DataFrame, priced: pl.DataFrame, pairs: pl.DataFrame, cat: Catalog, substitute: bool
) -> pl.DataFrame:
    """The chunk's rows re-priced on each alternative offer of their model (``pairs``),
    summed by month, model, offer, provider and currency, beside what the same rows cost as
    logged (``priced``).

    The alternatives are priced a group of offers at a time, each group up to about twice
    the chunk's rows (every row of an offer in one group: its running volumes need them
    all), so that memory follows the chunk, not the chunk times the alternatives; fewer,
    bigger groups would save little time (a call has a fixed cost of about 50 ms). Offers
    and models are coded as enums, each re-priced row takes its logged cost by position,
    and sums run by day on the coded keys before months and text.
    """
    offers = [o for _, o in cat.all_offers()]
    offer_type = pl.Enum([o.id for o in offers])
    model_type = pl.Enum(sorted({o.model for o in offers}))
    model_of = pl.Series([o.model for o in offers], dtype=model_type)  # by offer position
    code = pl.col("offer_id").cast(offer_type, strict=False).to_physical()
    rows = chunk.with_columns(
        _row=pl.int_range(pl.len(), dtype=pl.UInt32),
        _model=pl.lit(model_of).gather(code),
    ).drop("offer_id")
    if substitute:
        rows = rows.drop("model", strict=False)
    by_model = {m: part for (m,), part in rows.partition_by("_model", as_dict=True).items()}
    serves: dict[str, list[str]] = {}  # alternative offer -> the models it re-prices
    for model, alt in pairs.iter_rows():
        if model in by_model:
            serves.setdefault(alt, []).append(model)
    groups: list[list[str]] = [[]]
    size = 0
    for alt, models in serves.items():
        n = sum(by_model[m].height for m in models)
        if groups[-1] and size + n > 2 * max(chunk.height, 1):  # see the docstring
            groups.append([])
            size = 0
        groups[-1].append(alt)
        size += n
    sums = [
        _alternative_sums(
            pl.concat(
                [
                    by_model[m].with_columns(offer_id=pl.lit(alt, dtype=offer_type))
                    for alt in group
                    for m in serves[alt]
                ]
            ),
            priced["cost"],
            cat,
        )
        for group in groups
        if group
    ]
    if not sums:  # nothing to re-price: the sums of no rows, in their types
        none = rows.clear().with_columns(offer_id=pl.lit(None, dtype=offer_type))
        return _alternative_sums(none, priced["cost"], cat)
    return pl.concat(sums)


def _alternative_sums(long: pl.DataFrame, actual: pl.Series, cat: Catalog) -> pl.DataFrame:
    """``long`` (rows with an alternative ``offer_id``, ``_model`` and ``_row``, their
    position in the chunk) re-priced and summed, beside their ``actual`` logged costs."""
    again = price_requests(long, cat)
    both = pl.col("reason").is_null() & pl.col("_actual").is_not_null()
    keys = ["_model", "offer_id", "provider", "currency"]
    return (
        again.lazy()
        .with_columns(_actual=pl.lit(actual).gather(pl.col("_row")))
        .group_by("priced_on", *keys)
        .agg(
            requests=pl.len(),
            images=pl.col("count").filter(pl.col("reason").is_null()).sum(),
            cost=_sum_priced(pl.col("cost")),
            unpriced=pl.col("reason").is_not_null().sum(),
            actual_cost=_money(pl.col("_actual").filter(both)).sum(),
            alt_cost_same_rows=_money(pl.col("cost").filter(both)).sum(),
        )
        .group_by(
            pl.col("priced_on").dt.truncate("1mo").alias("month"),
            pl.col("_model").cast(pl.String).alias("model"),
            *[pl.col(k).cast(pl.String) for k in keys[1:]],
        )
        .agg(
            pl.col("requests", "images", "unpriced", "actual_cost", "alt_cost_same_rows").sum(),
            cost=pl.when(pl.col("cost").is_not_null().any()).then(pl.col("cost").sum()),
        )
        .collect()
    )


def _sum(parts: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    if not parts:
        return _EMPTY.get(tuple(keys), pl.DataFrame())
    frame = pl.concat(parts, how="vertical_relaxed")
    sums = [
        pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).alias(c)
        if frame.schema[c] == LEDGER_MONEY
        else pl.col(c).sum()
        for c in frame.columns
        if c not in keys
    ]
    return frame.group_by(keys).agg(sums).sort(keys, nulls_last=True)


def _alt_frame(parts: list[pl.DataFrame]) -> pl.DataFrame:
    keys = ["month", "model", "offer_id", "provider", "currency"]
    if not parts:
        return pl.DataFrame(schema=_ALT_SCHEMA)
    frame = _sum(parts, keys)
    saving = pl.col("actual_cost") - pl.col("alt_cost_same_rows")
    return frame.with_columns(
        saving=saving,
        saving_pct=pl.when(pl.col("actual_cost") != 0).then(
            saving.cast(pl.Float64) / pl.col("actual_cost").cast(pl.Float64) * 100
        ),
    ).sort(["month", "model", "cost", "offer_id"], nulls_last=True)


_ALT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "month": pl.Date,
    "model": pl.String,
    "offer_id": pl.String,
    "provider": pl.String,
    "currency": pl.String,
    "requests": pl.UInt32,
    "images": pl.Int64,
    "cost": LEDGER_MONEY,
    "unpriced": pl.UInt32,
    "actual_cost": LEDGER_MONEY,
    "alt_cost_same_rows": LEDGER_MONEY,
    "saving": LEDGER_MONEY,
    "saving_pct": pl.Float64,
}
_EMPTY: dict[tuple[str, ...], pl.DataFrame] = {
    ("month", "provider", "model", "operation", "offer_id", "currency"): pl.DataFrame(
        schema={
            "month": pl.Date,
            "provider": pl.String,
            "model": pl.String,
            "operation": pl.String,
            "offer_id": pl.String,
            "currency": pl.String,
            "requests": pl.UInt32,
            "images": pl.Int64,
            "cost": LEDGER_MONEY,
            "unpriced": pl.UInt32,
        }
    ),
    ("reason",): pl.DataFrame(schema={"reason": pl.String, "rows": pl.UInt32}),
    ("month", "provider", "currency"): pl.DataFrame(
        schema={
            "month": pl.Date,
            "provider": pl.String,
            "currency": pl.String,
            "billed": LEDGER_MONEY,
            "computed": LEDGER_MONEY,
            "billed_unpriced": LEDGER_MONEY,
            "rows_compared": pl.UInt32,
            "rows_unpriced": pl.UInt32,
            "rows_unbilled": pl.UInt32,
        }
    ),
}
