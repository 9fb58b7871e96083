"""Which offer served each call of a usage log, and the log as a request table.

A log names an offer (``offer_id``) or a provider and model; :func:`prepare_log` resolves the
pair to the provider's one offer of the model (or the one ``offer_map`` names) and quarantines
the rows no single offer serves. :func:`log_requests` gives the readable rows as the request
table ``price_requests`` takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pricing._base.dates import month_window
from pricing._cards.catalog import Catalog, load_catalog
from pricing._usage.distinct import Distinct
from pricing._usage.log import NUMERIC_COLUMNS, Message, read_log
from pricing._usage.row_checks import checked_log
from pricing._vector.columns import REQUEST_COLUMNS
from pricing.errors import PricingError


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


@dataclass(frozen=True)
class PreparedLog:
    """A log read, checked and offer-resolved.

    ``resolved`` has the typed columns, ``_line``, ``_offer`` and ``_bad`` (null, or the index
    in ``messages`` of why the row goes to the quarantine); ``names`` are the log's columns,
    ``ambiguous`` the "provider/model" pairs with several offers (and what to do), and
    ``malformed`` the lines of a text log that are not rows (line, reason, value).
    """

    resolved: pl.LazyFrame
    messages: list[Message]
    names: list[str]
    ambiguous: dict[str, str]
    malformed: pl.DataFrame


def prepare_log(
    log: str | Path | pl.DataFrame | pl.LazyFrame,
    cat: Catalog,
    month: str | None,
    mapping: Mapping[str, str] | None,
    offer_map: Mapping[str, str] | None,
    spill: Path | None = None,
    distinct: bool = True,
) -> PreparedLog:
    """The checked, offer-resolved log (a text log's rows spilled to ``spill``, or held in
    memory when None). With ``distinct``, the log's distinct text values are read first
    (:class:`pricing._usage.distinct.Distinct`) so that checks every row passes alike are
    answered once; without, the log is only read when the result is."""
    read = read_log(log, mapping, spill)
    reread = distinct and not isinstance(log, pl.LazyFrame)  # a query's source is read once
    seen = Distinct.of(read.frame, read.names) if reread else Distinct.none()
    lowered = _providers_lower(read.frame, read.names, seen)
    checked, messages = checked_log(lowered, read.names, cat, seen)
    kept = [n for n in ("provider", "offer_id") if n in read.names]
    checked = checked.with_columns(pl.col(AS_READ + n).alias(n) for n in kept).drop(
        AS_READ + n for n in kept
    )
    if month is not None:
        start, end = month_window(month)
        day = pl.col("_ts").dt.date()
        checked = checked.filter(pl.col("_ts").is_null() | ((day >= start) & (day < end)))
    table, ambiguous = _offer_table(cat, offer_map)
    resolved, messages = _resolve(checked, messages, table, ambiguous, read.names, seen)
    return PreparedLog(resolved, messages, read.names, ambiguous, read.malformed)


#: Prefix of the copies of the provider and offer_id columns as the log spells them: the
#: checks read provider names in lower case, the quarantine shows the rows as read.
AS_READ = "_as_read_"


def _providers_lower(lf: pl.LazyFrame, names: list[str], seen: Distinct) -> pl.LazyFrame:
    """The log with its provider names in lower case, in ``provider`` and before the slash of
    ``offer_id`` ("BFL" is bfl: provider ids are lower case), and copies of both as read."""
    columns: list[pl.Expr] = []
    if "provider" in names:
        provider = pl.col("provider").cast(pl.String)
        lowered = (
            pl.when(provider.str.contains(f"^{_LOWER}*$"))
            .then(provider)
            .otherwise(provider.str.to_lowercase())
        )
        lowered = seen.same(lowered.alias("provider"), "provider")
        columns += [pl.col("provider").alias(AS_READ + "provider"), lowered]
    if "offer_id" in names:
        text = pl.col("offer_id").cast(pl.String)
        at = text.str.find("/", literal=True)
        head_lowered = text.str.head(at).str.to_lowercase() + text.str.slice(at)
        lowered = (
            pl.when(text.str.contains(f"^{_LOWER}*/"))
            .then(text)
            .when(at.is_not_null())
            .then(head_lowered)
            .otherwise(text)
        )
        lowered = seen.same(lowered.alias("offer_id"), "offer_id")
        columns += [pl.col("offer_id").alias(AS_READ + "offer_id"), lowered]
    seen.add(columns)
    return lf.with_columns(columns) if columns else lf


#: Characters that lower-casing leaves as they are: a name made of them only is lower case
#: already (the common case, checked by one anchored pattern rather than lower-cased per row).
_LOWER = r"[a-z0-9._\-]"


def log_requests(
    log: str | Path | pl.DataFrame | pl.LazyFrame,
    *,
    month: str | None = None,
    mapping: Mapping[str, str] | None = None,
    offer_map: Mapping[str, str] | None = None,
    catalog: Catalog | None = None,
) -> pl.LazyFrame:
    """The readable rows of a usage log as a request table for :func:`pricing.price_requests`.

    The same reading, checks and offer resolution as :func:`pricing.replay` (whose quarantine lists
    the rows left out here, and the lines of a text log that are not rows), lazily:
    ``price_requests(log_requests(path).collect())`` prices every call of the log one by one,
    e.g. for ``to_focus``. A CSV or NDJSON log is read into memory first, a line at a time.
    """
    cat = catalog if catalog is not None else load_catalog()
    prepared = prepare_log(log, cat, month, mapping, offer_map, distinct=False)
    good = prepared.resolved.filter(pl.col("_bad").is_null())
    return request_table(good, prepared.names)


def _resolve(
    checked: pl.LazyFrame,
    messages: list[Message],
    table: pl.DataFrame,
    ambiguous: dict[str, str],
    names: list[str],
    seen: Distinct,
) -> tuple[pl.LazyFrame, list[Message]]:
    """Add ``_offer`` from (provider, model), quarantining pairs no single offer serves."""
    given = pl.col("_offer_id").is_not_null() if "offer_id" in names else pl.lit(False)
    first = len(messages)
    if "provider" in names and "model" in names:
        pair_offer = _pair_offer(table).alias("_resolved")
        seen.add([pair_offer])
        lf = checked.with_columns(pair_offer)
        pair = pl.col("_provider") + "/" + pl.col("_model")
        ambiguity = pair.replace_strict(ambiguous or {"": ""}, default=None, return_dtype=pl.String)
        no_offer = pl.lit("the provider has no offer for the model")
        messages = [*messages, (pl.coalesce(ambiguity, no_offer), pair)]
        lf = lf.with_columns(
            _bad=pl.when(
                pl.col("_bad").is_null() & seen.fold(~given & pl.col("_resolved").is_null())
            )
            .then(pl.lit(first, dtype=pl.Int32))
            .otherwise(pl.col("_bad"))
        )
        offer = (
            seen.same(pl.coalesce(pl.col("_offer_id"), pl.col("_resolved")), "_offer_id")
            if "offer_id" in names
            else (pl.col("_resolved"))
        )
        return lf.with_columns(offer.alias("_offer")), messages
    messages = [*messages, (pl.lit("missing offer_id"), None)]
    lf = checked.with_columns(
        _bad=pl.when(pl.col("_bad").is_null() & seen.fold(~given))
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


def request_table(
    good: pl.LazyFrame, names: list[str], keep: Sequence[pl.Expr] = ()
) -> pl.LazyFrame:
    """The request table ``price_requests`` takes, from the checked log rows (and the
    columns ``keep`` beside its own)."""
    cols: list[pl.Expr] = [
        pl.col("_ts").alias("timestamp"),
        pl.col("_offer").alias("offer_id"),
    ]
    if "model" in names:
        cols.append(pl.col("_model").alias("model"))
    for name in ("operation", "quality", "account"):
        if name in names:
            cols.append(pl.col(f"_{name}").alias(name))
    typed = good.collect_schema().names()  # width and height may come from a size column
    for name in NUMERIC_COLUMNS:
        if f"_{name}" in typed:
            value = pl.col(f"_{name}")
            if name in ("width", "height"):  # null only where a size is "auto" or empty
                value = value.fill_null(REQUEST_COLUMNS[name][1])
            cols.append(value.alias(name))
    frame = good.select(*cols, *keep)
    fill = {"operation": "generate", "account": "default"}
    return frame.with_columns(
        [pl.col(n).fill_null(v) for n, v in fill.items() if n in frame.collect_schema().names()]
    )
