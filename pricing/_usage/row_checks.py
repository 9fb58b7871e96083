"""Why a usage log row goes to the quarantine: the checks of each row, in order.

:func:`checked_log` types the standard columns of a log read by :func:`pricing._usage.log.
read_log` (``_ts``, ``_width``, ...) and marks each row that cannot be priced with the first
check it fails (``_bad``: the index of its message). Messages are fixed texts, so rows count
by reason. Numbers go through the number guard of :mod:`pricing._vector.guard`: the same
ranges as ``quote()`` and ``price_requests``, whatever the log's format.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from pricing._cards.catalog import Catalog
from pricing._cards.fields import OPERATIONS
from pricing._price.bounds import BOUNDS
from pricing._usage.distinct import Distinct
from pricing._usage.log import NUMERIC_COLUMNS, Message, reads_size
from pricing._vector.guard import (
    NOT_A_NUMBER,
    NOT_FINITE,
    NOT_WHOLE,
    TOO_LARGE,
    TOO_SMALL,
    Guarded,
    guarded,
)

#: A check: the index of its failing message in ``messages`` (null: the row passes), and the
#: messages.
Check = tuple[pl.Expr, list[Message]]
#: Columns that must hold a value when the log has them (a default applies only when it has
#: not).
_REQUIRED = ("width", "height", "count")


def _single(cond: pl.Expr, message: Message) -> Check:
    return pl.when(cond).then(pl.lit(0, dtype=pl.Int32)), [message]


def _text(name: str) -> pl.Expr:
    """A log column as the offending value of a quarantined row."""
    return pl.col(name).cast(pl.String).fill_null("(empty)")


def checked_log(
    lf: pl.LazyFrame, names: list[str], cat: Catalog, seen: Distinct | None = None
) -> tuple[pl.LazyFrame, list[Message]]:
    """Typed standard columns plus ``_bad``: null, or the index of the message (returned
    alongside) that says why the row cannot be read. ``lf`` has the log's columns ``names``;
    ``seen``, its distinct text values, answers once the text checks all rows pass alike."""
    seen = seen if seen is not None else Distinct.none()
    schema = lf.collect_schema()
    read = {n: guarded(n, pl.col(n), schema[n]) for n in NUMERIC_COLUMNS if n in names}
    if reads_size(names):
        text = _size_text()
        for i, name in ((1, "width"), (2, "height")):
            part = text.str.extract(r"^(\d+)\s*x\s*(\d+)$", i)
            read[name] = guarded(name, part, pl.String())
    parsed = [p for parts, _ in read.values() for p in parts]
    if parsed:  # each number read once, then checked
        lf = lf.with_columns(parsed)
    numbers = {n: g for n, (_, g) in read.items()}
    typed: list[pl.Expr] = [_timestamp(schema).alias("_ts")]
    typed += [g.value.alias(f"_{n}") for n, g in numbers.items()]
    typed += [g.problem.alias(f"_{n}_problem") for n, g in numbers.items()]
    texts = [
        seen.same(pl.col(name).cast(pl.String).str.strip_chars().alias(f"_{name}"), name)
        for name in ("provider", "model", "offer_id", "operation", "quality", "account")
        if name in names
    ]
    seen.add(texts)
    lf = lf.with_columns(typed + texts)

    checks: list[Check] = [
        _single(pl.col("_ts").is_null(), (pl.lit("unparseable timestamp"), _text("timestamp"))),
        *_identity_checks(names, cat, seen),
        *_number_checks(numbers, names),
        *_size_checks(names),
    ]
    codes: list[pl.Expr] = []
    messages: list[Message] = []
    for code, said in checks:
        codes.append(code + len(messages))
        messages += said
    helpers = [f"_{n}_problem" for n in numbers] + [p.meta.output_name() for p in parsed]
    return lf.with_columns(_bad=pl.coalesce(codes)).drop(helpers), messages


def _timestamp(schema: pl.Schema) -> pl.Expr:
    """The ``timestamp`` column in UTC microseconds; null where it cannot be read. Text is
    ISO 8601 (a date alone is midnight; no offset is UTC)."""
    dtype = schema["timestamp"]
    col = pl.col("timestamp")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return col.dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if dtype == pl.Date:
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if not (dtype == pl.String or dtype == pl.Categorical or isinstance(dtype, pl.Enum)):
        return pl.lit(None, dtype=pl.Datetime("us", "UTC"))  # a number is no time
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


def _identity_checks(names: list[str], cat: Catalog, seen: Distinct) -> list[Check]:
    """Checks that the row names an offer, or a provider and model, and an operation known to
    the catalog; and that a provider given beside an offer_id is that offer's."""
    models = sorted(cat.models)
    providers = sorted(cat.cards)
    provider_of = {o.id: cat.provider_of(o) for _, o in cat.all_offers()}
    checks: list[Check] = []
    given = pl.col("_offer_id").is_not_null() if "offer_id" in names else pl.lit(False)
    if "offer_id" in names:
        known = pl.col("_offer_id").is_in(list(provider_of))
        checks.append(_single(given & ~known, (pl.lit("unknown offer_id"), _text("offer_id"))))
        if "provider" in names:
            theirs = pl.col("_offer_id").replace_strict(
                provider_of, default=None, return_dtype=pl.String
            )
            clash = known & pl.col("_provider").is_not_null() & (pl.col("_provider") != theirs)
            value = pl.format("provider {} but offer_id {}", _text("provider"), _text("offer_id"))
            checks.append(_single(clash, (pl.lit("provider does not match offer_id"), value)))
    if "provider" in names:
        provider = pl.col("_provider")
        checks.append(_single(~given & provider.is_null(), (pl.lit("missing provider"), None)))
        unknown = ~given & provider.is_not_null() & ~provider.is_in(providers)
        checks.append(_single(unknown, (pl.lit("unknown provider"), _text("provider"))))
    if "model" in names:
        model = pl.col("_model")
        checks.append(_single(~given & model.is_null(), (pl.lit("missing model"), None)))
        unknown = model.is_not_null() & ~model.is_in(models)
        checks.append(_single(unknown, (pl.lit("unknown model"), _text("model"))))
    if "operation" in names:
        op = pl.col("_operation")
        unknown = op.is_not_null() & ~op.is_in(OPERATIONS)
        checks.append(_single(unknown, (pl.lit("unknown operation"), _text("operation"))))
    return [(seen.fold(cond), said) for cond, said in checks]


def _number_checks(numbers: dict[str, Guarded], names: list[str]) -> list[Check]:
    """Checks that each number of the log is in its range (:data:`BOUNDS`), and that the
    sizes and count, where the log has a column for them, are given."""
    checks: list[Check] = []
    for name, g in numbers.items():
        if name not in names:
            continue  # width and height from a size column: :func:`_size_checks`
        if name in _REQUIRED:
            checks.append(_single(g.blank, (pl.lit(f"missing {name}"), None)))
        said = _number_messages(name)  # one message per problem code 1, 2, ...: index code - 1
        index = pl.col(f"_{name}_problem").cast(pl.Int32) - 1
        checks.append((index, [(pl.lit(text), _text(name)) for text in said.values()]))
    return checks


def _number_messages(name: str) -> dict[int, str]:
    """What is wrong with a value of number column ``name``, by the guard's problem code."""
    bound = BOUNDS[name]
    unit = f" {bound.unit}" if bound.unit else ""
    small = "negative" if bound.least == 0 and not bound.above else "zero or negative"
    return {
        NOT_A_NUMBER: f"{name} is not a {'whole ' if bound.whole else ''}number",
        NOT_FINITE: f"{name} is not a finite number",
        NOT_WHOLE: f"{name} is not a whole number",
        TOO_SMALL: f"{small} {name}",
        TOO_LARGE: f"{name} is over {bound.most:,}{unit}",
    }


def _size_text() -> pl.Expr:
    return pl.col("size").cast(pl.String).str.strip_chars().str.to_lowercase()


def _size_checks(names: Sequence[str]) -> list[Check]:
    """Checks that a ``size`` read as width and height is "WIDTHxHEIGHT" of sizes in range
    [px], or "auto" or empty (the default size, counted by :func:`pricing._usage.log.
    defaulted`)."""
    if not reads_size(names):
        return []
    text = _size_text()
    unsized = text.is_null() | text.is_in(["", "auto"])
    either = pl.coalesce(pl.col("_width_problem"), pl.col("_height_problem"))
    unread = pl.col("_width").is_null() | pl.col("_height").is_null()
    return [
        _single(
            ~unsized & either.is_null() & unread,
            (pl.lit('size is not "WIDTHxHEIGHT" or "auto"'), _text("size")),
        ),
        _single(either == TOO_SMALL, (pl.lit("zero or negative size"), _text("size"))),
        _single(
            either == TOO_LARGE,
            (pl.lit(f"size is over {BOUNDS['width'].most:,} px a side"), _text("size")),
        ),
    ]
